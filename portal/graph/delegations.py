"""Delegates of many people through $batch (GRAPH_CONTRACT §2, §4, §5).

Graph has no tenant-wide list: each person's delegates are one GET, so they travel 20 to a
$batch with a bounded number of batches in flight. Each item fails on its own: only the failed
items are sent again, after their own Retry-After (or an exponential backoff with jitter). A 401
gets one token refresh; a 403/404 (or an item we cannot read) marks that person failed, and the
caller keeps what it knew of them.

A grant travels as (delegator id, delegate id, packed) where `packed` is one int holding
is_active, the five allowed actions and createdDateTime: 300,000 grants must fit in little memory.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import random
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from portal.allowed_actions import GRAPH_KEYS
from portal.graph.client import (
    BATCH_LIMIT,
    GraphClient,
    backoff_delay,
    error_from_answer,
)
from portal.graph.directory import is_object_id
from portal.graph.errors import GraphError, is_retryable

log = logging.getLogger(__name__)

# Above the allowed actions' bits (portal.allowed_actions, bit 0 = makeCalls).
ACTIVE_BIT = 1 << len(GRAPH_KEYS)
CREATED_SHIFT = len(GRAPH_KEYS) + 1
MAX_DELEGATES_PER_PAGE = 1000  # Teams allows 25; anything far above is not a real answer
END = None  # closes the queue of people


# ------------------------------------------------------------------ one grant, packed
def pack(is_active: bool, actions_bits: int, created_us: int | None) -> int:
    created = 0 if created_us is None else created_us + 1
    return (created << CREATED_SHIFT) | (ACTIVE_BIT if is_active else 0) | actions_bits


def unpack(packed: int) -> tuple[bool, int, int | None]:
    created = packed >> CREATED_SHIFT
    return bool(packed & ACTIVE_BIT), packed & (ACTIVE_BIT - 1), (created - 1 if created else None)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, the form createdDateTime is compared in."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_created(value) -> int | None:
    """createdDateTime (ISO 8601 UTC) as microseconds; None when absent. ValueError if garbled."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("createdDateTime is not a short string")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return micros(moment)


def grant_from_item(item) -> tuple[str, int] | None:
    """(delegate id, packed) from one delegationSettings, or None when it is not one we trust."""
    if not isinstance(item, dict) or not is_object_id(item.get("id")):
        return None
    active = item.get("isActive", True)
    actions = item.get("allowedActions") or {}
    if not isinstance(active, bool) or not isinstance(actions, dict):
        return None
    bits = 0
    for i, key in enumerate(GRAPH_KEYS):
        allowed = actions.get(key, False)
        if not isinstance(allowed, bool):
            return None
        bits |= allowed << i
    try:
        created = parse_created(item.get("createdDateTime"))
    except ValueError:
        return None
    return sys.intern(item["id"].lower()), pack(active, bits, created)


# ------------------------------------------------------------------ the fetch
class Sink(Protocol):
    """Where the fetcher puts each person's outcome, as it comes (in the fetcher's thread)."""

    invalid_items: int

    def read(self, person: str, grants: list[tuple[str, int]]) -> None:
        """`person`'s delegates were read in full: (delegate id, packed) each."""

    def fail(self, person: str, kind: str) -> None:
        """`person`'s delegates could not be read (kind: GraphError.kind or ours)."""


@dataclass
class FetchResult:
    """The default sink: everything in memory."""

    grants: list = field(default_factory=list)  # (delegator, delegate, packed)
    fetched: set = field(default_factory=set)  # people whose delegates were read in full
    failed: dict = field(default_factory=dict)  # person -> failure kind
    invalid_items: int = 0

    def read(self, person: str, grants: list[tuple[str, int]]) -> None:
        self.grants.extend((person, delegate, packed) for delegate, packed in grants)
        self.fetched.add(person)

    def fail(self, person: str, kind: str) -> None:
        self.failed[person] = kind


@dataclass(slots=True)
class _Item:
    person: str
    url: str
    attempt: int = 0
    refreshed: bool = False


def delegates_url(person: str) -> str:
    return f"/users/{person}/communications/callSettings/delegates"


