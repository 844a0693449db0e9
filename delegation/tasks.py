"""Celery tasks of the delegation sync: thin adapters that take ids and call one service.

Services never import this module: they queue these tasks by name (portal.queue).
"""

from __future__ import annotations

from celery import shared_task

from delegation.sync import service, shards
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


@shared_task(name="delegation.tasks.fetch_shard")
def fetch_shard(run_id: int, object_ids: list[str]) -> dict:
    return shards.fetch_shard(run_id, object_ids)


@shared_task(name="delegation.tasks.apply_shards", ignore_result=True)
def apply_shards(results: list[dict], run_id: int) -> None:
    shards.apply_shards(run_id, results)
