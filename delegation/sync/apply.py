"""Applying what a run read, as a diff, in one transaction.

Rows are written with plain multi-row SQL through Django's connection (values adapted by
Django's own field adapters, so SQLite and PostgreSQL both work): 300,000 grants as model
instances would cost seconds and hundreds of megabytes. Nothing is written when nothing changed.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from delegation.models import (
    Delegation,
    DelegationChange,
    DirectoryUser,
    SyncCursor,
    SyncRun,
)
from delegation.sync import lock
from delegation.sync.diff import (
    GrantDiff,
    StoredGrant,
    StoredPerson,
    diff_grants,
    diff_people,
    grant_key,
    split_key,
)
from delegation.sync.fetch import DELTA_CURSOR, PeopleSnapshot
from portal import allowed_actions
from portal.graph.delegations import FetchResult, micros, pack, unpack
from portal.graph.directory import person_tuple

NAIVE_EPOCH = datetime(1970, 1, 1)
CHUNK = 1000
MAX_FAILED_IDS = 1000  # SyncRun.failed_user_ids keeps the first ones; failures counts them all
PERSON_COLUMNS = ("object_id", "display_name", "upn", "mail", "department", "job_title")
ACTION_FIELDS = allowed_actions.FIELDS
ACTION_BITS = tuple(allowed_actions.bit(field) for field in ACTION_FIELDS)
# Every combination of the actions' bits, as the five booleans it stands for (field order).
FLAGS_OF_BITS = tuple(
    tuple(bool(bits & bit) for bit in ACTION_BITS) for bits in range(1 << len(ACTION_BITS))
)


def _chunks(rows: Iterable, size: int = CHUNK) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _insert(model, fields: tuple[str, ...], rows: Iterable[tuple]) -> int:
    columns = ", ".join(_column(model, name) for name in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {_table(model)} ({columns}) VALUES ({marks})"  # noqa: S608 - our names
    written = 0
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            cursor.executemany(sql, chunk)
            written += len(chunk)
    return written


def _update(model, fields: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """rows: (value per field..., pk)."""
    sets = ", ".join(f"{_column(model, name)} = %s" for name in fields)
    sql = f"UPDATE {_table(model)} SET {sets} WHERE {_column(model, 'id')} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            cursor.executemany(sql, chunk)


def _delete(model, pks: Iterable[int]) -> None:
    with connection.cursor() as cursor:
        for chunk in _chunks(pks, 500):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"DELETE FROM {_table(model)} WHERE {_column(model, 'id')} IN ({marks})",  # noqa: S608
                chunk,
            )


# ------------------------------------------------------------------ people
def _stored_people(object_ids: Iterable[str] | None) -> dict[str, StoredPerson]:
    """id -> the person as stored; everyone when object_ids is None."""
    columns = ("pk", *PERSON_COLUMNS, "account_enabled", "in_directory", "removed_at")
    rows = DirectoryUser.objects.values_list(*columns)
    out = {}
    if object_ids is None:
        batches = [rows.iterator(chunk_size=5000)]
    else:
        batches = (rows.filter(object_id__in=chunk) for chunk in _chunks(object_ids, 500))
    for batch in batches:
        for pk, *person, in_directory, removed_at in batch:
            out[person[0]] = StoredPerson(pk, tuple(person), in_directory, removed_at is not None)
    return out


def _write_people(snapshot: PeopleSnapshot, at) -> tuple[dict, set[int]]:
    """Insert, update and mark removed; returns the counts and the pks of people removed."""
    if snapshot.mode == "full":
        stored = _stored_people(None)
        present = snapshot.people.values()
        removed = [
            oid
            for oid, row in stored.items()
            if row.in_directory and not row.removed and oid not in snapshot.people
        ]
    else:
        stored = _stored_people([*snapshot.changed, *snapshot.removed])
        present = [
            person_tuple(fields, stored[oid].person if oid in stored else None)
            for oid, fields in snapshot.changed.items()
        ]
        removed = snapshot.removed
    diff = diff_people(stored, present, removed)
    when = connection.ops.adapt_datetimefield_value(at)
    _insert(
        DirectoryUser,
        (*PERSON_COLUMNS, "account_enabled", "in_directory", "first_seen", "updated_at"),
        ((*person, True, when, when) for person in diff.insert),
    )
    _update(
        DirectoryUser,
        (*PERSON_COLUMNS[1:], "account_enabled", "in_directory", "removed_at", "updated_at"),
        ((*person[1:], True, None, when, pk) for pk, person in diff.update),
    )
    _update(DirectoryUser, ("removed_at", "updated_at"), ((when, when, pk) for pk in diff.remove))
    counts = {
        "people_added": len(diff.insert),
        "people_changed": len(diff.update),
        "people_removed": len(diff.remove),
    }
    return counts, set(diff.remove)


def _add_unknown_people(grants: list, pk_of: dict, at) -> int:
    """Delegates /users does not know: kept as "unknown person (id)" (in_directory False)."""
    unknown = {delegate for _, delegate, _ in grants if delegate not in pk_of}
    unknown.update(delegator for delegator, _, _ in grants if delegator not in pk_of)
    if not unknown:
        return 0
    when = connection.ops.adapt_datetimefield_value(at)
    _insert(
        DirectoryUser,
        (*PERSON_COLUMNS, "account_enabled", "in_directory", "first_seen", "updated_at"),
        ((oid, "", "", "", "", "", True, False, when, when) for oid in sorted(unknown)),
    )
    for chunk in _chunks(sorted(unknown), 500):
        found = DirectoryUser.objects.filter(object_id__in=chunk)
        pk_of.update(found.values_list("object_id", "pk"))
    return len(unknown)


# ------------------------------------------------------------------ grants
def _stored_grants() -> Iterator[StoredGrant]:
    rows = Delegation.objects.values_list(
        "pk", "delegator_id", "delegate_id", "is_active", "created_in_teams", *ACTION_FIELDS
    )
    for pk, delegator, delegate, active, created, *actions in rows.iterator(chunk_size=5000):
        bits = sum(bit for bit, allowed in zip(ACTION_BITS, actions, strict=True) if allowed)
        created_us = micros(created) if created is not None else None
        yield StoredGrant(pk, grant_key(delegator, delegate), pack(active, bits, created_us))


class _GrantColumns:
    """A packed grant as column values and as change JSON, made fast: a first sync makes
    300,000 of each. Equal to sync_diff.grant_fields / grant_json (tested)."""

    def __init__(self):
        self.sqlite = connection.vendor == "sqlite"
        self.adapt_datetime = connection.ops.adapt_datetimefield_value
        self.adapt_json = connection.ops.adapt_json_value
        self._json_parts: dict[tuple, tuple[str, str]] = {}

    def _created(self, created_us: int | None) -> tuple:
        """(database value, ISO text) of createdDateTime."""
        if created_us is None:
            return None, None
        naive = NAIVE_EPOCH + timedelta(microseconds=created_us)  # UTC
        text = naive.isoformat(" ")
        # SQLite stores str() of the naive UTC time, as Django's adapter would make it.
        stored = text if self.sqlite else self.adapt_datetime(naive.replace(tzinfo=UTC))
        return stored, text.replace(" ", "T") + "Z"

    def values(self, packed: int) -> tuple:
        active, bits, created = unpack(packed)
        return (active, self._created(created)[0], *FLAGS_OF_BITS[bits])

    def json(self, packed: int | None):
        if packed is None:
            return None
        active, bits, created = unpack(packed)
        iso = self._created(created)[1]
        if not self.sqlite:
            return self.adapt_json(self._as_dict(active, bits, iso), None)
        # SQLite stores JSON text: only the time differs between grants of the same shape.
        parts = self._json_parts.get((active, bits))
        if parts is None:
            text = json.dumps(self._as_dict(active, bits, "\0"))
            parts = self._json_parts[(active, bits)] = tuple(text.split('"\\u0000"'))
        return parts[0] + ("null" if iso is None else f'"{iso}"') + parts[1]

    @staticmethod
    def _as_dict(active: bool, bits: int, iso: str | None) -> dict:
        return {
            "is_active": active,
            "created_in_teams": iso,
            **dict(zip(ACTION_FIELDS, FLAGS_OF_BITS[bits], strict=True)),
        }


def _write_grants(run: SyncRun, diff: GrantDiff, at) -> None:
    when = connection.ops.adapt_datetimefield_value(at)
    columns = _GrantColumns()
    # Key order (delegator, delegate) keeps most index inserts appending: 2-3x faster on SQLite.
    diff.insert.sort()
    grant_columns = ("is_active", "created_in_teams", *ACTION_FIELDS)
    _insert(
        Delegation,
        ("delegator", "delegate", *grant_columns, "first_seen", "last_changed"),
        ((*split_key(key), *columns.values(packed), when, when) for key, packed in diff.insert),
    )
    _update(
        Delegation,
        (*grant_columns, "last_changed"),
        ((*columns.values(after), when, pk) for pk, _, _, after in diff.update),
    )
    _delete(Delegation, (pk for pk, _, _ in diff.remove))
    kind = DelegationChange.Kind
    changes = itertools.chain(
        ((key, kind.ADDED, None, packed) for key, packed in diff.insert),
        ((key, kind.CHANGED, before, after) for _, key, before, after in diff.update),
        ((key, kind.REMOVED, before, None) for _, key, before in diff.remove),
    )
    _insert(
        DelegationChange,
        ("run", "at", "delegator", "delegate", "kind", "before", "after"),
        (
            (run.pk, when, *split_key(key), what, columns.json(before), columns.json(after))
            for key, what, before, after in changes
        ),
    )


# ------------------------------------------------------------------ the transaction
def apply_run(run_id: int, snapshot: PeopleSnapshot, fetch: FetchResult, graph: dict) -> SyncRun:
    """Write the diff and the run's figures; all or nothing."""
    at = timezone.now()
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        if run.status != SyncRun.Status.RUNNING:
            raise lock.LockLost(f"sync #{run_id} is {run.status}, not running")
        counts, removed_pks = _write_people(snapshot, at)
        pk_of = dict(DirectoryUser.objects.values_list("object_id", "pk"))
        _add_unknown_people(fetch.grants, pk_of, at)
        wanted = {}
        grants = fetch.grants
        while grants:  # popped, not copied: the list shrinks as the dict grows
            delegator, delegate, packed = grants.pop()
            wanted[grant_key(pk_of[delegator], pk_of[delegate])] = packed
        read = {pk_of[oid] for oid in fetch.fetched if oid in pk_of} | removed_pks
        diff = diff_grants(_stored_grants(), wanted, read)
        _write_grants(run, diff, at)
        if snapshot.delta_link:
            SyncCursor.objects.update_or_create(
                name=DELTA_CURSOR, defaults={"value": snapshot.delta_link}
            )
        # People whose delegates could not be read, by kind (requests retried into success
        # are not failures; ClientStats keeps those for Graph health).
        failures = dict(Counter(fetch.failed.values()))
        if snapshot.invalid:
            failures["invalid_user"] = failures.get("invalid_user", 0) + snapshot.invalid
        failed_ids = sorted(fetch.failed)
        run.status = (
            SyncRun.Status.PARTIAL if failed_ids or snapshot.invalid else SyncRun.Status.SUCCEEDED
        )
        run.finished_at = timezone.now()
        run.heartbeat_at = run.finished_at
        run.people = DirectoryUser.objects.filter(
            in_directory=True, removed_at__isnull=True
        ).count()
        run.progress_done = run.progress_total = max(run.progress_total, len(read))
        run.delegations_added = len(diff.insert)
        run.delegations_changed = len(diff.update)
        run.delegations_removed = len(diff.remove)
        run.graph_requests = graph.get("requests", 0)
        run.throttled = graph.get("throttled", 0)
        run.retries = graph.get("retries", 0)
        run.failures = failures
        run.failed_user_ids = failed_ids[:MAX_FAILED_IDS]
        run.error = (
            f"{len(failed_ids)} people's delegations could not be read; their rows were kept."
            if failed_ids
            else ""
        )
        for name, value in counts.items():
            setattr(run, name, value)
        run.save()
    return run
