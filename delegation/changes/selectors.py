"""Reads for the change pages, each restricted to what the signed-in person may see.

Who sees which requests (`requests_for_user`): with view_people, manage_delegations,
approve_delegation_changes or view_organisation, every request; anyone else, those they asked
for and those whose delegator or delegate they are, or whose delegator lets them manage
settings. Lists are capped; each is one query (names are frozen on the request, no joins).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet

from delegation.changes import facts, rules, snapshots, states
from delegation.changes.models import ChangeBatch, ChangeBatchRow, ChangeRequest
from portal.allowed_actions import ACTIONS
from portal.roles import user_has_capability

LIST_LIMIT = 100
SEE_ALL = ("view_people", "manage_delegations", "approve_delegation_changes", "view_organisation")


def _sees_all(user) -> bool:
    return any(user_has_capability(user, capability) for capability in SEE_ALL)


def requests_for_user(user, actor: rules.Actor | None = None) -> QuerySet[ChangeRequest]:
    """`actor`: the person as `facts.actor_of(user)` read them, when the caller has it."""
    if not getattr(user, "is_authenticated", False):
        return ChangeRequest.objects.none()
    if _sees_all(user):
        return ChangeRequest.objects.all()
    actor = actor or facts.actor_of(user)
    q = Q(requested_by=user)
    if actor.object_id:
        q |= Q(delegator_object_id=actor.object_id) | Q(delegate_object_id=actor.object_id)
    if actor.manages_settings_of:
        q |= Q(delegator_object_id__in=actor.manages_settings_of)
    return ChangeRequest.objects.filter(q)


def change_request_for_user(user, request_id: int) -> ChangeRequest | None:
    """One request (with its batch, the request that ends it and its history), or None."""
    return (
        requests_for_user(user)
        .select_related("batch", "ended_by", "review")
        .filter(pk=request_id)
        .first()
    )


def history_of(change: ChangeRequest) -> list:
    """The cache's history rows this request's verification wrote."""
    return list(change.history.select_related("delegator", "delegate").order_by("at", "id"))


def requests_of_person(user, object_id: str, limit: int = LIST_LIMIT) -> list[ChangeRequest]:
    """Requests where the person is delegator or delegate, newest first."""
    object_id = object_id.lower()
    person = Q(delegator_object_id=object_id) | Q(delegate_object_id=object_id)
    return list(requests_for_user(user).filter(person).order_by("-created_at", "-pk")[:limit])


def pending_for_actor(user, limit: int = LIST_LIMIT) -> list[ChangeRequest]:
    """What this person asked for that is not settled yet."""
    rows = ChangeRequest.objects.filter(requested_by=user, status__in=states.PENDING)
    return list(rows.order_by("-created_at", "-pk")[:limit])


def awaiting_approval_for_user(user, limit: int = LIST_LIMIT) -> list[ChangeRequest]:
    """For approvers: requests waiting for a decision, oldest first (their own are shown, but
    `approve` refuses them)."""
    if not user_has_capability(user, "approve_delegation_changes"):
        return []
    rows = ChangeRequest.objects.filter(status=states.AWAITING_APPROVAL)
    return list(rows.order_by("created_at", "pk")[:limit])


def awaiting_powershell_for_user(user, limit: int = LIST_LIMIT) -> list[ChangeRequest]:
    """For manage_delegations: the requests the PowerShell script would carry, oldest first."""
    if not user_has_capability(user, rules.MANAGE_ANY_CAPABILITY):
        return []
    rows = ChangeRequest.objects.filter(status=states.AWAITING_POWERSHELL)
    return list(rows.order_by("created_at", "pk")[:limit])


def drifted_for_user(user, limit: int = LIST_LIMIT) -> list[ChangeRequest]:
    """Requests whose grant Teams no longer holds as asked, newest drift first."""
    rows = requests_for_user(user).filter(status=states.DRIFTED)
    return list(rows.order_by("-drifted_at", "-pk")[:limit])


def end_dates(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], ChangeRequest]:
    """For grants on a page: (delegator id, delegate id) -> the request whose end date applies
    (verified or drifted, with ends_at), so the page can say when each grant ends."""
    pairs = {(a.lower(), b.lower()) for a, b in pairs}
    if not pairs:
        return {}
    rows = ChangeRequest.objects.filter(
        status__in=(states.VERIFIED, states.DRIFTED),
        ends_at__isnull=False,
        delegator_object_id__in={delegator for delegator, _ in pairs},
    ).order_by("-created_at", "-pk")
    found: dict[tuple[str, str], ChangeRequest] = {}
    for change in rows:
        pair = (change.delegator_object_id, change.delegate_object_id)
        if pair in pairs:
            found.setdefault(pair, change)
    return found


# --- what a person may do -------------------------------------------------------------------
def acting_as(user, delegator_id: str) -> str | None:
    """In which right `user` may change this delegator's delegates: "self", "delegate",
    "staff", or None (then the page offers no change)."""
    return rules.acting_as(facts.actor_of(user, delegator_id), delegator_id.lower())


def may_manage(user, delegator_id: str) -> bool:
    return acting_as(user, delegator_id) is not None


def manageable_delegators(user, actor: rules.Actor | None = None) -> list[str]:
    """Object ids of the delegators whose delegates the person may manage as themselves or as a
    manage-settings delegate ("My delegations")."""
    actor = actor or facts.actor_of(user)
    own = [actor.object_id] if actor.object_id else []
    return own + sorted(actor.manages_settings_of - set(own))


def will_need_approval(user, delegator_id: str, before: Mapping | None, after: Mapping | None):
    """Whether this change, asked by `user`, would wait for a manager's approval."""
    acting = acting_as(user, delegator_id)
    return acting is not None and rules.needs_approval(
        settings.DELEGATION_APPROVAL_POLICY, acting, before, after
    )


