"""What changed since the last sync: pure functions over compact tuples, no database.

People are person tuples (portal.graph.directory.PERSON_FIELDS): `(object_id, display_name,
upn, mail, department, job_title, account_enabled, voice_enabled, manager)`, the manager last;
a full listing's say nothing of the manager (MANAGER_UNSAID), and the cache's then stands.
A grant is keyed by `grant_key(delegator_pk, delegate_pk)` and valued by a packed int
(portal.graph.delegations.pack): is_active, the five allowed actions, createdDateTime.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from portal import allowed_actions
from portal.graph.delegations import unpack
from portal.graph.directory import MANAGER_UNSAID, PERSON_FIELDS

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MANAGER = PERSON_FIELDS.index("managerId")  # the last field: a slice before it is the rest
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
def manager_unsaid(person: tuple) -> bool:
    return person[MANAGER] == MANAGER_UNSAID


def same_person(stored: tuple | None, person: tuple) -> bool:
    """Whether writing `person` would leave `stored` as it is. A manager the listing left
    unsaid matches any: the cache's stands (the manager refresh and the delta keep it)."""
    if stored is None:
        return False
    if manager_unsaid(person):
        return stored[:MANAGER] == person[:MANAGER]
    return stored == person


def manager_said(person: tuple) -> tuple:
    """A new person's tuple as written: an unsaid manager is none until the refresh says."""
    return (*person[:MANAGER], None) if manager_unsaid(person) else person


class StoredPerson(NamedTuple):
    """A person as the cache holds them (still a tuple: hundreds of thousands stay small)."""

    pk: int
    person: tuple  # portal.graph.directory.person_tuple
    in_directory: bool
    removed: bool


class PersonUpdate(NamedTuple):
    pk: int
    person: tuple


@dataclass
class PeopleDiff:
    insert: list[tuple] = field(default_factory=list)  # person tuples
    update: list[PersonUpdate] = field(default_factory=list)
    remove: list[int] = field(default_factory=list)  # pks


def diff_people(
    stored: dict[str, StoredPerson], present: Iterable[tuple], removed: Iterable[str]
) -> PeopleDiff:
    """Rows to write so the directory holds `present` and marks `removed` as gone.

    A person is only written when a field or their presence changed. An update keeps an unsaid
    manager (the apply leaves the column alone); an insert has none.
    """
    out = PeopleDiff()
    for person in present:
        row = stored.get(person[0])
        if row is None:
            out.insert.append(manager_said(person))
            continue
        pk, before, in_directory, was_removed = row  # a StoredPerson, or any 4-tuple
        if not same_person(before, person) or not in_directory or was_removed:
            out.update.append(PersonUpdate(pk, person))
    for object_id in removed:
        row = stored.get(object_id)
        if row is not None:
            pk, _, in_directory, was_removed = row
            if in_directory and not was_removed:
                out.remove.append(pk)
    return out


# ------------------------------------------------------------------ grants
class StoredGrant(NamedTuple):
    pk: int
    key: int  # grant_key(delegator pk, delegate pk)
    packed: int  # portal.graph.delegations.pack


class NewGrant(NamedTuple):
    key: int
    packed: int


class ChangedGrant(NamedTuple):
    pk: int
    key: int
    before: int
    after: int


@dataclass
class GrantDiff:
    insert: list[NewGrant] = field(default_factory=list)
    update: list[ChangedGrant] = field(default_factory=list)
    remove: list[StoredGrant] = field(default_factory=list)


def diff_grants(
    stored: Iterable[StoredGrant], wanted: dict[int, int], read_delegators: set[int]
) -> GrantDiff:
    """Compare stored grants with `wanted` {key: packed}.

    Only delegators in `read_delegators` are compared: a person whose delegates could not be
    read keeps the rows they had. `wanted` is consumed (emptied) to spare memory.
    """
    out = GrantDiff()
    for pk, key, packed in stored:  # StoredGrant rows
        if key >> KEY_SHIFT not in read_delegators:
            continue
        new = wanted.pop(key, None)
        if new is None:
            out.remove.append(StoredGrant(pk, key, packed))
        elif new != packed:
            out.update.append(ChangedGrant(pk, key, packed, new))
    while wanted:
        out.insert.append(NewGrant(*wanted.popitem()))
    return out
