"""What Teams holds for one delegator, written into the cache, and compared with a request.

A verification reads one delegator's delegates (portal.graph.delegation_writes.
read_delegates_packed: delegate id -> the sync's packed grant) and `record` makes the cache
hold exactly that: Delegation rows added, changed or removed, each difference a DelegationChange
(run empty; the change request's id on the row of the pair it verifies). The caller runs it
inside the transaction that also moves the request's state. Rows are written in the sync's own
form (delegation.sync.diff.grant_fields/grant_json), so the next sync finds them unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

from delegation.changes import snapshots
from delegation.models import Delegation, DelegationChange, DirectoryUser
from delegation.sync.diff import grant_fields, grant_json
from portal.allowed_actions import ACTIONS, FIELDS, bit
from portal.graph.delegation_writes import snapshot_of
from portal.graph.delegations import micros, pack


def packed_of(grant: Delegation) -> int:
    bits = sum(bit(field) for field in FIELDS if getattr(grant, field))
    created = micros(grant.created_in_teams) if grant.created_in_teams else None
    return pack(grant.is_active, bits, created)


def _people(object_ids: set[str], at) -> dict[str, DirectoryUser]:
    """The cache's rows of these people; one Teams names that /users does not list is kept as
    "unknown person (id)" (in_directory False), as the sync keeps it."""
    rows = {
        row.object_id.lower(): row for row in DirectoryUser.objects.filter(object_id__in=object_ids)
    }
    for object_id in sorted(object_ids - set(rows)):
        rows[object_id] = DirectoryUser.objects.create(
            object_id=object_id, in_directory=False, first_seen=at, updated_at=at
        )
    return rows


def record(
    delegator_id: str, teams: Mapping[str, int], *, at, change_request=None
) -> dict[str, DelegationChange]:
    """Make the cache hold `teams` for this delegator; the changes written, by delegate id."""
    delegator_id = delegator_id.lower()
    teams = {delegate.lower(): packed for delegate, packed in teams.items()}
    people = _people({delegator_id, *teams}, at)
    delegator = people[delegator_id]
    stored = {
        grant.delegate.object_id.lower(): grant
        for grant in Delegation.objects.filter(delegator=delegator).select_related("delegate")
    }
    pair_of_request = (
        (change_request.delegator_object_id.lower(), change_request.delegate_object_id.lower())
        if change_request is not None
        else None
    )
    written: dict[str, DelegationChange] = {}

    def note(delegate: DirectoryUser, kind: str, before: int | None, after: int | None) -> None:
        linked = (
            change_request
            if (delegator_id, delegate.object_id.lower()) == pair_of_request
            else None
        )
        written[delegate.object_id.lower()] = DelegationChange.objects.create(
            run=None,
            change_request=linked,
            at=at,
            delegator=delegator,
            delegate=delegate,
            kind=kind,
            before=None if before is None else grant_json(before),
            after=None if after is None else grant_json(after),
        )

    for delegate_id, packed in teams.items():
        grant = stored.pop(delegate_id, None)
        if grant is None:
            Delegation.objects.create(
                delegator=delegator,
                delegate=people[delegate_id],
                first_seen=at,
                last_changed=at,
                **grant_fields(packed),
            )
            note(people[delegate_id], DelegationChange.Kind.ADDED, None, packed)
            continue
        before = packed_of(grant)
        if before != packed:
            for name, value in grant_fields(packed).items():
                setattr(grant, name, value)
            grant.last_changed = at
            grant.save()
            note(grant.delegate, DelegationChange.Kind.CHANGED, before, packed)
    for grant in stored.values():
        grant.delete()
        note(grant.delegate, DelegationChange.Kind.REMOVED, packed_of(grant), None)
    return written


def holds(after: Mapping | None, packed: int | None, *, ignore_active: bool = False) -> bool:
    """Whether Teams' grant (packed, None = none) is the one `after` asks for. Teams PowerShell
    cannot set IsActive, so a PowerShell-applied request is compared without it."""
    if after is None or packed is None:
        return after is None and packed is None
    wanted, found = snapshots.normalised(after), snapshot_of(packed)
    keys = FIELDS if ignore_active else snapshots.KEYS
    return all(wanted[key] == found[key] for key in keys)


def describe(grant: Mapping | None) -> str:
    """A grant in words: "no delegation", "active: Make calls, Receive calls"."""
    if grant is None:
        return "no delegation"
    grant = snapshots.normalised(grant)
    allowed = [action.label for action in ACTIONS if grant[action.field]]
    state = "active" if grant["is_active"] else "inactive"
    return f"{state}: {', '.join(allowed) if allowed else 'no allowed actions'}"


def describe_packed(packed: int | None) -> str:
    return describe(None if packed is None else snapshot_of(packed))
