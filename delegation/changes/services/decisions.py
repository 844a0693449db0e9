"""Deciding on a request that waits: approve, reject (a manager), cancel (who asked, or who may
manage the delegator). Each is one conditional move, so a double click decides once."""

from __future__ import annotations

from django.utils import timezone

from delegation.changes import facts, rules, states
from delegation.changes.models import ChangeRequest
from delegation.changes.rules import Refusal
from delegation.changes.services import outcome
from delegation.changes.services.request import APPLY_TASK, APPROVE_CAPABILITY, ChangeRefused
from portal.queue import enqueue
from portal.roles import user_has_capability

CANCELLABLE = (states.REQUESTED, states.AWAITING_APPROVAL, states.AWAITING_POWERSHELL)


def _get(request_id: int) -> ChangeRequest:
    change = ChangeRequest.objects.filter(pk=request_id).first()
    if change is None:
        raise ChangeRefused([Refusal("not_found", "There is no such change request.")])
    return change


def _refuse(actor, change: ChangeRequest, action: str, refusal: Refusal, request=None):
    outcome.record(change, action, "denied", actor=actor, request=request, reason=refusal.words)
    raise ChangeRefused([refusal])


def _waiting_for_approval(actor, change: ChangeRequest, action: str, request) -> None:
    if not user_has_capability(actor, APPROVE_CAPABILITY):
        _refuse(actor, change, action, Refusal("not_allowed", "You may not approve changes."))
    if change.requested_by_id is not None and change.requested_by_id == actor.pk:
        words = "Someone else must decide on a change you asked for."
        _refuse(actor, change, action, Refusal("own_request", words), request)
    if change.status != states.AWAITING_APPROVAL:
        words = f"Change request #{change.pk} is not awaiting approval: {change.status_words}."
        _refuse(actor, change, action, Refusal("not_waiting", words), request)


def approve(*, actor, request_id: int, request=None) -> ChangeRequest:
    """Awaiting approval -> requested, its apply task queued. Needs approve_delegation_changes;
    nobody approves their own request."""
    change = _get(request_id)
    _waiting_for_approval(actor, change, "change.approve", request)
    moved = outcome.move(
        change,
        states.REQUESTED,
        approved_by=actor,
        approved_by_name=str(actor)[:256],
        approved_at=timezone.now(),
    )
    if not moved:  # decided meanwhile (a double click): say what it is now
        _waiting_for_approval(actor, change, "change.approve", request)
    outcome.record(change, "change.approve", actor=actor, request=request)
    enqueue(APPLY_TASK, change.pk)
    return change


def reject(*, actor, request_id: int, note: str = "", request=None) -> ChangeRequest:
    """Awaiting approval -> rejected, with the reason in `failure`."""
    change = _get(request_id)
    _waiting_for_approval(actor, change, "change.reject", request)
    words = f"Rejected by {actor}" + (f": {note}" if note else ".")
    if not outcome.move(change, states.REJECTED, failure=words[:2000]):
        _waiting_for_approval(actor, change, "change.reject", request)
    outcome.record(change, "change.reject", actor=actor, request=request, note=note)
    return change


def may_cancel(actor, change: ChangeRequest) -> bool:
    if change.requested_by_id is not None and change.requested_by_id == actor.pk:
        return True
    return rules.may_manage(
        facts.actor_of(actor, change.delegator_object_id), change.delegator_object_id
    )


def cancel(*, actor, request_id: int, request=None) -> ChangeRequest:
    """Requested, awaiting approval or awaiting PowerShell -> cancelled. Who asked may cancel,
    and whoever may manage the delegator's delegates. Cancelling the ending of a time-boxed
    grant keeps the grant, with no end date."""
    change = _get(request_id)
    if not may_cancel(actor, change):
        _refuse(
            actor,
            change,
            "change.cancel",
            Refusal("not_allowed", "You may not cancel it."),
            request,
        )
    if change.status not in CANCELLABLE or not outcome.move(
        change, states.CANCELLED, failure=f"Cancelled by {actor}."[:2000]
    ):
        words = f"Change request #{change.pk} can no longer be cancelled: {change.status_words}."
        _refuse(actor, change, "change.cancel", Refusal("not_cancellable", words), request)
    outcome.record(change, "change.cancel", actor=actor, request=request)
    return change
