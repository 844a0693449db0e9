"""Acting on a live call: transfer, redirect, end. Checked against the rules and recorded here,
in the request; sent to Graph by a worker (services.send), once, and audited there.

A second submit of the same form finds its CallAction by key and shows what the first did.
"""

from __future__ import annotations

from calls import rules, selectors
from calls.models import Call, CallAction
from calls.services.outcome import ActionResult, CallRefused
from calls.services.record import record_and_queue
from delegation.models import DirectoryUser
from portal import audit
from portal.roles import user_has_capability


def _is_starter(user, call: Call) -> bool:
    return call.started_by_id is not None and call.started_by_id == user.pk


def _refuse(user, call: Call, kind: str, decision: rules.Decision, request) -> None:
    _audit(f"call.{kind}", "denied", user, call, request, reason=decision.reason)
    raise CallRefused(decision.reason)


def _audit(action: str, outcome: str, user, call: Call, request, **detail) -> None:
    """A person's request on a call, refused or recorded: the log names them and the call."""
    audit.record(action, outcome, request=request, actor=user, target=call.audit_target, **detail)


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
    if call.rings_me_first:
        # Its transfer is the put-through to the callee, made when the first leg answers.
        raise CallRefused("This call puts you through to its callee itself; end it instead.")
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
    return _record_and_queue(
        user, call, CallAction.Kind.TRANSFER, idempotency_key, [target], request, replaces
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
    return _record_and_queue(
        user, call, CallAction.Kind.REDIRECT, idempotency_key, targets, request
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
    return _record_and_queue(user, call, CallAction.Kind.END, idempotency_key, [], request)


def _previous(user, call: Call, idempotency_key: str) -> ActionResult | None:
    action = CallAction.objects.filter(idempotency_key=idempotency_key).first()
    if action is None:
        return None
    if action.call_id != call.pk or action.requested_by_id != user.pk:
        raise CallRefused("This form has already been used. Open the call again.")
    failed = action.outcome == CallAction.Outcome.FAILED
    return ActionResult(call, False, action=action, error=action.message if failed else "")


def _record_and_queue(
    user,
    call: Call,
    kind: str,
    idempotency_key: str,
    targets: list[DirectoryUser],
    request,
    replaces: Call | None = None,
) -> ActionResult:
    action, created = record_and_queue(
        CallAction,
        idempotency_key,
        "calls.tasks.send_action",
        lambda action: _audit(
            f"call.{kind}.requested", "success", user, call, request, to=action.targets_label
        ),
        call=call,
        kind=kind,
        requested_by=user,
        targets=[{"id": t.object_id, "display": t.label[:256]} for t in targets],
        replaces_call=replaces,
    )
    if not created:
        return _previous(user, call, idempotency_key)
    return ActionResult(call, True, action=action)
