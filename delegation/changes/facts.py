"""The facts the rules judge a change on, read from the cache and the pending requests.

`rules` takes plain data; this module gathers it: who the actor is (their capabilities, whose
settings they may manage), the two people, the grant as cached, everyone the limits count
(cached grants and pending adds), and a pending request for the same pair. Object ids are
compared lower-case, as the sync stores them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models.functions import Lower

from delegation.changes import rules, snapshots, states
from delegation.changes.csv_import import ImportRow
from delegation.changes.csv_plan import Current
from delegation.changes.models import ChangeRequest
from delegation.models import Delegation, DirectoryUser
from portal.allowed_actions import FIELDS
from portal.roles import CAPABILITIES, user_has_capability

CHUNK = 500
GRANT_COLUMNS = ("delegator__object_id", "delegate__object_id", "is_active", *FIELDS)


def _chunks(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def capabilities_of(user) -> frozenset[str]:
    return frozenset(code for code in CAPABILITIES if user_has_capability(user, code))


def actor_of(user, delegator_id: str | None = None) -> rules.Actor:
    """The signed-in person as rules.Actor. `manages_settings_of` holds the delegators whose
    active grant to them allows manage settings (only `delegator_id`, when given)."""
    object_id = (getattr(user, "object_id", "") or "").lower() or None
    manages: frozenset[str] = frozenset()
    if object_id:
        grants = Delegation.objects.filter(
            delegate__object_id=object_id, is_active=True, manage_settings=True
        )
        if delegator_id:
            grants = grants.filter(delegator__object_id=delegator_id.lower())
        manages = frozenset(
            oid.lower() for oid in grants.values_list("delegator__object_id", flat=True)
        )
    return rules.Actor(object_id, capabilities_of(user), manages)


def person_from(row: DirectoryUser | None) -> rules.Person | None:
    if row is None:
        return None
    return rules.Person(
        row.object_id.lower(),
        label=row.display_name or row.upn,
        in_directory=row.in_directory and row.removed_at is None,
        enabled=row.account_enabled,
    )


def grant_snapshot(grant: Delegation | None) -> snapshots.Snapshot | None:
    if grant is None:
        return None
    return snapshots.snapshot(
        is_active=grant.is_active, **{field: getattr(grant, field) for field in FIELDS}
    )


@dataclass(frozen=True)
class Facts:
    """A proposal and the rows it was read from (names are frozen into the request)."""

    proposal: rules.Proposal
    delegator: DirectoryUser | None
    delegate: DirectoryUser | None


def _pending(**filters):
    return ChangeRequest.objects.filter(status__in=states.PENDING, **filters)


def proposal_facts(
    delegator_id: str, delegate_id: str, after, *, ends_at=None, exclude_request: int | None = None
) -> Facts:
    """Everything rules.check needs for one change. Run it under `locks.lock_people` so the
    facts cannot change before the request is saved."""
    delegator_id, delegate_id = delegator_id.lower(), delegate_id.lower()
    rows = {
        row.object_id.lower(): row
        for row in DirectoryUser.objects.filter(object_id__in={delegator_id, delegate_id})
    }
    current = (
        Delegation.objects.filter(
            delegator__object_id=delegator_id, delegate__object_id=delegate_id
        )
        .only("is_active", *FIELDS)
        .first()
    )
    delegates = _counterparts(delegator_id, side="delegator", other="delegate")
    delegators = _counterparts(delegate_id, side="delegate", other="delegator")
    pending = _pending(delegator_object_id=delegator_id, delegate_object_id=delegate_id)
    if exclude_request is not None:
        pending = pending.exclude(pk=exclude_request)
    proposal = rules.Proposal(
        person_from(rows.get(delegator_id)),
        person_from(rows.get(delegate_id)),
        current=grant_snapshot(current),
        after=snapshots.normalised(after),
        delegates_of_delegator=frozenset(d.lower() for d in delegates),
        delegators_of_delegate=frozenset(d.lower() for d in delegators),
        pending_request_id=pending.values_list("pk", flat=True).first(),
        ends_at=ends_at,
    )
    return Facts(proposal, rows.get(delegator_id), rows.get(delegate_id))


# --- a CSV file's facts ------------------------------------------------------------------------
def _people_named(ids: set[str], upns: set[str]) -> list[DirectoryUser]:
    """The directory rows of these ids and UPNs. UPNs are matched as written and lower-case
    first (the upn index), and only those still missing without regard to case (a scan)."""
    found = []
    for chunk in _chunks(ids):
        found += DirectoryUser.objects.filter(object_id__in=chunk)
    spellings = {spelling for upn in upns for spelling in (upn, upn.lower())}
    for chunk in _chunks(spellings):
        found += DirectoryUser.objects.filter(upn__in=chunk)
    missing = {upn.casefold() for upn in upns} - {row.upn.casefold() for row in found}
    for chunk in _chunks(missing):
        found += DirectoryUser.objects.annotate(upn_folded=Lower("upn")).filter(
            upn_folded__in=chunk
        )
    return found


def csv_current(rows: list[ImportRow]) -> Current:
    """What csv_plan.plan needs for these rows: the people they name (by id or UPN), every cached
    grant in which one of them is delegator or delegate, and what is pending for them. A fixed
    number of indexed queries per 500 people, whatever the size of the cache."""
    refs = [ref for row in rows for ref in (row.delegator, row.delegate)]
    ids = {ref.object_id for ref in refs if ref.object_id}
    upns = {ref.upn for ref in refs if ref.upn and not ref.object_id}
    people: dict[str, rules.Person] = {}
    ids_by_upn: dict[str, str] = {}
    pks = set()
    for row in _people_named(ids, upns):
        pks.add(row.pk)
        people[row.object_id.lower()] = person_from(row)
        if row.upn and row.in_directory and row.removed_at is None:
            ids_by_upn[row.upn.casefold()] = row.object_id.lower()
    grants = {}
    for side in ("delegator_id__in", "delegate_id__in"):  # two indexed lookups, not one OR
        for chunk in _chunks(pks):
            for delegator, delegate, active, *actions in Delegation.objects.filter(
                **{side: chunk}
            ).values_list(*GRANT_COLUMNS):
                grants[(delegator.lower(), delegate.lower())] = {
                    "is_active": active,
                    **dict(zip(FIELDS, actions, strict=True)),
                }
    pending: dict[tuple[str, str], int] = {}
    pending_adds = set()
    for side in ("delegator_object_id__in", "delegate_object_id__in"):
        for chunk in _chunks(ids | set(people)):
            for pk, delegator, delegate, kind in _pending(**{side: chunk}).values_list(
                "pk", "delegator_object_id", "delegate_object_id", "kind"
            ):
                pair = (delegator.lower(), delegate.lower())
                pending[pair] = pk
                if kind == rules.ADD:
                    pending_adds.add(pair)
    return Current(people, ids_by_upn, grants, pending, pending_adds)


def cached_grants(pairs) -> dict[tuple[str, str], Delegation]:
    """The cache's grants of these (delegator id, delegate id) pairs, lower case."""
    pairs = set(pairs)
    delegators = sorted({delegator for delegator, _ in pairs})
    found: dict[tuple[str, str], Delegation] = {}
    for chunk in _chunks(delegators):
        rows = (
            Delegation.objects.filter(delegator__object_id__in=chunk)
            .select_related("delegator", "delegate")
            .only(
                "is_active",
                "created_in_teams",
                *FIELDS,
                "delegator__object_id",
                "delegate__object_id",
            )
        )
        for grant in rows:
            pair = (grant.delegator.object_id.lower(), grant.delegate.object_id.lower())
            if pair in pairs:
                found[pair] = grant
    return found


def pending_pairs(pairs, *, exclude_batch=None) -> dict[tuple[str, str], int]:
    """Pending requests of these pairs: pair -> request id."""
    pairs = set(pairs)
    delegators = sorted({delegator for delegator, _ in pairs})
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(delegators):
        rows = _pending(delegator_object_id__in=chunk)
        if exclude_batch is not None:
            rows = rows.exclude(batch=exclude_batch)
        for pk, delegator, delegate in rows.values_list(
            "pk", "delegator_object_id", "delegate_object_id"
        ):
            if (delegator, delegate) in pairs:
                found[(delegator, delegate)] = pk
    return found


def _counterparts(object_id: str, *, side: str, other: str) -> set[str]:
    """Who is on the `other` side of `object_id`'s grants (where it is the `side`): in the cache,
    or about to be, by an addition still pending."""
    cached = Delegation.objects.filter(**{f"{side}__object_id": object_id})
    pending = _pending(**{f"{side}_object_id": object_id}, kind=rules.ADD)
    return set(cached.values_list(f"{other}__object_id", flat=True)) | set(
        pending.values_list(f"{other}_object_id", flat=True)
    )
