"""Moving a call's state: the one place the state machine's answer is written, with what follows
from it in the same transaction (when each leg answered or ended, the actions it finishes)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calls import states
from calls.models import Call, CallAction


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
        now = timezone.now()
        call.state = after.state
        call.state_rank = after.state_rank
        call.result_code = after.result_code
        call.result_subcode = after.result_subcode
        call.result_message = after.result_message
        fields = ["state", "state_rank", "result_code", "result_subcode", "result_message"]
        if after.state in states.FINAL and call.ended_at is None:
            call.ended_at = now
            fields.append("ended_at")
        if after.state == states.ESTABLISHED and call.answered_at is None:
            call.answered_at = now
            fields.append("answered_at")
        fields += _move_callee_leg(call, state, result, now)
        call.save(update_fields=[*fields, "updated_at"])
        _finish_actions(call, state, result, now)
    return True


def _move_callee_leg(call: Call, state: str, result, now) -> list[str]:
    """A ring-me-first call's second leg follows the transfer's notifications on the first."""
    if not call.callee_leg:
        return []
    change = states.callee_leg_after(call.callee_leg, state, result)
    if change is None:
        return []
    call.callee_leg = change.leg
    fields = ["callee_leg"]
    if change.reason:
        call.callee_leg_reason = change.reason[:512]
        fields.append("callee_leg_reason")
    if change.leg == states.LEG_TALKING and call.callee_answered_at is None:
        call.callee_answered_at = now
        fields.append("callee_answered_at")
    if change.leg in (states.LEG_FAILED, states.LEG_NOT_DIALLED):
        call.callee_ended_at = now
        fields.append("callee_ended_at")
    return fields


def _finish_actions(call: Call, state: str, result, now) -> None:
    """Actions Microsoft took (or that are on their way) end with the call's notifications: a
    transfer completes or comes back failed, a redirect is answered or not, an end ends."""
    in_flight = CallAction.objects.filter(
        Q(outcome=CallAction.Outcome.ACCEPTED)
        | Q(outcome=CallAction.Outcome.PENDING, sent_at__isnull=False),
        call=call,
    )
    for action in in_flight:
        finished = states.action_finished(action.kind, state, result)
        if finished is None:
            continue
        done, why_not = finished
        outcome = CallAction.Outcome.COMPLETED if done else CallAction.Outcome.FAILED
        CallAction.objects.filter(pk=action.pk).update(
            outcome=outcome, message=why_not[:512], finished_at=now
        )
