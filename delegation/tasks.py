"""Celery tasks of the delegation sync: thin adapters that take ids and call one service.

Services never import this module: they queue these tasks by name (portal.queue).
"""

from __future__ import annotations

from celery import shared_task

from delegation.sync import managers, service, shards
from delegation.sync.lock import SyncAlreadyRunning


@shared_task(name="delegation.tasks.scheduled_sync", ignore_result=True)
def scheduled_sync() -> str:
    """Beat's entry point (portal/celery.py): queue a run unless one is already going."""
    try:
        run = service.request_sync(trigger="schedule")
    except SyncAlreadyRunning as exc:
        return f"sync #{exc.run.pk} is already running"
    return f"queued sync #{run.pk}"


@shared_task(name="delegation.tasks.run_sync", ignore_result=True)
def run_sync(run_id: int) -> None:
    service.run_sync(run_id)


@shared_task(name="delegation.tasks.fetch_shard", ignore_result=True)
def fetch_shard(run_id: int, number: int, object_ids: list[str]) -> None:
    shards.fetch_shard(run_id, number, object_ids)


@shared_task(name="delegation.tasks.apply_staged", ignore_result=True)
def apply_staged(run_id: int) -> None:
    service.apply_staged(run_id)


@shared_task(name="delegation.tasks.refresh_managers", ignore_result=True)
def refresh_managers() -> dict:
    """After a sync that listed everyone, and weekly (beat): everyone's manager, apart from the
    sync (sync/managers.py)."""
    return managers.refresh_managers()
