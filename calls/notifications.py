"""What Graph tells us about calls (GRAPH_CONTRACT §7): store each notification once, then move
the call's state through the state machine. The receiver has authenticated the sender already.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from calls import states
from calls.models import Call, CallEvent
from portal import audit

log = logging.getLogger(__name__)

MAX_ITEMS = 50  # Graph sends a handful; a bigger body is not a notification we understand


def apply_state(call_pk: int, state: str, result: tuple[str, str, str] | None) -> bool:
    """Move one call by one reported state, under a row lock; False if it must not move."""
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pk=call_pk).first()
        if call is None:
            return False
        current = states.Snapshot(
            call.state,
            call.state_rank,
            call.result_code,
            call.result_subcode,
            call.result_message,
        )
        after = states.apply(current, state, result)
        if after is None:
            return False
        call.state = after.state
        call.state_rank = after.state_rank
        call.result_code = after.result_code
        call.result_subcode = after.result_subcode
        call.result_message = after.result_message
        fields = ["state", "state_rank", "result_code", "result_subcode", "result_message"]
        if after.state in states.FINAL and call.ended_at is None:
            call.ended_at = timezone.now()
            fields.append("ended_at")
        call.save(update_fields=[*fields, "updated_at"])
    return True


def ingest(payload, call_hint: str = "") -> int:
    """Store and apply every notification of one delivery; returns how many changed a call."""
    items = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return 0
    return sum(1 for item in items[:MAX_ITEMS] if _ingest_one(item, call_hint))


_CALL_RESOURCE = re.compile(r"/communications/calls/([^/?#]+)")


def _graph_id(item: dict, data: dict) -> str:
    # Older payloads say `resource`, newer `resourceUrl` (contract §7): accept both. The call's
    # id is in the path; resourceData.id names a participant in participant notifications.
    resource = str(item.get("resourceUrl") or item.get("resource") or "")
    match = _CALL_RESOURCE.search(resource)
    if match:
        return match.group(1)[:128]
    return str(data.get("id") or "")[:128]


def _ingest_one(item, call_hint: str) -> bool:
    if not isinstance(item, dict):
        return False
    data = item.get("resourceData") if isinstance(item.get("resourceData"), dict) else {}
    graph_id = _graph_id(item, data)
    if not graph_id:
        return False
    state = str(data.get("state") or "")[:32]
    result = states.parse_result(data.get("resultInfo"))
    change_type = str(item.get("changeType") or "")[:16]

    call = _match_call(graph_id, data, change_type, call_hint)
    if call is None:
        log.info("call notification for a call we do not know: %s", graph_id)
        return False
    # The same notification delivered twice is stored once; after each action we send, the
    # same content may legitimately come again (a second failed transfer), hence the count.
    generation = call.actions.count()
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)
    dedupe_key = hashlib.sha256(f"{graph_id}|{generation}|{canonical}".encode()).hexdigest()
    try:
        with transaction.atomic():
            event = CallEvent.objects.create(
                call=call,
                dedupe_key=dedupe_key,
                graph_call_id=graph_id,
                change_type=change_type,
                state=state,
                result_code=result[0] if result else "",
                result_subcode=result[1] if result else "",
                result_message=result[2] if result else "",
                raw=item,
            )
    except IntegrityError:
        return False  # a repeat
    applied = apply_state(call.pk, state, result)
    if applied:
        CallEvent.objects.filter(pk=event.pk).update(applied=True)
    return applied


def _match_call(graph_id: str, data: dict, change_type: str, call_hint: str) -> Call | None:
    call = Call.objects.filter(graph_id=graph_id).first()
    if call is not None:
        return call
    if call_hint:
        call = _match_by_key(graph_id, call_hint[:64])
    return call or _maybe_incoming(graph_id, data, change_type)


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
        call.save(update_fields=fields)
    return call


def _maybe_incoming(graph_id: str, data: dict, change_type: str) -> Call | None:
    if change_type == "created" and data.get("state") == states.INCOMING:
        return _create_incoming(graph_id, data)
    return None


def _caller(data: dict) -> tuple[str, str]:
    source = data.get("source") if isinstance(data.get("source"), dict) else {}
    identity = source.get("identity") if isinstance(source.get("identity"), dict) else {}
    for kind in ("user", "phone", "application"):
        who = identity.get(kind)
        if isinstance(who, dict):
            object_id = str(who.get("id") or "")[:64] if kind == "user" else ""
            display = str(who.get("displayName") or who.get("id") or "")[:256]
            return display, object_id
    return "", ""


def _create_incoming(graph_id: str, data: dict) -> Call | None:
    display, object_id = _caller(data)
    try:
        with transaction.atomic():
            call = Call.objects.create(
                idempotency_key="incoming:" + hashlib.sha256(graph_id.encode()).hexdigest()[:40],
                graph_id=graph_id,
                direction=Call.Direction.INCOMING,
                caller_display=display,
                caller_object_id=object_id,
            )
    except IntegrityError:
        return Call.objects.filter(graph_id=graph_id).first()
    audit.record(
        "call.incoming", "success", target=f"call {call.pk}", who="Microsoft Graph", caller=display
    )
    return call
