"""What changed since the last sync: pure functions over compact tuples, no database.

People are `(object_id, display_name, upn, mail, department, job_title, account_enabled)`.
A grant is keyed by `grant_key(delegator_pk, delegate_pk)` and valued by a packed int
(portal.graph.delegations.pack): is_active, the five allowed actions, createdDateTime.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from portal import allowed_actions
from portal.graph.delegations import unpack

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KEY_SHIFT = 32


def grant_key(delegator_pk: int, delegate_pk: int) -> int:
    return (delegator_pk << KEY_SHIFT) | delegate_pk


def split_key(key: int) -> tuple[int, int]:
    return key >> KEY_SHIFT, key & ((1 << KEY_SHIFT) - 1)


def from_micros(value: int | None) -> datetime | None:
    return None if value is None else EPOCH + timedelta(microseconds=value)


def grant_fields(packed: int) -> dict:
    """The Delegation columns a packed grant stands for."""
    active, bits, created = unpack(packed)
    out = {"is_active": active, "created_in_teams": from_micros(created)}
    for name in allowed_actions.FIELDS:
        out[name] = bool(bits & allowed_actions.bit(name))
    return out


def grant_json(packed: int) -> dict:
    """A grant as DelegationChange stores it in before/after."""
    out = grant_fields(packed)
    created = out["created_in_teams"]
    out["created_in_teams"] = created.isoformat().replace("+00:00", "Z") if created else None
    return out


# ------------------------------------------------------------------ people
# A stored person: (pk, person tuple, in_directory, removed)
StoredPerson = tuple


@dataclass
class PeopleDiff:
    insert: list = field(default_factory=list)  # person tuples
    update: list = field(default_factory=list)  # (pk, person tuple)
    remove: list = field(default_factory=list)  # pk


def diff_people(
    stored: dict[str, StoredPerson], present: Iterable[tuple], removed: Iterable[str]
) -> PeopleDiff:
    """Rows to write so the directory holds `present` and marks `removed` as gone.

    A person is only written when a field or their presence changed.
    """
    out = PeopleDiff()
    for person in present:
        row = stored.get(person[0])
        if row is None:
            out.insert.append(person)
        elif row[1] != person or not row[2] or row[3]:
            out.update.append((row[0], person))
    for object_id in removed:
        row = stored.get(object_id)
        if row is not None and row[2] and not row[3]:
            out.remove.append(row[0])
    return out


# ------------------------------------------------------------------ grants
@dataclass
class GrantDiff:
    insert: list = field(default_factory=list)  # (key, packed)
    update: list = field(default_factory=list)  # (pk, key, before, after)
    remove: list = field(default_factory=list)  # (pk, key, before)


def diff_grants(
    stored: Iterable[tuple[int, int, int]], wanted: dict[int, int], read_delegators: set[int]
) -> GrantDiff:
    """Compare stored grants `(pk, key, packed)` with `wanted` {key: packed}.

    Only delegators in `read_delegators` are compared: a person whose delegates could not be
    read keeps the rows they had. `wanted` is consumed (emptied) to spare memory.
    """
    out = GrantDiff()
    for pk, key, packed in stored:
        if key >> KEY_SHIFT not in read_delegators:
            continue
        new = wanted.pop(key, None)
        if new is None:
            out.remove.append((pk, key, packed))
        elif new != packed:
            out.update.append((pk, key, packed, new))
    while wanted:
        key, packed = wanted.popitem()
        out.insert.append((key, packed))
    return out
