"""Reading the tenant for one run, as its coordinator: the people (the changes since the delta
link, or the full listing), and the delegates of those the run reads (sync/targets.py).

Nothing here writes the cache: what would change it is staged as it comes (sync/staging.py),
with the run's progress and heartbeat, outside any transaction. The full listing runs on its own
thread; each page is compared and its people handed on from the fetcher's own loop, while the
batches are out, so the first $batch leaves as soon as the first page is in, and memory holds a
page and the ids seen, not the tenant.
"""

from __future__ import annotations

import queue
import threading

from django.db import connections

from delegation.models import DirectoryUser, SyncCursor, SyncRun
from delegation.sync import cache, staging
from delegation.sync.progress import Progress
from delegation.sync.targets import Router, Wanted, after_delta
from portal.graph.client import GraphClient
from portal.graph.delegations import END, DelegatesFetcher
from portal.graph.directory import (
    DeltaExpired,
    PageStats,
    latest_delta_link,
    list_people,
    person_tuple,
    read_delta,
)

DELTA_CURSOR = "users-delta"
PAGES_AHEAD = 3  # pages the listing may read before the loop has taken them: memory stays flat


def stored_delta_link() -> str:
    cursor = SyncCursor.objects.filter(name=DELTA_CURSOR)
    return cursor.values_list("value", flat=True).first() or ""


def read_tenant(run_id: int, client: GraphClient, *, sweep: str, allow_shards: bool) -> dict:
    """Read and stage the people and the delegates this process reads; send the shards.
    Returns what the apply needs besides the staged rows (staging.write_stage)."""
    progress = Progress(run_id)
    source: queue.Queue = queue.Queue()
    router = Router(run_id, source, allow_shards=allow_shards)
    sink = staging.StagingSink(run_id)
    fetcher = sink.fetcher(client, progress)
    # A delta only makes sense over the cache it was taken for: an emptied cache lists again.
    has_people = DirectoryUser.objects.filter(in_directory=True).exists()
    link = stored_delta_link() if has_people else ""
    meta = _read_delta(run_id, client, link, sweep, router) if link else None
    if meta is not None:
        progress.total = router.count
        fetcher.run(source)
    else:
        meta = _list_everyone(run_id, client, sweep, router, fetcher, progress)
    sink.flush()
    progress.total = router.count
    progress(fetcher.done, force=True)
    return {
        **meta,
        "sweep": sweep,
        "shards": router.shards,
        "people": router.count,
        "read": sink.read_count,
    }


def _read_delta(run_id, client, link, sweep: str, router: Router) -> dict | None:
    """The changes since the last run, staged and routed; None when Graph forgot our place."""
    try:
        changes = read_delta(client, link)
    except DeltaExpired:
        return None
    wanted = Wanted(sweep)
    SyncRun.objects.filter(pk=run_id).update(users_mode="delta")
    stored = cache.stored_people(list(changes.changed))
    changed = [
        person_tuple(fields, stored[oid].person if oid in stored else None)
        for oid, fields in changes.changed.items()
    ]
    staging.stage_people(run_id, changed)
    staging.stage_removed(run_id, sorted(changes.removed))
    for person_id in after_delta(wanted, changed, changes.removed):
        router.add(person_id)
    router.close()
    return {"mode": "delta", "delta_link": changes.delta_link, "invalid": changes.invalid}


class _Listing:
    """The full listing on its own thread (Graph only); its pages staged and routed by `tick`,
    which the fetcher calls from its own loop (this process's database connection)."""

    def __init__(self, run_id, client, router: Router, progress: Progress):
        self.run_id, self.client = run_id, client
        self.wanted: Wanted | None = None  # set once the listing is on its way
        self.delta_link = ""
        self.router, self.progress = router, progress
        self.pages: queue.Queue = queue.Queue(maxsize=PAGES_AHEAD)
        self.stats = PageStats()
        self.failure: list[BaseException] = []
        self.seen: set[str] = set()
        self.unstaged: list[tuple] = []  # the page handed on last, compared on the next tick
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._list, name="graph-users", daemon=True)

    def _list(self) -> None:
        try:
            # The delta link first, so nothing changing while we list is missed; here, so the
            # run's thread reads the cache's delegators (Wanted) meanwhile.
            self.delta_link = latest_delta_link(self.client)
            for page in list_people(self.client, self.stats):
                if not self._hand_over(page):
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the run's thread by tick()
            self.failure.append(exc)
        finally:
            self._hand_over(END)
            connections.close_all()  # this thread's own connections, if a token refresh used one

    def _hand_over(self, page) -> bool:
        """Wait for room in the queue (the loop is behind); False once the run stopped."""
        while not self.stop.is_set():
            try:
                self.pages.put(page, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def tick(self, fetcher: DelegatesFetcher) -> None:
        """One step at most: hand a page's people on, or stage the page handed on last time; the
        loop sends what it can in between, so a page's batches leave before it is compared."""
        if self.stop.is_set():
            return
        if self.unstaged:
            staging.stage_people(self.run_id, self.unstaged)
            self.unstaged = []
            return
        try:
            page = self.pages.get_nowait()
        except queue.Empty:
            return
        if page is END:
            self._end(fetcher)
            return
        fresh = [person for person in page if person[0] not in self.seen]
        self.seen.update(person[0] for person in fresh)
        for person in fresh:
            if self.wanted(person) and person[0] not in self.wanted.delegators:
                self.router.add(person[0])  # the cache's delegators went first (start_early)
        self.progress.total = self.router.count
        self.unstaged = fresh

    def start_early(self) -> None:
        """Route the cache's delegators before the first page is in: they are read whatever the
        listing shows (a licence removed still shows its grants' removal), so the batches need
        not wait for the delta link and the first page. One the listing then finds gone is
        dropped at the apply (staging.drop_reads_of_removed)."""
        for person_id in sorted(self.wanted.delegators):
            self.router.add(person_id)
        self.progress.total = self.router.count

    def _end(self, fetcher: DelegatesFetcher) -> None:
        """Everyone listed: whoever the cache holds and the listing did not show has left."""
        self.stop.set()
        if self.failure:
            fetcher.stop.set()
            return
        gone = [oid for oid in cache.present_people() if oid not in self.seen]
        staging.stage_removed(self.run_id, gone)
        self.router.close()


def _list_everyone(run_id, client, sweep, router, fetcher, progress) -> dict:
    """The full listing, with a fresh delta link taken first (so nothing changing meanwhile is
    missed), feeding the fetcher page by page."""
    SyncRun.objects.filter(pk=run_id).update(users_mode="full")
    listing = _Listing(run_id, client, router, progress)
    flush = fetcher.on_tick

    def tick():
        listing.tick(fetcher)
        flush()

    fetcher.on_tick = tick
    listing.thread.start()
    try:
        listing.wanted = Wanted(sweep)  # the cache's delegators, read while the first page comes
        listing.start_early()
        fetcher.run(router.source)
    finally:
        listing.stop.set()
        fetcher.stop.set()
        listing.thread.join()
    if listing.failure:
        raise listing.failure[0]
    return {"mode": "full", "delta_link": listing.delta_link, "invalid": listing.stats.invalid}
