"""The cache as the sync compares against it: people as person tuples, grants packed. Read a
chunk at a time, by the staging as pages and delegates come in (to stage only what differs),
and again by the apply inside its transaction (to write only what still differs)."""

from __future__ import annotations

from collections.abc import Iterator

from delegation.models import Delegation, DirectoryUser
from delegation.sync import sql
from delegation.sync.diff import StoredGrant, StoredPerson, grant_key
from portal import allowed_actions
from portal.graph.delegations import micros, pack

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
ACTION_FIELDS = allowed_actions.FIELDS
ACTION_BITS = tuple(allowed_actions.bit(field) for field in ACTION_FIELDS)


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


def differs(person: tuple, stored: StoredPerson | None) -> bool:
    """Whether writing `person` would change the cache (new, changed, or back in /users)."""
    return stored is None or stored.person != person or not stored.in_directory or stored.removed


def stored_grants(delegator_pks: list[int]) -> Iterator[StoredGrant]:
    rows = Delegation.objects.values_list(
        "pk", "delegator_id", "delegate_id", "is_active", "created_in_teams", *ACTION_FIELDS
    )
    for chunk in sql.chunks(delegator_pks, sql.IN_LIST):
        for pk, delegator, delegate, active, created, *actions in rows.filter(
            delegator_id__in=chunk
        ):
            yield StoredGrant(pk, grant_key(delegator, delegate), packed(active, created, actions))


def grants_by_object_id(delegators: list[str]) -> dict[str, dict[str, int]]:
    """delegator object id -> {delegate object id: packed}, as the cache holds them."""
    rows = Delegation.objects.values_list(
        "delegator__object_id", "delegate__object_id", "is_active", "created_in_teams",
        *ACTION_FIELDS,
    )  # fmt: skip
    out: dict[str, dict[str, int]] = {}
    for chunk in sql.chunks(delegators, sql.IN_LIST):
        for delegator, delegate, active, created, *actions in rows.filter(
            delegator__object_id__in=chunk
        ):
            out.setdefault(delegator, {})[delegate] = packed(active, created, actions)
    return out


def present_people() -> Iterator[str]:
    """Object ids of everyone the cache holds as in the directory now."""
    rows = DirectoryUser.objects.filter(in_directory=True, removed_at__isnull=True)
    return rows.values_list("object_id", flat=True).iterator(chunk_size=sql.CHUNK)
