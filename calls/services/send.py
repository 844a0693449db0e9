"""The worker's side of acting on a call: send one recorded action to Graph, exactly once, and
record and audit what Microsoft answered. Whether the action then worked comes later, with the
call's notifications (services.state finishes it).

A put-through (the transfer of a ring-me-first call to its callee) is claimed here too, when
the notification that the first leg answered is applied: a conditional update makes one claim
win, however often or in whatever order that notification arrives.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from calls import rules, selectors, states
from calls.models import Call, CallAction
from calls.services.outcome import graph_error_in_words, request_id_of
from calls.services.state import apply_state
from portal import audit
from portal.db import create_once
from portal.graph import calls as graph_calls
from portal.graph.errors import GraphError, TokenError
from portal.queue import enqueue
from portal.roles import user_has_capability


# --- the put-through ------------------------------------------------------------------------
def put_through_if_answered(call_pk: int) -> CallAction | None:
    """Once the first leg of a ring-me-first call is answered: claim its callee's leg, record
    the transfer and queue it. Does nothing for any other call, or a second time."""
    with transaction.atomic():
        claimed = Call.objects.filter(
            pk=call_pk,
            mode=Call.Mode.RING_ME_FIRST,
            callee_leg=states.LEG_WAITING,
            state__in=states.CONNECTED,
        ).update(callee_leg=states.LEG_DIALLING, callee_rang_at=timezone.now())
        if not claimed:
            return None
        call = Call.objects.get(pk=call_pk)
        callee = {"id": call.target_object_id, "display": call.target_label}
        if call.target_phone:
            callee = {"phone": call.target_phone, "display": call.target_phone}
        action, _ = create_once(
            CallAction,
            {"idempotency_key": f"handover-{call.pk}"},
            call=call,
            kind=CallAction.Kind.HANDOVER,
            requested_by=call.started_by,
            targets=[callee],
        )
        enqueue("calls.tasks.send_action", action.pk)
    return action


def _put_through_refusal(action: CallAction) -> str:
    """A put-through on someone's behalf goes only while the starter's grant, in the portal's
    copy, still lets them make calls for that person: it may have changed while it rang."""
    call = action.call
    if not call.on_behalf_of_id or action.requested_by is None:
        return ""
    decision = rules.may_start_call(
        can_place_any=user_has_capability(action.requested_by, "place_calls_any"),
        on_behalf_of=call.on_behalf_of.object_id,
        grant=selectors.grant_between(call.on_behalf_of.object_id, action.requested_by.object_id),
        live=None,
    )
    return "" if decision else decision.reason


# --- sending --------------------------------------------------------------------------------
def send_action(action_pk: int) -> None:
    """Send one recorded action to Graph. Transfers and redirects are not idempotent in Graph:
    the claim (sent_at) makes a task delivered twice send nothing more."""
    claimed = CallAction.objects.filter(
        pk=action_pk, outcome=CallAction.Outcome.PENDING, sent_at__isnull=True
    ).update(sent_at=timezone.now())
    if not claimed:
        return
    action = CallAction.objects.select_related(
        "call", "call__on_behalf_of", "replaces_call", "requested_by"
    ).get(pk=action_pk)
    call = action.call
    if action.kind == CallAction.Kind.HANDOVER:
        refusal = _put_through_refusal(action)
        if refusal:
            _failed(action, refusal, "", request_sent=False)
            return
    if action.kind == CallAction.Kind.TRANSFER:
        # The call may go through transferring again: let this round's notifications move it.
        Call.objects.filter(pk=call.pk, state__in=states.CONNECTED).update(
            state_rank=states.RANK_BEFORE_ACTION
        )
    try:
        request_id = _sender(action)()
    except (GraphError, TokenError) as exc:
        if getattr(exc, "status", 0) == 404:
            apply_state(call.pk, states.TERMINATED, ("404", "", "Graph no longer knows this call"))
        words = graph_error_in_words(exc, action.kind)
        _failed(action, words, request_id_of(exc), error=str(exc))
        return
    now = timezone.now()
    CallAction.objects.filter(pk=action.pk).update(graph_request_id=request_id[:128])
    # The call's notifications may have finished it already: only a pending one becomes "sent".
    CallAction.objects.filter(pk=action.pk, outcome=CallAction.Outcome.PENDING).update(
        outcome=CallAction.Outcome.ACCEPTED, finished_at=now
    )
    if action.kind == CallAction.Kind.HANDOVER:
        Call.objects.filter(pk=call.pk, callee_leg=states.LEG_DIALLING).update(
            callee_leg=states.LEG_RINGING
        )
    if action.kind == CallAction.Kind.END:
        apply_state(call.pk, states.TERMINATING, None)
    action.graph_request_id = request_id
    _audit(action, "success")


def _sender(action: CallAction) -> Callable[[], str]:
    call = action.call
    if action.kind == CallAction.Kind.END:
        return lambda: graph_calls.end_call(call.graph_id)
    people = [graph_calls.Person(t.get("id", ""), t.get("display", "")) for t in action.targets]
    if action.kind == CallAction.Kind.REDIRECT:
        return lambda: graph_calls.redirect_call(call.graph_id, people)
    phone = action.targets[0].get("phone", "") if action.targets else ""
    replaces = action.replaces_call.graph_id if action.replaces_call_id else ""
    return lambda: graph_calls.transfer_call(
        call.graph_id, None if phone else people[0], replaces, phone=phone
    )


def _failed(action: CallAction, message: str, request_id: str, request_sent=True, **detail):
    now = timezone.now()
    CallAction.objects.filter(pk=action.pk).update(
        outcome=CallAction.Outcome.FAILED,
        message=message[:512],
        graph_request_id=request_id[:128],
        finished_at=now,
    )
    if action.kind == CallAction.Kind.HANDOVER:
        # Refused: the first leg stays on the line; the page says why and offers to end.
        Call.objects.filter(pk=action.call_id, callee_leg__in=states.LEG_IN_PROGRESS).update(
            callee_leg=states.LEG_FAILED, callee_leg_reason=message[:512], callee_ended_at=now
        )
    action.graph_request_id = request_id
    outcome = "failure" if request_sent else "denied"
    _audit(action, outcome, error=detail.get("error", message))


def _audit(action: CallAction, outcome: str, **detail) -> None:
    name = "put_through" if action.kind == CallAction.Kind.HANDOVER else action.kind
    audit.record(
        f"call.{name}",
        outcome,
        actor=action.requested_by,
        target=Call.audit_target_of(action.call_id),
        request_id=action.graph_request_id,
        to=action.targets_label,
        **detail,
    )
