"""Reading the tenant for one run: people (full listing or delta), then everyone's delegates.

Nothing here writes the cache: it only reads Graph, and writes the run's progress and heartbeat
(outside any transaction, so a page can poll them). The full listing runs on its own thread and
hands people to the $batch fetcher as pages arrive, so the two overlap.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections
from django.db.models import F
from django.utils import timezone

from delegation.models import DirectoryUser, SyncCursor, SyncRun
from delegation.sync import lock
from portal.graph.client import GraphClient
from portal.graph.delegations import END, DelegatesFetcher, FetchResult
from portal.graph.directory import (
    DeltaExpired,
    PageStats,
    latest_delta_link,
    list_people,
    read_delta,
)

DELTA_CURSOR = "users-delta"
PROGRESS_EVERY_SECONDS = 1.0


@dataclass
class PeopleSnapshot:
    """The directory as Graph showed it. Full: `people` is everyone; delta: only what changed."""

    mode: str  # "full" | "delta"
    people: dict = field(default_factory=dict)  # full: id -> person tuple
    changed: dict = field(default_factory=dict)  # delta: id -> fields present
    removed: set = field(default_factory=set)  # delta: ids gone
    delta_link: str = ""
    invalid: int = 0

    def to_json(self) -> dict:
        return {
            "mode": self.mode,
            "people": list(self.people.values()),
            "changed": self.changed,
            "removed": sorted(self.removed),
            "delta_link": self.delta_link,
            "invalid": self.invalid,
        }

    @classmethod
    def from_json(cls, data: dict) -> PeopleSnapshot:
        return cls(
            mode=data["mode"],
            people={p[0]: tuple(p) for p in data["people"]},
            changed=data["changed"],
            removed=set(data["removed"]),
            delta_link=data["delta_link"],
            invalid=data["invalid"],
        )


@dataclass
class Collected:
    snapshot: PeopleSnapshot
    fetch: FetchResult | None  # None when the delegates are left to shards
    to_fetch: list = field(default_factory=list)  # ids for the shards


def stored_delta_link() -> str:
    cursor = SyncCursor.objects.filter(name=DELTA_CURSOR)
    return cursor.values_list("value", flat=True).first() or ""


def directory_ids() -> list[str]:
    """People the cache holds as present in the directory (their delegates are read)."""
    return list(
        DirectoryUser.objects.filter(in_directory=True, removed_at__isnull=True).values_list(
            "object_id", flat=True
        )
    )


class Progress:
    """Progress and heartbeat, at most once a second; stops the run when it lost the lock."""

    def __init__(self, run_id: int, *, shared: bool = False):
        self.run_id = run_id
        self.shared = shared  # shards add to a common counter
        self.total = 0
        self.written_done = 0
        self.last = 0.0

    def __call__(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        if self.shared:
            alive = SyncRun.objects.filter(pk=self.run_id, status=SyncRun.Status.RUNNING).update(
                progress_done=F("progress_done") + (done - self.written_done),
                heartbeat_at=timezone.now(),
            )
        else:
            alive = lock.beat(self.run_id, progress_done=done, progress_total=max(self.total, done))
        self.written_done = done
        if not alive:
            raise lock.LockLost(f"sync #{self.run_id} no longer holds the lock")


def fetch_delegates(
    client: GraphClient, people: list[str], progress: Callable[[int], None]
) -> FetchResult:
    fetcher = DelegatesFetcher(
        client, in_flight=settings.SYNC_BATCHES_IN_FLIGHT, on_progress=progress
    )
    return fetcher.fetch(people)


def collect(run_id: int, client: GraphClient, *, allow_shards: bool) -> Collected:
    """People, then delegates (or the ids to hand to shards)."""
    progress = Progress(run_id)
    # A delta only makes sense over the cache it was taken for: an emptied cache lists again.
    link = stored_delta_link() if DirectoryUser.objects.filter(in_directory=True).exists() else ""
    if link:
        try:
            changes = read_delta(client, link)
        except DeltaExpired:
            link = ""  # Graph forgot our place: list everyone again
        else:
            snapshot = PeopleSnapshot(
                mode="delta",
                changed=changes.changed,
                removed=changes.removed,
                delta_link=changes.delta_link,
                invalid=changes.invalid,
            )
            ids = set(directory_ids()) - changes.removed
            ids.update(changes.changed)
            return _delegates_for(run_id, client, snapshot, sorted(ids), progress, allow_shards)
    snapshot = PeopleSnapshot(mode="full", delta_link=latest_delta_link(client))
    SyncRun.objects.filter(pk=run_id).update(users_mode="full")
    threshold = settings.SYNC_SHARD_THRESHOLD
    if allow_shards and len(directory_ids()) > threshold:
        # A tenant known to be large: list everyone first, then fan out.
        stats = PageStats()
        for page in list_people(client, stats):
            snapshot.people.update((p[0], p) for p in page)
            progress.total = len(snapshot.people)
            progress(0)
        snapshot.invalid = stats.invalid
        return _delegates_for(
            run_id, client, snapshot, list(snapshot.people), progress, allow_shards
        )
    return Collected(snapshot, _list_and_fetch(client, snapshot, progress))


def _delegates_for(run_id, client, snapshot, ids, progress, allow_shards) -> Collected:
    SyncRun.objects.filter(pk=run_id).update(
        users_mode=snapshot.mode, progress_total=len(ids), progress_done=0
    )
    progress.total = len(ids)
    if allow_shards and len(ids) > settings.SYNC_SHARD_THRESHOLD:
        return Collected(snapshot, None, ids)
    result = fetch_delegates(client, ids, progress)
    progress(len(result.fetched) + len(result.failed), force=True)
    return Collected(snapshot, result)


def _list_and_fetch(
    client: GraphClient, snapshot: PeopleSnapshot, progress: Progress
) -> FetchResult:
    """The full listing on a thread, feeding the fetcher page by page."""
    source: queue.Queue = queue.Queue()
    fetcher = DelegatesFetcher(
        client, in_flight=settings.SYNC_BATCHES_IN_FLIGHT, on_progress=progress
    )
    people = snapshot.people
    stats = PageStats()
    failure: list[BaseException] = []

    def list_everyone():
        try:
            for page in list_people(client, stats):
                if fetcher.stop.is_set():
                    break
                for person in page:
                    if person[0] not in people:
                        people[person[0]] = person
                        source.put(person[0])
                progress.total = len(people)
        except BaseException as exc:  # noqa: BLE001 - handed to the run's thread below
            failure.append(exc)
            fetcher.stop.set()
        finally:
            source.put(END)
            connections.close_all()  # this thread's own connections, if a token refresh used one

    lister = threading.Thread(target=list_everyone, name="graph-users", daemon=True)
    lister.start()
    try:
        result = fetcher.run(source)
    finally:
        fetcher.stop.set()
        lister.join()
    if failure:
        raise failure[0]
    snapshot.invalid = stats.invalid
    progress(len(result.fetched) + len(result.failed), force=True)
    return result
