"""What a run reads that would change the cache, staged in the database as it comes, so no
process holds the tenant and the final apply has only the differences to write.

As each page of people and each thousand people's delegates come in, they are compared with the
cache (outside any transaction, while the next requests are out): a person who is new, changed
or back, everyone a full listing no longer shows, the delegates of a person whose grants differ
from the cache's, and each person whose delegates could not be read are staged; the rest is only
counted. The final apply (sync/apply.py) compares what was staged with the cache again, inside
its transaction, and writes what still differs. Then the staged rows are deleted.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Subquery

from delegation.models import (
    DirectoryUser,
    SyncRun,
    SyncShard,
    SyncStage,
    SyncStagedGrant,
    SyncStagedPerson,
    SyncStagedRead,
)
from delegation.sync import cache, sql
from portal.graph.client import GraphClient
from portal.graph.delegations import DelegatesFetcher

FLUSH_PEOPLE = 1000
MAX_FAILED_IDS = 1000  # SyncRun.failed_user_ids keeps the first ones; failures counts them all
STAGED = (SyncStagedGrant, SyncStagedRead, SyncStagedPerson)


# ------------------------------------------------------------------ writing
def stage_people(run_id: int, people: list[tuple]) -> int:
    """Of these people as Graph shows them now (person tuples), stage those whom writing would
    change; returns how many."""
    changed = cache.people_to_write(people)
    if not changed:
        return 0  # no transaction either: on SQLite its BEGIN IMMEDIATE takes the write lock
    with transaction.atomic():  # one commit for the page, not one per row
        return sql.insert(
            SyncStagedPerson,
            ("run", "present", *cache.PERSON_COLUMNS),
            ((run_id, True, *person) for person in changed),
        )


def stage_removed(run_id: int, object_ids: Iterable[str]) -> None:
    """People who left the directory (a delta's removals, or whom a full listing missed)."""
    object_ids = list(object_ids)
    if not object_ids:
        return
    with transaction.atomic():
        sql.insert(
            SyncStagedPerson,
            ("run", "present", *cache.PERSON_COLUMNS),
            ((run_id, False, oid, "", "", "", "", "", True, False, None) for oid in object_ids),
        )


class StagingSink:
    """The delegates fetcher's sink for one run (portal.graph.delegations.Sink): outcomes are
    buffered, and `flush` (called from the fetcher's loop) stages what differs."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.invalid_items = 0
        self.read_count = 0  # people whose delegates were read in full
        self._reads: dict[str, list[tuple[str, int]]] = {}
        self._failed: list[tuple[str, str]] = []
        self._columns = cache.GrantColumns()

    def read(self, person: str, grants: list[tuple[str, int]]) -> None:
        self._reads[person] = grants

    def fail(self, person: str, kind: str) -> None:
        self._failed.append((person, kind[:32]))

    def fetcher(self, client: GraphClient, progress) -> DelegatesFetcher:
        """A delegates fetcher that hands this sink each outcome and lets it flush from its
        loop, while the batches are out."""
        return DelegatesFetcher(
            client,
            in_flight=settings.SYNC_BATCHES_IN_FLIGHT,
            on_progress=progress,
            on_tick=self.maybe_flush,
            sink=self,
        )

    def maybe_flush(self) -> None:
        if len(self._reads) + len(self._failed) >= FLUSH_PEOPLE:
            self.flush()

    def flush(self) -> None:
        if not (self._reads or self._failed):
            return
        reads, failed = self._reads, self._failed
        self._reads, self._failed = {}, []
        changed = cache.delegators_to_write(reads, self._columns)
        self.read_count += len(reads)
        if not (changed or failed):
            return  # nothing differs: no transaction (a run with nothing changed writes none)
        with transaction.atomic():
            sql.insert(
                SyncStagedGrant,
                ("run", "delegator", "delegate", "packed"),
                ((self.run_id, p, d, packed) for p in changed for d, packed in reads[p]),
            )
            sql.insert(
                SyncStagedRead,
                ("run", "object_id", "failure"),
                [(self.run_id, p, "") for p in changed] + [(self.run_id, *f) for f in failed],
            )


def write_stage(run_id: int, meta: dict) -> None:
    """What the apply needs besides the staged rows (SyncStage): written by the coordinator."""
    payload = zlib.compress(json.dumps(meta).encode())
    SyncStage.objects.update_or_create(run_id=run_id, defaults={"payload": payload})


def read_stage(run_id: int) -> dict | None:
    stage = SyncStage.objects.filter(run_id=run_id).first()
    return None if stage is None else json.loads(zlib.decompress(bytes(stage.payload)))


def clear(run_id: int) -> None:
    """Forget what the run staged, its shards and its stage row."""
    for model in (*STAGED, SyncShard, SyncStage):
        model.objects.filter(run_id=run_id).delete()


def purge_leftovers() -> None:
    """Staged rows of runs no longer live (a worker that died mid-run)."""
    for model in (*STAGED, SyncShard, SyncStage):
        model.objects.exclude(run__status__in=SyncRun.ACTIVE_STATUSES).delete()


def drop_reads_of_removed(run_id: int) -> None:
    """Forget what was read of the people this run found gone: a full listing reads the cache's
    delegators before it has seen who is still there (sync/fetch.py), and a person who left is
    removed with their grants, not read (nor failed: Graph answers 404 for them)."""
    gone = SyncStagedPerson.objects.filter(run_id=run_id, present=False)
    if not gone.exists():
        return  # the usual case: no statement that writes
    ids = Subquery(gone.values("object_id"))
    SyncStagedGrant.objects.filter(run_id=run_id, delegator__in=ids).delete()
    SyncStagedRead.objects.filter(run_id=run_id, object_id__in=ids).delete()


# ------------------------------------------------------------------ reading back
def staged_people(run_id: int) -> Iterator[list[tuple[bool, tuple]]]:
    """(present, person tuple) of everyone staged, a chunk at a time."""
    rows = SyncStagedPerson.objects.filter(run_id=run_id).order_by("id")
    rows = rows.values_list("id", "present", *cache.PERSON_COLUMNS)
    last = 0
    while True:
        chunk = list(rows.filter(id__gt=last)[: sql.CHUNK])
        if not chunk:
            return
        last = chunk[-1][0]
        yield [(present, tuple(person)) for _, present, *person in chunk]


def read_delegators(run_id: int) -> Iterator[tuple[int, str]]:
    """(pk, object id) of the people read in full whose grants differed, in pk order."""
    reads = SyncStagedRead.objects.filter(run_id=run_id, failure="").values("object_id")
    people = DirectoryUser.objects.filter(object_id__in=Subquery(reads)).order_by("id")
    return people.values_list("id", "object_id").iterator(chunk_size=sql.CHUNK)


def staged_grants(run_id: int, delegators: dict[str, int]) -> Iterator[tuple[int, int, int]]:
    """(delegator pk, delegate pk, packed) of the grants read for these delegators (object id
    -> pk); every delegate is in the directory cache by now (sync/apply.py adds the unknown)."""
    g, u = sql.table(SyncStagedGrant), sql.table(DirectoryUser)
    g_run, g_delegator, g_delegate, g_packed = (
        f"g.{sql.column(SyncStagedGrant, name)}"
        for name in ("run", "delegator", "delegate", "packed")
    )
    u_id, u_object_id = (f"u.{sql.column(DirectoryUser, name)}" for name in ("id", "object_id"))
    for chunk in sql.chunks(delegators, sql.IN_LIST):
        rows = sql.select(
            f"SELECT {g_delegator}, {u_id}, {g_packed} FROM {g} g "  # noqa: S608 - our names
            f"JOIN {u} u ON {u_object_id} = {g_delegate} "
            f"WHERE {g_run} = %s AND {g_delegator} IN ({sql.marks(len(chunk))})",
            [run_id, *chunk],
        )
        for delegator, delegate_pk, packed in rows:
            yield delegators[delegator], delegate_pk, packed


def failures(run_id: int) -> tuple[dict[str, int], list[str]]:
    """People whose delegates could not be read: how many of each kind; the first ids."""
    failed = SyncStagedRead.objects.filter(run_id=run_id).exclude(failure="")
    by_kind = dict(failed.values_list("failure").annotate(n=Count("id")).order_by())
    first = failed.order_by("object_id").values_list("object_id", flat=True)[:MAX_FAILED_IDS]
    return by_kind, list(first)
