"""What Graph tells us about calls (GRAPH_CONTRACT §7): store each notification once, then move
the call's state through the state machine. The receiver has authenticated the sender and
`portal.graph.notifications` has read Graph's JSON already.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.db import transaction

from calls import states
from calls.models import Call, CallEvent
from calls.services.send import put_through_if_answered
from calls.services.state import apply_state
from portal import audit
from portal.db import create_once
from portal.graph.notifications import CallNotification

log = logging.getLogger(__name__)


def ingest(notifications: list[CallNotification], call_hint: str = "") -> int:
    """Store and apply every notification of one delivery; returns how many changed a call."""
    return sum(1 for notification in notifications if _ingest_one(notification, call_hint))


def _ingest_one(notification: CallNotification, call_hint: str) -> bool:
    call = _match_call(notification, call_hint)
    if call is None:
        log.info("call notification for a call we do not know: %s", notification.call_id)
        return False
    result = notification.result
    event, created = create_once(
        CallEvent,
        {"dedupe_key": _dedupe_key(call, notification)},
        call=call,
        graph_call_id=notification.call_id,
        change_type=notification.change_type,
        state=notification.state,
        result_code=result.code if result else "",
        result_subcode=result.subcode if result else "",
        result_message=result.message if result else "",
        raw=notification.raw,
    )
    if not created:
        return False  # a repeat
    applied = apply_state(call.pk, notification.state, result)
    if applied:
        CallEvent.objects.filter(pk=event.pk).update(applied=True)
        if notification.state == states.ESTABLISHED and call.rings_me_first:
            put_through_if_answered(call.pk)  # once, however often `established` arrives
    return applied


def _dedupe_key(call: Call, notification: CallNotification) -> str:
    # The same notification delivered twice is stored once; after each action we send, the
    # same content may legitimately come again (a second failed transfer), hence the count.
    generation = call.actions.count()
    canonical = json.dumps(notification.raw, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{notification.call_id}|{generation}|{canonical}".encode()).hexdigest()


def _match_call(notification: CallNotification, call_hint: str) -> Call | None:
    call = Call.objects.filter(graph_id=notification.call_id).first()
    if call is not None:
        return call
    if call_hint:
        call = _match_by_key(notification.call_id, call_hint[:64])
    if call is None and notification.is_new_incoming_call:
        call = _create_incoming(notification)
    return call


def _match_by_key(graph_id: str, key: str) -> Call | None:
    """Our callbackUri names the call's key: a notification may beat Graph's 201 answer, or
    come for a call whose answer was lost (timeout, 5xx) and that we marked not placed."""
    with transaction.atomic():
        call = (
            Call.objects.select_for_update()
            .filter(idempotency_key=key, graph_id="", direction=Call.Direction.OUTGOING)
            .first()
        )
        if call is None:
            return None
        call.graph_id = graph_id
        fields = ["graph_id", "updated_at"]
        if call.state == states.FAILED:
            call.state, call.state_rank, call.ended_at = states.REQUESTED, 0, None
            call.error = ""
            fields += ["state", "state_rank", "ended_at", "error"]
            if call.rings_me_first:  # placed after all: the callee waits for the first leg
                call.callee_leg = states.LEG_WAITING
                fields.append("callee_leg")
        call.save(update_fields=fields)
    return call


def _create_incoming(notification: CallNotification) -> Call | None:
    graph_id, caller = notification.call_id, notification.caller
    call, created = create_once(
        Call,
        {"graph_id": graph_id},
        idempotency_key="incoming:" + hashlib.sha256(graph_id.encode()).hexdigest()[:40],
        direction=Call.Direction.INCOMING,
        caller_display=caller.display_name,
        caller_object_id=caller.object_id,
        called_display=notification.called.display_name,
        called_object_id=notification.called.object_id,
    )
    if created:
        audit.record(
            "call.incoming",
            "success",
            target=call.audit_target,
            who="Microsoft Graph",
            caller=caller.display_name,
        )
    return call
