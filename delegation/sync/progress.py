"""A run's progress and heartbeat, written as it goes, outside any transaction (a page polls
them). The coordinator and each shard add the people they have read to one counter."""

from __future__ import annotations

import time

from django.db.models import F

from delegation.sync import lock

PROGRESS_EVERY_SECONDS = 1.0


class Progress:
    """At most once a second (or when forced): add the people read since the last write, set
    the total when this process knows it; stops the run (LockLost) when it lost the lock."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.total: int | None = None  # the coordinator sets it; shards leave it alone
        self.written_done = 0
        self.last = 0.0

    def __call__(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        figures = {"progress_done": F("progress_done") + (done - self.written_done)}
        if self.total is not None:
            figures["progress_total"] = self.total
        alive = lock.beat(self.run_id, **figures)
        self.written_done = done
        if not alive:
            raise lock.LockLost(f"sync #{self.run_id} no longer holds the lock")
