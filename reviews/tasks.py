"""Thin Celery adapters for review campaigns."""

from __future__ import annotations

from celery import shared_task

from reviews.services import remind


@shared_task(name="reviews.tasks.send_reminders")
def send_reminders() -> int:
    return remind.send_reminders()
