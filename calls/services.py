"""Writes: start, transfer, redirect and end calls, and keep them alive.

Each action checks the rules on the server, is saved before Graph is called (with the key the
form carried, so a double submit finds the saved row instead of acting twice), then sent once,
then its outcome and Graph's request id are saved and audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from calls import rules, selectors, states
from calls.models import Call, CallAction
from calls.notifications import apply_state
from delegation.models import DirectoryUser
from portal import audit
from portal.graph import calls as graph_calls
from portal.graph.errors import GraphError, TokenError
from portal.roles import user_has_capability

log = logging.getLogger(__name__)


class CallRefused(Exception):
    """The portal said no (rules, bad or stale input): nothing was sent to Graph."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Outcome:
    call: Call
    created: bool  # False: the same form was submitted before; this is what it did
    action: CallAction | None = None
    error: str = ""  # Graph's refusal in plain words
    note: str = ""  # e.g. the live re-check could not be made


def graph_error_in_words(exc: Exception) -> str:
    if isinstance(exc, TokenError):
        return (
            "The portal could not get a Microsoft token to act on calls. "
            "Try again later; if it persists, ask an admin to check the app registration."
        )
    status = getattr(exc, "status", 0)
    if status == 0:
        return "Microsoft could not be reached. Try again in a moment."
    if status in (429, 503, 504):
        return "Microsoft is busy right now. Try again in a moment."
    if status == 403:
        # Graph answers 403 both at the limit of 100 concurrent calls and without permission.
        return (
            "Microsoft refused: the portal may have reached its limit of 100 simultaneous "
            "calls, or may lack the permission to place calls. Try again in a few minutes; if "
            "it persists, ask an admin."
        )
    if status == 404:
        return "Microsoft no longer knows this call: it has ended."
    if status == 400:
        return f"Microsoft refused the request: {getattr(exc, 'message', '')[:200]}"
    return f"Microsoft could not do it (HTTP {status}). Try again later."


def _request_id(exc: Exception) -> str:
    return getattr(exc, "request_id", "") or ""


# --- the live re-check of a delegation ----------------------------------------------------
def live_grant_check(user, delegator_object_id: str) -> rules.LiveCheck:
    """Ask Graph, with the person's own delegated token, what the delegator allows them now."""
    from portal.token_store import user_token_provider

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
) -> Outcome:
    existing = Call.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _resubmitted(user, existing)
    note = _check_start(user, phone=phone, on_behalf_of=on_behalf_of, request=request)
    target = person.label if person else phone
    try:
        with transaction.atomic():
            call = Call.objects.create(
                idempotency_key=idempotency_key,
                started_by=user,
                on_behalf_of=on_behalf_of,
                target_kind=Call.TargetKind.PERSON if person else Call.TargetKind.PHONE,
                target_object_id=person.object_id if person else "",
                target_phone=phone,
                target_display=target[:256],
            )
    except IntegrityError:
        return _resubmitted(user, Call.objects.get(idempotency_key=idempotency_key))
    subject = f"On behalf of {on_behalf_of.label}" if on_behalf_of else ""
    try:
        placed = graph_calls.create_call(
            callback_uri=callback_uri(idempotency_key),
            person=graph_calls.Person(person.object_id, person.display_name) if person else None,
            phone=phone,
            subject=subject,
        )
    except (GraphError, TokenError) as exc:
        error = graph_error_in_words(exc)
        Call.objects.filter(pk=call.pk).update(
            state=states.FAILED,
            state_rank=states.rank(states.FAILED),
            error=error[:512],
            graph_request_id=_request_id(exc)[:128],
            ended_at=timezone.now(),
        )
        _audit_call("call.start", "failure", call, request, _request_id(exc), error=str(exc))
        call.refresh_from_db()
        return Outcome(call, True, error=error, note=note)
    # A notification may have named the call already (callbackUri carries our key).
    Call.objects.filter(pk=call.pk, graph_id="").update(graph_id=placed.graph_id)
    Call.objects.filter(pk=call.pk).update(graph_request_id=placed.request_id[:128])
    apply_state(call.pk, placed.state, None)
    _audit_call("call.start", "success", call, request, placed.request_id)
    call.refresh_from_db()
    return Outcome(call, True, note=note)


def _check_start(user, *, phone: str, on_behalf_of: DirectoryUser | None, request) -> str:
    """Raise CallRefused unless this person may place this call; return a note for them."""
    if not settings.CALLS_CALLBACK_BASE_URL:
        raise CallRefused("Calls are not set up: the portal has no callback address yet.")
    if phone:
        decision = rules.may_start_phone_call(app_instance_id=settings.CALLS_APP_INSTANCE_ID)
        if not decision:
            raise CallRefused(decision.reason)
    grant = live = None
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
    return rules.live_check_note(live) if on_behalf_of else ""


def _resubmitted(user, call: Call) -> Outcome:
    if call.started_by_id != user.pk:
        raise CallRefused("This form has already been used. Open a new one.")
    return Outcome(call, False, error=call.error)


def _audit_call(action, outcome, call: Call, request, request_id: str = "", **detail):
    audit.record(
        action,
        outcome,
        request=request,
        actor=getattr(request, "user", None) if request else call.started_by,
        target=f"call {call.pk}",
        request_id=request_id,
        to=call.target_label,
        on_behalf_of=call.on_behalf_of.object_id if call.on_behalf_of_id else "",
        **detail,
    )
