"""Moving a call's state: the one place the state machine's answer is written."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from calls import states
from calls.models import Call


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
