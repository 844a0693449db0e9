"""Whether a change to a delegation may be made, as plain functions over plain data.

Each check answers a list of Refusals (a code to branch on, words to show): an empty list means
the change may go ahead. Nothing here reads the database or Graph; the services gather the facts
(the cached grants, the pending requests, who is enabled) and pass them in.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from delegation.changes import snapshots
from portal.allowed_actions import TEAMS_DELEGATION_LIMIT

ADD, CHANGE, REMOVE = "add", "change", "remove"
SELF, DELEGATE, STAFF = "self", "delegate", "staff"  # ChangeRequest.ActingAs values
DEFAULT_MAX_END_DAYS = 365
# The capability that lets helpdesk and admin manage anyone's delegates (portal/roles.py).
MANAGE_ANY_CAPABILITY = "manage_delegations"
APPROVAL_POLICIES = ("none", "risky", "all")


@dataclass(frozen=True)
class Refusal:
    code: str
    words: str


@dataclass(frozen=True)
class Person:
    object_id: str
    label: str = ""
    in_directory: bool = True
    enabled: bool = True
    has_voice_licence: bool | None = None  # None: the directory does not say; allowed


@dataclass(frozen=True)
class Proposal:
    """One asked-for change with the facts it is judged on."""

    delegator: Person | None  # None: no such person in the directory
    delegate: Person | None
    current: Mapping | None  # the grant as cached now, or None
    after: Mapping | None  # the grant wanted, or None to remove it
    # Object ids of the delegator's delegates, cached and pending adds; and the delegate's
    # delegators likewise. Sets, so a pair counted twice is still one.
    delegates_of_delegator: Collection[str] = field(default_factory=frozenset)
    delegators_of_delegate: Collection[str] = field(default_factory=frozenset)
    pending_request_id: int | None = None  # another request for this pair still pending
    ends_at: datetime | None = None


def kind_of(current: Mapping | None, after: Mapping | None) -> str:
    """An add of a grant that exists becomes a change: "make X my delegate with these actions"
    means the same whether or not X already is one, and an edited CSV export says exactly that.
    A change identical to the grant is then refused by `check` as nothing to change."""
    if after is None:
        return REMOVE
    return ADD if current is None else CHANGE


def _who(person: Person, role: str) -> str:
    """ "The delegator (Ann Lee)": words that start a sentence."""
    return f"The {role} ({person.label or person.object_id})"


def _person_refusals(person: Person | None, role: str) -> list[Refusal]:
    if person is None or not person.in_directory:
        name = "" if person is None else f" ({person.label or person.object_id})"
        return [Refusal(f"{role}_unknown", f"The {role}{name} is not in the directory.")]
    if not person.enabled:
        return [Refusal(f"{role}_disabled", f"{_who(person, role)} is disabled.")]
    return []


def check(
    proposal: Proposal,
    *,
    now: datetime,
    limit: int = TEAMS_DELEGATION_LIMIT,
    max_end_days: int = DEFAULT_MAX_END_DAYS,
) -> list[Refusal]:
    """Every reason the proposal may not go ahead; [] when it may."""
    p = proposal
    kind = kind_of(p.current, p.after)
    refusals: list[Refusal] = []
    if p.delegator and p.delegate and p.delegator.object_id == p.delegate.object_id:
        refusals.append(Refusal("self", "A person cannot be their own delegate."))
    if p.pending_request_id is not None:
        refusals.append(
            Refusal(
                "pending",
                f"Change request #{p.pending_request_id} for this delegate is not finished yet.",
            )
        )
    if kind == REMOVE:
        # Removing needs only the grant: a disabled or deleted account's grants must be removable.
        if p.current is None:
            refusals.append(Refusal("no_grant", "There is no such delegate to remove."))
        return refusals
    refusals += _person_refusals(p.delegator, "delegator")
    refusals += _person_refusals(p.delegate, "delegate")
    if p.delegator and p.delegator.has_voice_licence is False:
        refusals.append(
            Refusal(
                "no_licence",
                f"{_who(p.delegator, 'delegator')} has no Teams Phone licence.",
            )
        )
    if kind == CHANGE and not snapshots.changed_keys(p.current, p.after):
        refusals.append(Refusal("nothing_to_change", "Nothing to change: the grant is already so."))
    if kind == ADD and p.delegator and p.delegate:
        refusals += _limit_refusals(p, limit)
    refusals += _end_refusals(p.ends_at, now=now, max_end_days=max_end_days)
    return refusals


def _limit_refusals(p: Proposal, limit: int) -> list[Refusal]:
    """Teams' limit on each side: a delegator's delegates, and the people a delegate acts for."""
    sides = (
        (
            p.delegate.object_id not in p.delegates_of_delegator,
            len(p.delegates_of_delegator),
            "delegator_full",
            f"{_who(p.delegator, 'delegator')} already has {limit} delegates",
        ),
        (
            p.delegator.object_id not in p.delegators_of_delegate,
            len(p.delegators_of_delegate),
            "delegate_full",
            f"{_who(p.delegate, 'delegate')} is already a delegate of {limit} people",
        ),
    )
    return [
        Refusal(code, f"{words}, the most Teams allows.")
        for adds_one, held, code, words in sides
        if adds_one and held >= limit
    ]


def _end_refusals(ends_at: datetime | None, *, now: datetime, max_end_days: int) -> list[Refusal]:
    if ends_at is None:
        return []
    if ends_at <= now:
        return [Refusal("end_in_past", "The end date must be in the future.")]
    if ends_at > now + timedelta(days=max_end_days):
        return [Refusal("end_too_far", f"The end date may be at most {max_end_days} days ahead.")]
    return []


def needs_approval(
    policy: str, acting_as: str, before: Mapping | None, after: Mapping | None
) -> bool:
    """`none`: never; `all`: always; `risky`: when helpdesk or admin grants manage settings that
    the delegate did not have (it lets the delegate add further delegates: the risky grant)."""
    if policy not in APPROVAL_POLICIES:
        raise ValueError(f"unknown approval policy {policy!r}; use one of {APPROVAL_POLICIES}")
    if policy == "all":
        return True
    if policy == "none" or acting_as != STAFF or after is None:
        return False
    return bool(after.get("manage_settings")) and not (before or {}).get("manage_settings")


@dataclass(frozen=True)
class Actor:
    """Who is signed in, as plain facts."""

    object_id: str | None  # their Entra object id, if they are a person of the tenant
    capabilities: frozenset[str] = frozenset()
    # Delegators whose active grant to this actor allows manage settings.
    manages_settings_of: frozenset[str] = frozenset()


def acting_as(actor: Actor, delegator_id: str) -> str | None:
    """In which right the actor may change this delegator's delegates, or None if they may not.
    Their own first: it is the token that naturally applies the change."""
    if actor.object_id and actor.object_id.lower() == delegator_id.lower():
        return SELF
    if delegator_id.lower() in {d.lower() for d in actor.manages_settings_of}:
        return DELEGATE
    if MANAGE_ANY_CAPABILITY in actor.capabilities:
        return STAFF
    return None


def may_manage(actor: Actor, delegator_id: str) -> bool:
    return acting_as(actor, delegator_id) is not None