# --- batches ----------------------------------------------------------------------------------
def batches_for_user(user) -> QuerySet[ChangeBatch]:
    if user_has_capability(user, rules.MANAGE_ANY_CAPABILITY):
        return ChangeBatch.objects.all()
    if not getattr(user, "is_authenticated", False):
        return ChangeBatch.objects.none()
    return ChangeBatch.objects.filter(created_by=user)


@dataclass
class BatchPage:
    batch: ChangeBatch
    rows: list[ChangeBatchRow]


def batch_for_user(user, batch_id: int, limit: int | None = None) -> BatchPage | None:
    """A batch and its rows (line order; each with its change request), or None."""
    batch = batches_for_user(user).filter(pk=batch_id).first()
    if batch is None:
        return None
    rows = batch.planned_rows.select_related("change_request").order_by("line")
    return BatchPage(batch, list(rows[:limit] if limit else rows))


def batch_progress(user, batch_id: int) -> ChangeBatch | None:
    """Just the batch row, for a progress bar that polls."""
    return batches_for_user(user).filter(pk=batch_id).first()


# --- what Teams will show -----------------------------------------------------------------------
@dataclass(frozen=True)
class TeamsView:
    """What each side sees in Teams once the change is made, in words."""

    delegator: str
    delegate: str
    allowed: list[str]  # what the delegate may then do (allowed_actions `means`)


def what_teams_will_show(
    delegator_name: str, delegate_name: str, after: Mapping | None
) -> TeamsView:
    """For a planned grant (None: a removal): the lines the page shows the delegator's and the
    delegate's side."""
    if after is None:
        return TeamsView(
            f"Teams will no longer list {delegate_name} among {delegator_name}'s delegates.",
            f"{delegate_name} will no longer see {delegator_name} among the people they act for.",
            [],
        )
    grant = snapshots.normalised(after)
    allowed = [action.means for action in ACTIONS if grant[action.field]]
    inactive = "" if grant["is_active"] else " (inactive: the delegate cannot act for now)"
    delegator = f"{delegator_name}'s Teams will list {delegate_name} as a delegate{inactive}."
    if allowed:
        delegate = (
            f"{delegate_name}'s Teams will list {delegator_name} among the people they act for"
            f"{inactive}; they may " + "; ".join(allowed) + "."
        )
    else:
        delegate = (
            f"{delegate_name}'s Teams will list {delegator_name}, with nothing allowed{inactive}."
        )
    return TeamsView(delegator, delegate, allowed)
