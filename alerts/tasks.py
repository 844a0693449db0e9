"""Thin Celery adapters: evaluate a run (queued when the sync says it is applied), send one
delivery, and the beat round over deliveries that wait for another attempt."""

from __future__ import annotations

from celery import shared_task

from alerts import deliveries, evaluate


@shared_task(name="alerts.tasks.evaluate_run", ignore_result=True)
def evaluate_run(run_id: int, drifted: list[int] | None = None) -> int | None:
    digest = evaluate.evaluate_run(run_id, drifted or [])
    return digest.pk if digest else None


@shared_task(name="alerts.tasks.deliver", ignore_result=True)
def deliver(delivery_id: int) -> None:
    deliveries.attempt(delivery_id)


@shared_task(name="alerts.tasks.deliveries_due", ignore_result=True)
def deliveries_due() -> list[int]:
    return deliveries.deliveries_due()
