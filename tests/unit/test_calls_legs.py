"""The two legs of a ring-me-first call, as plain functions: the callee's leg follows the
transfer's notifications on the first leg, whatever their order or repeats, and the actions
Microsoft took end with the call's notifications."""

from itertools import permutations

import pytest

from calls import states

ANSWERED = [("establishing", None), ("established", None)]
THROUGH = [("transferring", None), ("transferAccepted", None), ("terminated", ("0", "7015", ""))]
# After `established` the portal claims the leg (waiting -> dialling) and sends the transfer.
LEG_SEQUENCES = {
    "both answered": (THROUGH, states.LEG_TALKING),
    "callee did not answer": (
        [("transferring", None), ("established", ("500", "7000", "did not answer"))],
        states.LEG_FAILED,
    ),
    "callee unreachable, Microsoft saying so": (
        [("transferring", None), ("established", ("480", "10076", ""))],
        states.LEG_FAILED,
    ),
    "hung up while the callee rang": (
        [("transferring", None), ("terminating", None), ("terminated", ("200", "5001", ""))],
        states.LEG_FAILED,
    ),
}


def run_legs(sequence, call=None, leg=states.LEG_DIALLING):
    """Apply notifications as the portal does: the leg moves only with an applied state."""
    call = call or states.Snapshot("established", states.rank("established"))
    for state, result in sequence:
        after = states.apply(call, state, result)
        if after is None:
            continue
        call = after
        change = states.callee_leg_after(leg, state, result)
        if change is not None:
            leg = change.leg
    return call, leg


@pytest.mark.parametrize("name", LEG_SEQUENCES)
def test_the_callees_leg_ends_the_same_in_every_order_and_with_repeats(name):
    sequence, final = LEG_SEQUENCES[name]
    for order in permutations(sequence + sequence[:1]):
        assert run_legs(order)[1] == final, order


def test_the_first_leg_unanswered_means_the_callee_is_never_dialled():
    start = states.Snapshot(states.REQUESTED, 0)
    _, leg = run_legs(
        [("establishing", None), ("terminated", ("408", "10057", ""))],
        call=start,
        leg=states.LEG_WAITING,
    )
    assert leg == states.LEG_NOT_DIALLED
    change = states.callee_leg_after(states.LEG_WAITING, "terminated", ("408", "10057", ""))
    assert change.reason == "your phone: no answer"


def test_repeated_answers_of_the_first_leg_move_nothing_on_the_callees_leg():
    for leg in (states.LEG_WAITING, states.LEG_DIALLING, states.LEG_RINGING, states.LEG_TALKING):
        assert states.callee_leg_after(leg, "established", None) is None


def test_a_failed_leg_stays_failed_when_the_call_then_ends():
    assert states.callee_leg_after(states.LEG_FAILED, "terminated", ("200", "5001", "")) is None


def test_the_generic_transfer_failure_carries_microsofts_own_words():
    change = states.callee_leg_after(
        states.LEG_RINGING, "established", ("500", "7000", "The transfer target did not answer.")
    )
    assert change.leg == states.LEG_FAILED
    assert change.reason == 'transfer failed: Microsoft said "The transfer target did not answer."'
    bare = states.transfer_failure_in_words("500", "7000", "")
    assert bare == "transfer failed (Microsoft gave no reason)"
    assert states.transfer_failure_in_words("408", "10057", "whatever") == "no answer"


@pytest.mark.parametrize(
    "kind, state, result, finished",
    [
        ("handover", "terminated", ("0", "7015", ""), (True, "")),
        ("transfer", "established", ("408", "10057", ""), (False, "no answer")),
        ("handover", "transferring", None, None),
        (
            "handover",
            "terminated",
            ("200", "5001", ""),
            (False, "the call ended before the transfer completed"),
        ),
        ("redirect", "terminated", ("200", "5001", ""), (True, "")),
        ("redirect", "terminated", ("408", "10057", ""), (False, "no answer")),
        ("redirect", "redirecting", None, None),
        ("end", "terminating", None, None),
        ("end", "terminated", ("200", "5001", ""), (True, "")),
    ],
)
def test_an_action_microsoft_took_is_finished_by_the_calls_notifications(
    kind, state, result, finished
):
    assert states.action_finished(kind, state, result) == finished
