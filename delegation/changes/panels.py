"""Reads for the delegates panels (a person's page, My delegations) and the grant form: one
delegator's delegates with what Teams shows each side and when each ends, and that delegator's
recent change requests. Each panel costs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from delegation.changes import facts, rules, selectors, snapshots
from delegation.changes.models import ChangeRequest
from delegation.changes.selectors import TeamsView, what_teams_will_show
from delegation.models import Delegation, DirectoryUser
from delegation.selectors.people import grants_given
from portal.allowed_actions import FIELDS

RECENT_LIMIT = 10


@dataclass(frozen=True)
class DelegateRow:
    grant: Delegation
    teams: TeamsView
    ends: ChangeRequest | None  # the verified request whose end date applies, if any


@dataclass
class Panel:
    delegator: DirectoryUser
    acting: str | None  # "self", "delegate", "staff": may change these delegates; None: may not
    rows: list[DelegateRow] = field(default_factory=list)
    recent: list[ChangeRequest] = field(default_factory=list)


def label(person: DirectoryUser | None, fallback: str = "") -> str:
    if person is None:
        return fallback or "someone unknown"
    return person.display_name or person.upn or person.object_id


def grant_snapshot(grant: Delegation | None) -> dict | None:
    if grant is None:
        return None
    return snapshots.snapshot(
        is_active=grant.is_active, **{name: getattr(grant, name) for name in FIELDS}
    )


def panel(user, delegator: DirectoryUser, actor: rules.Actor | None = None) -> Panel:
    """One delegator's panel, as `user` may see it (changes offered only where they may).
    `actor`: the person as `facts.actor_of(user)` read them (every delegator they manage), so
    My delegations reads it once for all its panels."""
    grants = grants_given(delegator)
    ends = selectors.end_dates((delegator.object_id, g.delegate.object_id) for g in grants)
    name = label(delegator)
    rows = [
        DelegateRow(
            grant,
            what_teams_will_show(name, label(grant.delegate), grant_snapshot(grant)),
            ends.get((delegator.object_id.lower(), grant.delegate.object_id.lower())),
        )
        for grant in grants
    ]
    recent = (
        selectors.requests_for_user(user, actor)
        .filter(delegator_object_id=delegator.object_id.lower())
        .order_by("-created_at", "-pk")[:RECENT_LIMIT]
    )
    if actor is None:
        acting = selectors.acting_as(user, delegator.object_id)
    else:  # the same answer: acting_as asks whether this delegator is among those managed
        acting = rules.acting_as(actor, delegator.object_id.lower())
    return Panel(delegator, acting, rows, list(recent))


def my_panels(user) -> list[Panel]:
    """My own delegates' panel, then one per delegator I manage as a manage-settings delegate."""
    actor = facts.actor_of(user)
    ids = selectors.manageable_delegators(user, actor)
    people = {p.object_id.lower(): p for p in DirectoryUser.objects.filter(object_id__in=ids)}
    return [panel(user, people[oid], actor) for oid in ids if oid in people]


def delegator_for_user(user, object_id: str) -> DirectoryUser | None:
    """The delegator whose delegates `user` may change, or None (the pages answer 404)."""
    person = DirectoryUser.objects.filter(object_id=object_id.lower()).first()
    if person is None or not selectors.may_manage(user, person.object_id):
        return None
    return person


def current_grant(delegator: DirectoryUser, delegate_id: str) -> Delegation | None:
    return (
        Delegation.objects.filter(delegator=delegator, delegate__object_id=delegate_id.lower())
        .select_related("delegate")
        .first()
    )


def directory_person(object_id: str) -> DirectoryUser | None:
    return DirectoryUser.objects.filter(object_id=object_id.lower()).first() if object_id else None


def made_with_key(user, idempotency_key: str) -> bool:
    """Whether this person already made a request with this form's key (a double submit)."""
    return ChangeRequest.objects.filter(idempotency_key=idempotency_key, requested_by=user).exists()
