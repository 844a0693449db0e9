"""Thin Celery adapters for review campaigns."""

from __future__ import annotations

from celery import shared_task

from reviews.services import close, remind


@shared_task(name="reviews.tasks.send_reminders")
def send_reminders() -> int:
    return remind.send_reminders()


@shared_task(name="reviews.tasks.close_overdue")
def close_overdue() -> int:
    return close.close_overdue()


@shared_task(name="reviews.tasks.request_removals", ignore_result=True)
def request_removals(campaign_id: int, actor_id: int | None) -> None:
    close.request_removals_by_id(campaign_id, actor_id)
