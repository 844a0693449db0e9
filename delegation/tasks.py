"""Celery tasks of the delegation sync: thin, they take ids and call one service."""

from __future__ import annotations

from celery import shared_task

from delegation import sync, sync_shards


@shared_task(name="delegation.tasks.scheduled_sync", ignore_result=True)
def scheduled_sync() -> str:
    """Beat's entry point (portal/celery.py): queue a run unless one is already going."""
    try:
        run = sync.request_sync(trigger="schedule")
    except sync.SyncAlreadyRunning as exc:
        return f"sync #{exc.run.pk} is already running"
    return f"queued sync #{run.pk}"


@shared_task(name="delegation.tasks.run_sync", ignore_result=True)
def run_sync(run_id: int) -> None:
    sync.run_sync(run_id)


@shared_task(name="delegation.tasks.fetch_shard")
def fetch_shard(run_id: int, object_ids: list[str]) -> dict:
    return sync_shards.fetch_shard(run_id, object_ids)


@shared_task(name="delegation.tasks.apply_shards", ignore_result=True)
def apply_shards(results: list[dict], run_id: int) -> None:
    sync_shards.apply_shards(run_id, results)