class DelegatesFetcher:
    """Reads the delegates of the people put into `people` (a queue closed by END).

    Each person's outcome goes to `sink` as it comes; `on_tick` is called on every turn of the
    loop (at least twice a second), in the loop's own thread and once the batches that can go
    are out, so a caller can do its own work (feed the queue, write what came) while they are
    in flight, without a thread of its own.
    """

    def __init__(
        self,
        client: GraphClient,
        *,
        in_flight: int,
        max_attempts: int | None = None,
        on_progress: Callable[[int], None] | None = None,
        on_tick: Callable[[], None] | None = None,
        sink: Sink | None = None,
        version: str = "beta",
    ):
        self.client = client
        self.in_flight = max(1, in_flight)
        # Items get a few more tries than whole requests: at a 20 % fault rate, 100,000 people
        # must all get through (0.12 ** 10 per person), and each try is only one item.
        self.max_attempts = (client.max_retries + 4) if max_attempts is None else max_attempts
        self.on_progress = on_progress or (lambda done: None)
        self.on_tick = on_tick or (lambda: None)
        self.version = version
        self.prefix = f"{client.base_url}/{version}"
        self.stop = threading.Event()  # set by the caller when the listing failed
        self.result: Sink = FetchResult() if sink is None else sink
        self._partial: dict[str, list] = {}  # person -> grants of pages read so far
        self._ready: deque[_Item] = deque()
        self._delayed: list = []  # heap of (ready_at, seq, item)
        self._seq = itertools.count()
        self._pause_until = 0.0  # after a throttled answer, nothing is sent before this
        self._done = 0
        self._jitter = 1.0
        # Shared with the workers: the ready queue's takers and the source (see run()).
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._source: queue.Queue = queue.Queue()
        self._source_open = True
        self._workers = 0

    @property
    def done(self) -> int:
        """People finished so far, read or failed."""
        return self._done

    def fetch(self, people: Iterable[str]) -> Sink:
        """Convenience: the delegates of a known list of people."""
        source: queue.Queue = queue.Queue()
        for person in people:
            source.put(person)
        source.put(END)
        return self.run(source)

    def run(self, source: queue.Queue) -> Sink:
        """Read everyone the queue names (until END). Each of `in_flight` workers sends a batch
        and, as soon as its answer is in, the next one itself: the loop here settles answers,
        feeds retries, and calls `on_tick`, without a slot waiting on it."""
        self._source, self._source_open, self._workers = source, True, 0
        answers: queue.Queue = queue.Queue()
        pool = ThreadPoolExecutor(max_workers=self.in_flight, thread_name_prefix="graph-batch")
        try:
            while not self.stop.is_set():
                now = time.monotonic()
                while self._delayed and self._delayed[0][0] <= now:
                    self._ready.append(heapq.heappop(self._delayed)[2])
                with self._lock:
                    while self._workers < self.in_flight and (items := self._next_batch()):
                        self._workers += 1
                        pool.submit(self._work, items, answers)
                    idle = not (self._workers or self._ready or self._delayed)
                    idle = idle and not self._source_open
                self.on_tick()  # with the batches already out: the caller's work overlaps them
                if idle and answers.empty():
                    break
                self._collect(answers)
        finally:
            self._closing.set()
            pool.shutdown(wait=True, cancel_futures=True)
        return self.result

    def _next_batch(self) -> list[_Item]:
        """Up to 20 people to send now (the caller holds the lock); none while paused."""
        if self._closing.is_set() or self.stop.is_set() or time.monotonic() < self._pause_until:
            return []
        while self._source_open and len(self._ready) < BATCH_LIMIT * (self.in_flight + 1):
            try:
                person = self._source.get_nowait()
            except queue.Empty:
                break
            if person is END:
                self._source_open = False
            else:
                self._ready.append(_Item(person, delegates_url(person)))
        if self._source_open and len(self._ready) < BATCH_LIMIT:
            return []  # people are still coming: send full batches, the fewest requests
        return [self._ready.popleft() for _ in range(min(BATCH_LIMIT, len(self._ready)))]

    def _work(self, items: list[_Item], answers: queue.Queue) -> None:
        """A worker: send, hand the answer over, take the next batch at once; stop when none."""
        while items:
            try:
                outcome = self._send(items)
            except Exception as exc:  # noqa: BLE001 - settled (or raised) by the loop
                outcome = exc
            answers.put((items, outcome))
            with self._lock:
                self._pause_for(outcome)  # before this worker sends anything more
                items = self._next_batch()
                if not items:
                    self._workers -= 1
        answers.put(None)  # wakes the loop: a slot is free

    def _pause_for(self, outcome) -> None:
        """A throttled answer (or item) with Retry-After: nothing is sent before it has passed;
        the budget is shared, sending more now only deepens the debt (contract §5)."""
        waits = []
        if isinstance(outcome, GraphError):
            if outcome.status == 429 and outcome.retry_after is not None:
                waits.append(outcome.retry_after)
        elif not isinstance(outcome, Exception):
            for answer in outcome[1].values():
                if answer["status"] == 429:
                    error = error_from_answer(429, answer["headers"], answer["body"])
                    if error.retry_after is not None:
                        waits.append(error.retry_after)
        if waits:
            self._pause_until = max(self._pause_until, time.monotonic() + max(waits))

    def _collect(self, answers: queue.Queue) -> None:
        """Settle the answers that came in, waiting a little for the first."""
        try:
            entry = answers.get(timeout=self._wait_time())
        except queue.Empty:
            return
        while True:
            if entry is not None:
                self._settle(*entry)
            try:
                entry = answers.get_nowait()
            except queue.Empty:
                return

    def _wait_time(self) -> float:
        now = time.monotonic()
        candidates = [0.5]
        if self._delayed:
            candidates.append(self._delayed[0][0] - now)
        if self._ready and self._pause_until > now:
            candidates.append(self._pause_until - now)
        if self._source_open and len(self._ready) < BATCH_LIMIT:
            # People waiting in the queue and a free slot: go round at once to send them.
            waiting = self._source.qsize() >= BATCH_LIMIT and self._workers < self.in_flight
            waiting = waiting and now >= self._pause_until
            candidates.append(0.0 if waiting else 0.05)
        return max(0.0, min(candidates))

    def _send(self, items: list[_Item]):
        token = self.client.token()
        requests_ = [
            {"id": str(i), "method": "GET", "url": item.url} for i, item in enumerate(items)
        ]
        return token, self.client.batch(requests_, version=self.version)

    # ------------------------------------------------------------------ answers
    def _settle(self, items: list[_Item], outcome) -> None:
        """outcome: what _send returned, or the exception it raised."""
        # One jitter for the whole answer: its items retried together travel together again.
        self._jitter = random.uniform(0.5, 1.0)
        if isinstance(outcome, Exception) and not isinstance(outcome, GraphError):
            raise outcome
        if isinstance(outcome, GraphError):
            exc = outcome
            # The whole $batch failed after the client's own retries: a transient failure sends
            # the items again later (each counts an attempt); a permanent one fails them.
            for item in items:
                if not exc.permanent:
                    self._retry(item, exc.retry_after, exc.kind)
                else:
                    self._fail(item, exc.kind)
            return
        token, answers = outcome
        for i, item in enumerate(items):
            answer = answers.get(str(i))
            if answer is None:
                self._retry(item, None, "missing_answer")
                continue
            status = answer["status"]
            if 200 <= status < 300:
                self._read_page(item, answer["body"])
                continue
            error = error_from_answer(status, answer["headers"], answer["body"])
            if status == 429:
                self.client.stats.add("throttled")  # the pause: _pause_for, in the worker
            if is_retryable(status):
                self._retry(item, error.retry_after, error.kind)
            elif status == 401 and not item.refreshed:
                self.client.refresh_token(stale=token)
                item.refreshed = True
                self.client.stats.add("retries")
                self._ready.appendleft(item)
            else:
                log.info(
                    "delegates of %s: HTTP %s %s request-id=%s",
                    item.person,
                    status,
                    error.code,
                    error.request_id,
                )
                self._fail(item, error.kind)

    def _read_page(self, item: _Item, body) -> None:
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(value, list) or len(value) > MAX_DELEGATES_PER_PAGE:
            self._fail(item, "invalid_answer")
            return
        page = []
        for raw in value:
            grant = grant_from_item(raw)
            if grant is None:
                self.result.invalid_items += 1
                self._fail(item, "invalid_item")
                return
            page.append(grant)
        self._partial.setdefault(item.person, []).extend(page)
        next_link = body.get("@odata.nextLink")
        if isinstance(next_link, str) and next_link:
            if not next_link.startswith(self.prefix + "/"):
                self._fail(item, "invalid_link")
                return
            # $batch wants URLs relative to the version (§4).
            self._ready.append(_Item(item.person, next_link[len(self.prefix) :]))
            return
        self.result.read(item.person, self._partial.pop(item.person, []))
        self._finished()

    def _retry(self, item: _Item, retry_after: float | None, kind: str) -> None:
        item.attempt += 1
        if item.attempt >= self.max_attempts:
            self._fail(item, kind)
            return
        self.client.stats.add("retries")
        if retry_after is None:
            retry_after = backoff_delay(item.attempt - 1, jitter=self._jitter)
        delay = retry_after
        heapq.heappush(self._delayed, (time.monotonic() + delay, next(self._seq), item))

    def _fail(self, item: _Item, kind: str) -> None:
        self._partial.pop(item.person, None)
        self.result.fail(item.person, kind)
        self._finished()

    def _finished(self) -> None:
        self._done += 1
        self.on_progress(self._done)
