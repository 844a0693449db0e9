"""Starting a call: the rules (with a live re-check of the delegation), then the call is saved
before Graph is asked to place it (with the key the form carried, so a double submit finds the
saved row instead of calling twice), then sent once, and its outcome saved and audited.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from calls import rules, selectors, states
from calls.models import Call
from calls.services.outcome import ActionResult, CallRefused, graph_error_in_words, request_id_of
from calls.services.record import record_and_queue
from calls.services.state import apply_state
from delegation.models import DirectoryUser
from portal import audit
from portal.graph import calls as graph_calls
from portal.graph.errors import GraphError, TokenError
from portal.roles import user_has_capability
from portal.token_store import user_token_provider

log = logging.getLogger(__name__)


# --- the live re-check of a delegation ----------------------------------------------------
def live_grant_check(user, delegator_object_id: str) -> rules.LiveCheck:
    """Ask Graph, with the person's own delegated token, what the delegator allows them now."""
    scopes = [settings.GRAPH_SCOPE_PREFIX + "CallDelegation.Read"]
    try:
        provider = user_token_provider(user, scopes)
        if provider is None:
            return rules.LiveCheck(False, why_not_made="you have no Microsoft token in the portal")
        grant = graph_calls.my_grant_from(provider, delegator_object_id)
    except (GraphError, TokenError) as exc:
        log.info("live delegation check not made: %s", exc)
        return rules.LiveCheck(False, why_not_made="Microsoft did not answer")
    if grant is None:
        return rules.LiveCheck(True, None)
    return rules.LiveCheck(
        True, rules.Grant(grant.is_active, grant.make_calls, grant.receive_calls)
    )


# --- start ---------------------------------------------------------------------------------
def callback_uri(call_key: str) -> str:
    base = settings.CALLS_CALLBACK_BASE_URL.rstrip("/")
    return f"{base}{reverse('calls:callback')}?{urlencode({'call': call_key})}"


def call_start(
    *,
    user,
    idempotency_key: str,
    person: DirectoryUser | None,
    phone: str = "",
    on_behalf_of: DirectoryUser | None = None,
    request=None,
    ring_me_first: bool = True,
) -> ActionResult:
    """Check, record and queue a call. Ringing the acting person first (the default), the
    callee is dialled only once they answer (services.handover)."""
    existing = Call.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _resubmitted(user, existing)
    me, note = _check_start(
        user, phone=phone, on_behalf_of=on_behalf_of, request=request, ring_first=ring_me_first
    )
    target = person.label if person else phone
    legs = {}
    if me is not None:
        legs = {
            "mode": Call.Mode.RING_ME_FIRST,
            "first_leg_object_id": me.object_id,
            "first_leg_display": me.label[:256],
            "callee_leg": states.LEG_WAITING,
        }
    call, created = record_and_queue(
        Call,
        idempotency_key,
        "calls.tasks.place_call",
        lambda call: _audit_call("call.start.requested", "success", call, request),
        started_by=user,
        on_behalf_of=on_behalf_of,
        target_kind=Call.TargetKind.PERSON if person else Call.TargetKind.PHONE,
        target_object_id=person.object_id if person else "",
        target_phone=phone,
        target_display=target[:256],
        **legs,
    )
    if not created:
        return _resubmitted(user, call)
    return ActionResult(call, True, note=note)


def _check_start(
    user, *, phone: str, on_behalf_of: DirectoryUser | None, request, ring_first: bool
) -> tuple[DirectoryUser | None, str]:
    """Raise CallRefused unless this person may place this call; else whom the first leg rings
    (None: the call goes straight to the callee) and a note for the person."""
    if not settings.CALLS_CALLBACK_BASE_URL:
        raise CallRefused("Calls are not set up: the portal has no callback address yet.")
    me = selectors.directory_person(getattr(user, "object_id", "")) if ring_first else None
    live = None
    decision = rules.ALLOW
    if phone:
        decision = rules.may_start_phone_call(app_instance_id=settings.CALLS_APP_INSTANCE_ID)
    if decision and ring_first:
        decision = rules.may_ring_first(reachable_in_teams=me is not None)
    if decision:
        grant = None
        if on_behalf_of is not None:
            grant = selectors.grant_between(on_behalf_of.object_id, user.object_id)
            live = live_grant_check(user, on_behalf_of.object_id)
        decision = rules.may_start_call(
            can_place_any=user_has_capability(user, "place_calls_any"),
            on_behalf_of=on_behalf_of.object_id if on_behalf_of else None,
            grant=grant,
            live=live,
        )
    if not decision:
        audit.record(
            "call.start",
            "denied",
            request=request,
            actor=user,
            target=on_behalf_of.object_id if on_behalf_of else "",
            reason=decision.reason,
        )
        raise CallRefused(decision.reason)
    return me, rules.live_check_note(live) if on_behalf_of else ""


def _resubmitted(user, call: Call) -> ActionResult:
    if call.started_by_id != user.pk:
        raise CallRefused("This form has already been used. Open a new one.")
    return ActionResult(call, False, error=call.error)


# --- placing it (the worker) ---------------------------------------------------------------
def place_call(call_pk: int) -> None:
    """Ask Graph to place a recorded call, once: the claim makes a task delivered twice (or a
    crashed worker's retry) place nothing more, since a second POST could ring twice."""
    claimed = Call.objects.filter(pk=call_pk, state=states.REQUESTED, sent_at__isnull=True).update(
        sent_at=timezone.now()
    )
    if not claimed:
        return
    call = Call.objects.select_related("on_behalf_of", "started_by").get(pk=call_pk)
    subject = f"On behalf of {call.on_behalf_of.label}" if call.on_behalf_of_id else ""
    try:
        placed = graph_calls.create_call(
            callback_uri=callback_uri(call.idempotency_key),
            subject=subject,
            **_first_leg(call),
        )
    except (GraphError, TokenError) as exc:
        error = graph_error_in_words(exc)
        Call.objects.filter(pk=call.pk, graph_id="").update(
            state=states.FAILED,
            state_rank=states.rank(states.FAILED),
            error=error[:512],
            graph_request_id=request_id_of(exc)[:128],
            ended_at=timezone.now(),
            callee_leg=states.LEG_NOT_DIALLED if call.rings_me_first else "",
        )
        _audit_call("call.start", "failure", call, None, request_id_of(exc), error=str(exc))
        return
    # A notification may have named the call already (callbackUri carries our key).
    Call.objects.filter(pk=call.pk, graph_id="").update(graph_id=placed.graph_id)
    Call.objects.filter(pk=call.pk).update(graph_request_id=placed.request_id[:128])
    apply_state(call.pk, placed.state, None)
    _audit_call("call.start", "success", call, None, placed.request_id)


def _first_leg(call: Call) -> dict:
    """Whom Graph rings: the acting person first (from the resource account when the callee is
    a number, so the transfer to it is allowed), else the callee."""
    if call.rings_me_first:
        me = graph_calls.Person(call.first_leg_object_id, call.first_leg_display)
        return {"person": me, "from_resource_account": bool(call.target_phone)}
    if call.target_phone:
        return {"phone": call.target_phone}
    return {"person": graph_calls.Person(call.target_object_id, call.target_display)}


def _audit_call(action, outcome, call: Call, request, request_id: str = "", **detail):
    audit.record(
        action,
        outcome,
        request=request,
        actor=getattr(request, "user", None) if request else call.started_by,
        target=call.audit_target,
        request_id=request_id,
        to=call.target_label,
        on_behalf_of=call.on_behalf_of.object_id if call.on_behalf_of_id else "",
        **detail,
    )
