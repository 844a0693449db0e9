"""The cache as the sync compares against it and writes it: people as person tuples, grants
packed or as their column values. Read a chunk at a time, by the staging as pages and delegates
come in (to stage only what differs), and again by the apply inside its transaction (to write
only what still differs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.db import connection

from delegation.models import Delegation, DirectoryUser
from delegation.sync import sql
from delegation.sync.diff import StoredGrant, StoredPerson, grant_key, same_person
from portal import allowed_actions
from portal.graph.delegations import micros, pack, unpack

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
    "manager_id",  # the manager's object id (DirectoryUser.manager points by object id)
)
ACTION_FIELDS = allowed_actions.FIELDS
ACTION_BITS = tuple(allowed_actions.bit(field) for field in ACTION_FIELDS)
NAIVE_EPOCH = datetime(1970, 1, 1)
# Every combination of the actions' bits, as the five booleans it stands for (field order).
FLAGS_OF_BITS = tuple(
    tuple(bool(bits & bit) for bit in ACTION_BITS) for bits in range(1 << len(ACTION_BITS))
)


class GrantColumns:
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

    def as_read(self, packed: int) -> tuple:
        """The columns as a plain cursor returns them: naive UTC on SQLite, aware elsewhere."""
        active, bits, created = unpack(packed)
        if created is not None:
            created = NAIVE_EPOCH + timedelta(microseconds=created)
            created = created if self.sqlite else created.replace(tzinfo=UTC)
        return (active, created, *FLAGS_OF_BITS[bits])

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


def packed(active: bool, created, actions) -> int:
    """A grant's columns (the five actions in ACTION_FIELDS order) as one packed int."""
    bits = sum(bit for bit, allowed in zip(ACTION_BITS, actions, strict=True) if allowed)
    return pack(active, bits, micros(created) if created is not None else None)


def stored_people(object_ids: list[str]) -> dict[str, StoredPerson]:
    """object id -> the person as stored, for those the cache holds."""
    rows = DirectoryUser.objects.values_list("pk", *PERSON_COLUMNS, "in_directory", "removed_at")
    out = {}
    for chunk in sql.chunks(object_ids, sql.IN_LIST):
        for pk, *person, in_directory, removed_at in rows.filter(object_id__in=chunk):
            out[person[0]] = StoredPerson(pk, tuple(person), in_directory, removed_at is not None)
    return out


def people_to_write(people: list[tuple]) -> list[tuple]:
    """Of these person tuples, those whom writing would change (new, changed, back in /users;
    an unsaid manager changes nothing). Compared with the columns as a plain cursor returns them
    (no Django converters: a page at a time while the batches are out); a false "changed" only
    costs the apply a second look."""
    u = sql.table(DirectoryUser)
    columns = ", ".join(sql.column(DirectoryUser, name) for name in PERSON_COLUMNS)
    present = f"{sql.column(DirectoryUser, 'in_directory')} = %s AND " + (
        f"{sql.column(DirectoryUser, 'removed_at')} IS NULL"
    )
    stored = {}
    for chunk in sql.chunks([person[0] for person in people], sql.IN_LIST):
        rows = sql.select(
            f"SELECT {columns} FROM {u} WHERE {present} "  # noqa: S608 - our names
            f"AND {sql.column(DirectoryUser, 'object_id')} IN ({sql.marks(len(chunk))})",
            [True, *chunk],
        )
        stored.update((row[0], row) for row in rows)
    return [person for person in people if not same_person(stored.get(person[0]), person)]


def stored_grants(delegator_pks: list[int]) -> Iterator[StoredGrant]:
    rows = Delegation.objects.values_list(
        "pk", "delegator_id", "delegate_id", "is_active", "created_in_teams", *ACTION_FIELDS
    )
    for chunk in sql.chunks(delegator_pks, sql.IN_LIST):
        for pk, delegator, delegate, active, created, *actions in rows.filter(
            delegator_id__in=chunk
        ):
            yield StoredGrant(pk, grant_key(delegator, delegate), packed(active, created, actions))


def delegators_to_write(read: dict[str, list[tuple[str, int]]], columns) -> list[str]:
    """Of these delegators (object id -> (delegate id, packed) read), those whose grants differ
    from the cache's. Compared as a plain cursor returns the columns (no Django converters),
    against `columns.as_read(packed)`: a false "differ" only costs the apply a second look."""
    d, u = sql.table(Delegation), sql.table(DirectoryUser)
    u_id, u_oid = (sql.column(DirectoryUser, name) for name in ("id", "object_id"))
    grant = ", ".join(
        f"d.{sql.column(Delegation, name)}"
        for name in ("is_active", "created_in_teams", *ACTION_FIELDS)
    )
    stored: dict[str, dict[str, tuple]] = {}
    for chunk in sql.chunks(list(read), sql.IN_LIST):
        rows = sql.select(
            f"SELECT a.{u_oid}, b.{u_oid}, {grant} FROM {d} d "  # noqa: S608 - our names
            f"JOIN {u} a ON a.{u_id} = d.{sql.column(Delegation, 'delegator')} "
            f"JOIN {u} b ON b.{u_id} = d.{sql.column(Delegation, 'delegate')} "
            f"WHERE a.{u_oid} IN ({sql.marks(len(chunk))})",
            chunk,
        )
        for delegator, delegate, *values in rows:
            stored.setdefault(delegator, {})[delegate] = tuple(values)
    return [
        person
        for person, grants in read.items()
        if stored.get(person, {}) != {delegate: columns.as_read(p) for delegate, p in grants}
    ]


def present_people() -> Iterator[str]:
    """Object ids of everyone the cache holds as in the directory now."""
    rows = DirectoryUser.objects.filter(in_directory=True, removed_at__isnull=True)
    return rows.values_list("object_id", flat=True).iterator(chunk_size=sql.CHUNK)
