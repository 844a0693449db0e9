"""Acting on a live call: transfer, redirect, end. Saved first, sent once, audited.

A second submit of the same form finds its CallAction by key and shows what the first did.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from calls import rules, selectors, states
from calls.models import Call, CallAction
from calls.services.outcome import ActionResult, CallRefused, graph_error_in_words, request_id_of
from calls.services.state import apply_state
from delegation.models import DirectoryUser
from portal import audit
from portal.db import create_once
from portal.graph import calls as graph_calls
from portal.graph.errors import GraphError, TokenError
from portal.roles import user_has_capability


def _person(user: DirectoryUser) -> graph_calls.Person:
    return graph_calls.Person(user.object_id, user.display_name)


def _is_starter(user, call: Call) -> bool:
    return call.started_by_id is not None and call.started_by_id == user.pk


def _refuse(user, call: Call, kind: str, decision: rules.Decision, request) -> None:
    audit.record(
        f"call.{kind}",
        "denied",
        request=request,
        actor=user,
        target=f"call {call.pk}",
        reason=decision.reason,
    )
    raise CallRefused(decision.reason)


def call_transfer(
    *,
    user,
    call: Call,
    idempotency_key: str,
    target: DirectoryUser | None,
    replaces: Call | None = None,
    request=None,
) -> ActionResult:
    previous = _previous(user, call, idempotency_key)
    if previous is not None:
        return previous
    if target is None or not target.in_directory or not target.account_enabled:
        raise CallRefused("Choose a person from the directory to transfer the call to.")
    delegator = call.on_behalf_of
    decision = rules.may_transfer(
        is_starter=_is_starter(user, call),
        can_act_on_any=user_has_capability(user, "act_on_any_call"),
        call_state=call.state,
        on_behalf_of=delegator.object_id if delegator else None,
        actor_grant=(
            selectors.grant_between(delegator.object_id, user.object_id) if delegator else None
        ),
        target=target.object_id,
        target_grant=(
            selectors.grant_between(delegator.object_id, target.object_id) if delegator else None
        ),
    )
    if not decision:
        _refuse(user, call, "transfer", decision, request)
    if replaces is not None and replaces.pk not in {
        c.pk for c in selectors.my_other_connected_calls(user, call)
    }:
        raise CallRefused("The consultation call has ended or is not yours.")
    # The call may go through transferring again: let this round's notifications move it.
    Call.objects.filter(pk=call.pk, state__in=states.CONNECTED).update(
        state_rank=states.RANK_BEFORE_ACTION
    )
    return _save_send_and_audit(
        user,
        call,
        CallAction.Kind.TRANSFER,
        idempotency_key,
        [target],
        request,
        lambda: graph_calls.transfer_call(
            call.graph_id, _person(target), replaces.graph_id if replaces else ""
        ),
        replaces=replaces,
    )


def call_redirect(
    *, user, call: Call, idempotency_key: str, targets: list[DirectoryUser], request=None
) -> ActionResult:
    previous = _previous(user, call, idempotency_key)
    if previous is not None:
        return previous
    decision = rules.may_redirect(
        can_redirect=user_has_capability(user, "see_incoming_calls"),
        direction=call.direction,
        call_state=call.state,
    )
    if not decision:
        _refuse(user, call, "redirect", decision, request)
    targets = [t for t in targets if t.in_directory and t.account_enabled][:25]
    if not targets:
        raise CallRefused("Choose someone who can take the call.")
    return _save_send_and_audit(
        user,
        call,
        CallAction.Kind.REDIRECT,
        idempotency_key,
        targets,
        request,
        lambda: graph_calls.redirect_call(call.graph_id, [_person(t) for t in targets]),
    )


def call_end(*, user, call: Call, idempotency_key: str, request=None) -> ActionResult:
    previous = _previous(user, call, idempotency_key)
    if previous is not None:
        return previous
    decision = rules.may_end(
        is_starter=_is_starter(user, call),
        can_act_on_any=user_has_capability(user, "act_on_any_call"),
        call_state=call.state,
    )
    if not decision:
        _refuse(user, call, "end", decision, request)
    if not call.graph_id:
        raise CallRefused("Microsoft has not confirmed this call yet; try again in a moment.")
    result = _save_send_and_audit(
        user,
        call,
        CallAction.Kind.END,
        idempotency_key,
        [],
        request,
        lambda: graph_calls.end_call(call.graph_id),
    )
    if result.action.outcome == CallAction.Outcome.ACCEPTED:
        apply_state(call.pk, states.TERMINATING, None)
    return result


def _previous(user, call: Call, idempotency_key: str) -> ActionResult | None:
    action = CallAction.objects.filter(idempotency_key=idempotency_key).first()
    if action is None:
        return None
    if action.call_id != call.pk or action.requested_by_id != user.pk:
        raise CallRefused("This form has already been used. Open the call again.")
    return ActionResult(call, False, action=action, error=_failure(action))


def _failure(action: CallAction) -> str:
    return action.message if action.outcome == CallAction.Outcome.FAILED else ""


def _save_send_and_audit(
    user,
    call: Call,
    kind: str,
    idempotency_key: str,
    targets: list[DirectoryUser],
    request,
    send: Callable[[], str],
    replaces: Call | None = None,
) -> ActionResult:
    action, created = create_once(
        CallAction,
        {"idempotency_key": idempotency_key},
        call=call,
        kind=kind,
        requested_by=user,
        targets=[{"id": t.object_id, "display": t.label[:256]} for t in targets],
        replaces_call=replaces,
    )
    if not created:
        return _previous(user, call, idempotency_key)
    try:
        request_id = send()
    except (GraphError, TokenError) as exc:
        message = graph_error_in_words(exc)
        request_id = request_id_of(exc)
        _finish(action, CallAction.Outcome.FAILED, message, request_id)
        if getattr(exc, "status", 0) == 404:
            apply_state(call.pk, states.TERMINATED, ("404", "", "Graph no longer knows this call"))
        _audit(action, "failure", request, error=str(exc))
        call.refresh_from_db()
        return ActionResult(call, True, action=action, error=message)
    _finish(action, CallAction.Outcome.ACCEPTED, "", request_id)
    _audit(action, "success", request)
    call.refresh_from_db()
    return ActionResult(call, True, action=action)


def _finish(action: CallAction, outcome: str, message: str, request_id: str) -> None:
    action.outcome = outcome
    action.message = message[:512]
    action.graph_request_id = request_id[:128]
    action.finished_at = timezone.now()
    action.save(update_fields=["outcome", "message", "graph_request_id", "finished_at"])


def _audit(action: CallAction, outcome: str, request, **detail) -> None:
    audit.record(
        f"call.{action.kind}",
        outcome,
        request=request,
        actor=action.requested_by,
        target=f"call {action.call_id}",
        request_id=action.graph_request_id,
        to=action.targets_label,
        **detail,
    )
