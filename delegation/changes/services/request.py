"""Asking for a change, and deciding on it: request, remove, approve, reject, cancel.

`request_change` records first: it checks who may act and the rules against the live cache
(both people's rows locked, so two requests cannot both take a last place), saves the request,
audits, and queues the apply task by name once the transaction commits. A refused request saves
nothing but its audit event and raises `ChangeRefused` with the reasons in words. The same
idempotency key (one per rendered form or CSV row) finds the request it made the first time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from delegation.changes import facts, locks, rules, states
from delegation.changes.models import ChangeRequest
from delegation.changes.rules import Refusal
from delegation.changes.services import outcome
from portal import audit
from portal.db import create_once
from portal.graph.directory import is_object_id
from portal.queue import enqueue

APPLY_TASK = "delegation.changes.tasks.apply_change"
APPROVE_CAPABILITY = "approve_delegation_changes"
REVIEW_CAPABILITY = "review_grants"
NOT_ALLOWED = Refusal("not_allowed", "You may not change this person's delegates.")


class ChangeRefused(Exception):
    """The change may not be made (or the decision not taken); `refusals` say why."""

    def __init__(self, refusals: list[Refusal]):
        self.refusals = list(refusals)
        super().__init__(" ".join(refusal.words for refusal in self.refusals))

    @property
    def words(self) -> list[str]:
        return [refusal.words for refusal in self.refusals]

    @property
    def codes(self) -> list[str]:
        return [refusal.code for refusal in self.refusals]


def _name(user) -> str:
    return str(user)[:256] if user is not None else ""


def _by_key(idempotency_key: str, actor) -> ChangeRequest | None:
    existing = ChangeRequest.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None and actor is not None and existing.requested_by_id != actor.pk:
        # Keys are random per form; another person's key is never a double submit of ours.
        raise ChangeRefused([Refusal("key_reused", "This form was already used by someone else.")])
    return existing


def _end_refusals(after, ends_at, end_action: str) -> list[Refusal]:
    if ends_at is None:
        return []
    if after is None:
        return [Refusal("end_on_remove", "A removal cannot have an end date.")]
    if end_action not in ChangeRequest.OnEnd.values:
        return [Refusal("end_action", "At the end date the delegate is removed or restored.")]
    return []


def request_change(
    *,
    actor,
    delegator_id: str,
    delegate_id: str,
    after: dict | None,
    reason: str = "",
    ends_at=None,
    end_action: str = ChangeRequest.OnEnd.REMOVE,
    idempotency_key: str,
    batch=None,
    batch_line: int | None = None,
    review=None,
    request=None,
    now=None,
) -> ChangeRequest:
    """Ask that `delegate_id` be `delegator_id`'s delegate with `after` (a snapshot: is_active
    and the five allowed actions; missing ones are not allowed), or removed (`after=None`).

    - `ends_at` + `end_action` ("remove" | "restore"): the end-date job undoes it then.
    - Who may: rules.acting_as (their own line, a manage-settings delegate, or the
      `manage_delegations` capability); a `review` (a manager's revoke decision) also lets a
      holder of `review_grants` remove.
    - Returns the request: "awaiting approval" where DELEGATION_APPROVAL_POLICY asks for it, else
      "requested" with its apply task queued (requests of a `batch` are applied by the batch's
      job instead). Raises ChangeRefused (nothing saved, the refusal audited).
    """
    now = now or timezone.now()
    delegator_id, delegate_id = delegator_id.strip().lower(), delegate_id.strip().lower()
    existing = _by_key(idempotency_key, actor)
    if existing is not None:
        return existing
    actor_facts = facts.actor_of(actor, delegator_id)
    acting = rules.acting_as(actor_facts, delegator_id)
    if acting is None and review is not None and after is None:
        acting = rules.STAFF if REVIEW_CAPABILITY in actor_facts.capabilities else None
    refusals = [NOT_ALLOWED] if acting is None else _end_refusals(after, ends_at, end_action)
    if not (is_object_id(delegator_id) and is_object_id(delegate_id)):
        refusals = [Refusal("not_an_object_id", "People are named by their Entra object id.")]
    change = created = None
    if not refusals:
        change, created, refusals = decide_and_save(
            actor=actor,
            acting=acting,
            delegator_id=delegator_id,
            delegate_id=delegate_id,
            after=after,
            idempotency_key=idempotency_key,
            fields={
                "reason": reason,
                "ends_at": ends_at,
                "on_end": end_action if ends_at else "",
                "batch": batch,
                "batch_line": batch_line,
                "review": review,
            },
            now=now,
        )
    if refusals:
        _audit_refused(actor, delegator_id, delegate_id, refusals, request)
        raise ChangeRefused(refusals)
    if created:
        outcome.record(change, "change.request", actor=actor, request=request, acting_as=acting)
        if change.status == states.REQUESTED and batch is None:
            enqueue(APPLY_TASK, change.pk)
    return change


def decide_and_save(
    *,
    actor,
    acting: str,
    delegator_id: str,
    delegate_id: str,
    after,
    idempotency_key: str,
    fields: dict,
    now,
    requested_by_name: str = "",
    approval_applies: bool = True,
) -> tuple[ChangeRequest | None, bool, list[Refusal]]:
    """Under both people's locks: the rules, then the saved request (create_once on the key).
    (request, created, refusals). `actor` None: the portal itself (an ending), never approved."""
    with transaction.atomic():
        locks.lock_people(delegator_id, delegate_id)
        existing = _by_key(idempotency_key, actor)
        if existing is not None:
            return existing, False, []
        found = facts.proposal_facts(
            delegator_id, delegate_id, after, ends_at=fields.get("ends_at")
        )
        refusals = rules.check(
            found.proposal, now=now, max_end_days=settings.DELEGATION_CHANGE_MAX_END_DAYS
        )
        if refusals:
            return None, False, refusals
        proposal = found.proposal
        approval = approval_applies and rules.needs_approval(
            settings.DELEGATION_APPROVAL_POLICY, acting, proposal.current, proposal.after
        )
        change, created = create_once(
            ChangeRequest,
            {"idempotency_key": idempotency_key},
            kind=rules.kind_of(proposal.current, proposal.after),
            delegator_object_id=delegator_id,
            delegator_name=found.delegator.display_name if found.delegator else "",
            delegator_upn=found.delegator.upn if found.delegator else "",
            delegate_object_id=delegate_id,
            delegate_name=found.delegate.display_name if found.delegate else "",
            delegate_upn=found.delegate.upn if found.delegate else "",
            before=proposal.current,
            after=proposal.after,
            requested_by=actor,
            requested_by_name=_name(actor) or requested_by_name,
            acting_as=acting,
            status=states.AWAITING_APPROVAL if approval else states.REQUESTED,
            **fields,
        )
        return change, created, []


def _audit_refused(actor, delegator_id, delegate_id, refusals, request) -> None:
    audit.record(
        "change.request",
        "denied",
        request=request,
        actor=actor,
        target=f"{delegator_id} -> {delegate_id}",
        refusals=[refusal.code for refusal in refusals],
        reason=" ".join(refusal.words for refusal in refusals),
    )


def remove(
    *,
    actor,
    delegator_id: str,
    delegate_id: str,
    idempotency_key: str,
    reason: str = "",
    review=None,
    request=None,
) -> ChangeRequest:
    """Ask that the delegate be removed: `request_change` with `after=None`. A `review` (a
    manager's revoke decision) is linked to the request and lets a `review_grants` holder ask."""
    return request_change(
        actor=actor,
        delegator_id=delegator_id,
        delegate_id=delegate_id,
        after=None,
        reason=reason,
        idempotency_key=idempotency_key,
        review=review,
        request=request,
    )
