"""What a run reads, staged in the database as it comes, a page or a thousand people at a time,
so no process holds the whole tenant: the coordinator stages the people (a full listing's pages,
or a delta's changes completed from the cache), and the coordinator and every shard stage each
person's delegates, or why they could not be read. The final apply reads it back in chunks
(sync/apply.py); then it is deleted.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator

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
from delegation.sync import sql

# A person tuple's columns, in portal.graph.directory.PERSON_FIELDS order.
PERSON_COLUMNS = (
    "object_id",
    "display_name",
    "upn",
    "mail",
    "department",
    "job_title",
    "account_enabled",
    "voice_enabled",
)
FLUSH_PEOPLE = 1000
MAX_FAILED_IDS = 1000  # SyncRun.failed_user_ids keeps the first ones; failures counts them all
STAGED = (SyncStagedGrant, SyncStagedRead, SyncStagedPerson)


# ------------------------------------------------------------------ writing
def stage_people(run_id: int, people: Iterable[tuple]) -> None:
    """People as Graph shows them now (full person tuples)."""
    with transaction.atomic():  # one commit for the page, not one per row
        sql.insert(
            SyncStagedPerson,
            ("run", "present", *PERSON_COLUMNS),
            ((run_id, True, *person) for person in people),
        )


def stage_removed(run_id: int, object_ids: Iterable[str]) -> None:
    """People a delta says are gone."""
    with transaction.atomic():
        sql.insert(
            SyncStagedPerson,
            ("run", "present", *PERSON_COLUMNS),
            ((run_id, False, oid, "", "", "", "", "", True, False) for oid in object_ids),
        )


class StagingSink:
    """The delegates fetcher's sink for one run: each person's outcome, staged a thousand
    people at a time (portal.graph.delegations.Sink)."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.invalid_items = 0
        self._reads: list[tuple] = []
        self._grants: list[tuple] = []

    def read(self, person: str, grants: list[tuple[str, int]]) -> None:
        self._reads.append((self.run_id, person, ""))
        self._grants.extend((self.run_id, person, delegate, packed) for delegate, packed in grants)
        if len(self._reads) >= FLUSH_PEOPLE:
            self.flush()

    def fail(self, person: str, kind: str) -> None:
        self._reads.append((self.run_id, person, kind[:32]))
        if len(self._reads) >= FLUSH_PEOPLE:
            self.flush()

    def flush(self) -> None:
        if not self._reads:
            return
        with transaction.atomic():
            sql.insert(SyncStagedGrant, ("run", "delegator", "delegate", "packed"), self._grants)
            sql.insert(SyncStagedRead, ("run", "object_id", "failure"), self._reads)
        self._reads, self._grants = [], []


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


# ------------------------------------------------------------------ reading back
def staged_people(run_id: int) -> Iterator[list[tuple[bool, tuple]]]:
    """(present, person tuple) of everyone staged, a chunk at a time."""
    rows = SyncStagedPerson.objects.filter(run_id=run_id).order_by("id")
    rows = rows.values_list("id", "present", *PERSON_COLUMNS)
    last = 0
    while True:
        chunk = list(rows.filter(id__gt=last)[: sql.CHUNK])
        if not chunk:
            return
        last = chunk[-1][0]
        yield [(present, tuple(person)) for _, present, *person in chunk]


def read_delegators(run_id: int) -> Iterator[tuple[int, str]]:
    """(pk, object id) of the people whose delegates were read in full, in pk order."""
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


def read_outcome(run_id: int) -> tuple[int, dict[str, int], list[str]]:
    """People read in full; failures by kind; the first failed ids (sorted)."""
    reads = SyncStagedRead.objects.filter(run_id=run_id)
    by_kind = dict(reads.values_list("failure").annotate(n=Count("id")).order_by())
    read = by_kind.pop("", 0)
    failed = reads.exclude(failure="").order_by("object_id").values_list("object_id", flat=True)
    return read, by_kind, list(failed[:MAX_FAILED_IDS])
