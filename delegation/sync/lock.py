"""Only one sync at a time, and a lock that a crashed worker cannot hold forever.

The lock is the SyncRun row itself: a run that is queued or running holds it while its
heartbeat is younger than SYNC_LOCK_TTL_SECONDS. Taking it is serialised on one SyncCursor row
(select_for_update on PostgreSQL; SQLite's IMMEDIATE transactions serialise every writer).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from delegation.models import SyncCursor, SyncRun

LOCK_ROW = "sync-lock"


class SyncAlreadyRunning(Exception):
    """Another sync holds the lock; `.run` is that run."""

    def __init__(self, run: SyncRun):
        super().__init__(f"sync #{run.pk} is already {run.status}")
        self.run = run


class LockLost(Exception):
    """This run no longer holds the lock (it was declared stale); it must change nothing."""


def _stale_before():
    return timezone.now() - timedelta(seconds=settings.SYNC_LOCK_TTL_SECONDS)


def expire_stale_runs() -> int:
    """Fail live runs whose worker stopped beating: they changed nothing, and free the lock."""
    return SyncRun.objects.filter(
        status__in=SyncRun.ACTIVE_STATUSES, heartbeat_at__lt=_stale_before()
    ).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error=(
            f"Abandoned: no heartbeat for {settings.SYNC_LOCK_TTL_SECONDS} s (the worker "
            "stopped). Nothing was changed."
        ),
    )


def claim_new_run(*, trigger: str, user=None) -> SyncRun:
    """A new queued run holding the lock, or SyncAlreadyRunning."""
    with transaction.atomic():
        SyncCursor.objects.get_or_create(name=LOCK_ROW)
        SyncCursor.objects.select_for_update().get(name=LOCK_ROW)
        expire_stale_runs()
        live = (
            SyncRun.objects.filter(status__in=SyncRun.ACTIVE_STATUSES)
            .order_by("created_at")
            .first()
        )
        if live is not None:
            raise SyncAlreadyRunning(live)
        return SyncRun.objects.create(
            trigger=trigger,
            triggered_by=user if getattr(user, "pk", None) else None,
            status=SyncRun.Status.QUEUED,
            heartbeat_at=timezone.now(),
        )


def start(run_id: int) -> bool:
    """Queued -> running, once: a redelivered task finds the run taken and does nothing."""
    now = timezone.now()
    return bool(
        SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).update(
            status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now
        )
    )


def beat(run_id: int, **progress) -> bool:
    """Heartbeat and progress; False when the run is no longer running (lock lost)."""
    return bool(
        SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.RUNNING).update(
            heartbeat_at=timezone.now(), **progress
        )
    )


def fail(run_id: int, error: str, **figures) -> bool:
    """Running/queued -> failed, with a readable reason. Changes nothing else."""
    return bool(
        SyncRun.objects.filter(pk=run_id, status__in=SyncRun.ACTIVE_STATUSES).update(
            status=SyncRun.Status.FAILED,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            error=error[:4000],
            **figures,
        )
    )
