"""Whose delegates a run reads, and which process reads them.

A delegation can only exist where the delegator has Teams Phone (the delegation cmdlets require
it), so a run reads the delegates of the people whose licence works, plus everyone holding
delegation rows in the cache now: a licence removed still shows its grants' removal. A full
sweep reads everyone: the first run, whenever the last full sweep is older than
SYNC_FULL_SWEEP_DAYS (0: every run), when the cache is empty, and when asked for.

The people to read go to the coordinator's own fetcher, or, past SYNC_SHARD_THRESHOLD, in shards
of SYNC_SHARD_SIZE to the workers, each sent as soon as it is full.
"""

from __future__ import annotations

import queue
import sys
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from delegation.models import Delegation, DirectoryUser, SyncRun
from delegation.sync import shards
from portal.graph.delegations import END
from portal.graph.directory import PERSON_FIELDS

VOICE = PERSON_FIELDS.index("voiceEnabled")  # its place in a person tuple


def sweep_for_this_run(*, full_sweep: bool = False) -> str:
    everyone, voice = SyncRun.Sweep.EVERYONE, SyncRun.Sweep.VOICE
    days = settings.SYNC_FULL_SWEEP_DAYS
    # An empty cache knows no current delegators: a delegator who lost the licence would be
    # missed (the first run, or a cache emptied since).
    if full_sweep or days <= 0 or not DirectoryUser.objects.filter(in_directory=True).exists():
        return everyone
    recent = SyncRun.objects.filter(
        sweep=everyone,
        status__in=SyncRun.READ_OK_STATUSES,
        finished_at__gte=timezone.now() - timedelta(days=days),
    )
    return voice if recent.exists() else everyone


def delegators_in_directory() -> QuerySet[DirectoryUser]:
    """Everyone in the directory who holds delegation rows in the cache as a delegator (a person
    only a change request knows is not asked for: Graph has no such user). People who hold a
    row, not the rows' distinct delegators: one index probe per person instead of a join and a
    DISTINCT over every grant (30 ms instead of 75-87 ms at 20k people and 66k grants)."""
    holds = Delegation.objects.filter(delegator=OuterRef("pk"))
    people = DirectoryUser.objects.filter(in_directory=True, removed_at__isnull=True)
    return people.filter(Exists(holds))


def current_delegators() -> set[str]:
    """Object ids of delegators_in_directory(); the run's first batch waits for them."""
    ids = delegators_in_directory().values_list("object_id", flat=True)
    return {sys.intern(object_id) for object_id in ids.iterator(chunk_size=5000)}


class Wanted:
    """Whether a person's delegates are read this run."""

    def __init__(self, sweep: str):
        self.everyone = sweep == SyncRun.Sweep.EVERYONE
        self.delegators = set() if self.everyone else current_delegators()

    def __call__(self, person: tuple) -> bool:
        return self.everyone or person[VOICE] or person[0] in self.delegators


def after_delta(wanted: Wanted, changed: list[tuple], removed: set[str]) -> list[str]:
    """The people to read after a delta: as the cache holds them, with the delta's changes."""
    present = DirectoryUser.objects.filter(in_directory=True, removed_at__isnull=True)
    if not wanted.everyone:
        present = present.filter(voice_enabled=True)
    ids = {sys.intern(oid) for oid in present.values_list("object_id", flat=True).iterator()}
    if not wanted.everyone:
        ids |= {oid for oid in wanted.delegators if oid not in removed}
    for person in changed:
        if wanted(person):
            ids.add(person[0])
        else:
            ids.discard(person[0])
    return sorted(ids - removed)


class Router:
    """Hands each person to read to the coordinator's fetcher (`source`) or to a shard."""

    def __init__(self, run_id: int, source: queue.Queue, *, allow_shards: bool):
        self.run_id = run_id
        self.source = source
        self.allow_shards = allow_shards
        self.size = max(1, settings.SYNC_SHARD_SIZE)
        self.count = 0  # everyone routed so far
        self.own = 0  # of them, read by the coordinator
        self.shards = 0
        self.sharding = False
        self._waiting: list[str] = []  # neither ours nor a full shard yet

    def add(self, person_id: str) -> None:
        self.count += 1
        if not self.allow_shards or self.own < self.size:
            self.own += 1
            self.source.put(person_id)
            return
        self._waiting.append(person_id)
        if self.count > settings.SYNC_SHARD_THRESHOLD:
            self.sharding = True
        while self.sharding and len(self._waiting) >= self.size:
            self._send(self._waiting[: self.size])
            del self._waiting[: self.size]

    def close(self) -> None:
        """Everyone is routed: the rest is a last shard, or ours when the run stays small."""
        if self.sharding and self._waiting:
            self._send(self._waiting)
        else:
            for person_id in self._waiting:
                self.own += 1
                self.source.put(person_id)
        self._waiting = []
        self.source.put(END)

    def _send(self, ids: list[str]) -> None:
        self.shards += 1
        shards.dispatch(self.run_id, self.shards, list(ids))
