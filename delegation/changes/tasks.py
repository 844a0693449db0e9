"""Celery tasks of delegation changes: thin adapters that take ids and call one service.

Services never import this module: they queue these tasks by name (portal.queue.enqueue).
"""

from __future__ import annotations

from celery import shared_task

from delegation.changes.services import apply, batch, due, verify


@shared_task(name="delegation.changes.tasks.apply_change", ignore_result=True)
def apply_change(request_id: int) -> None:
    apply.apply_change(request_id)


@shared_task(name="delegation.changes.tasks.run_batch", ignore_result=True)
def run_batch(batch_id: int) -> None:
    batch.run_batch(batch_id)


@shared_task(name="delegation.changes.tasks.changes_due", ignore_result=True)
def changes_due() -> dict:
    """Beat's entry point (settings.CELERY_BEAT_SCHEDULE): end due grants, retry waiting ones."""
    return due.changes_due()


@shared_task(name="delegation.changes.tasks.reverify_after_sync", ignore_result=True)
def reverify_after_sync(run_id: int) -> dict:
    """Queued by the sync once a run has written the cache (delegation.sync.outcome)."""
    return verify.reverify_after_sync(run_id)
