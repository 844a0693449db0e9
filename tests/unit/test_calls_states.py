"""The call state machine: any order and any repeat of one call's notifications ends the same."""

from itertools import permutations

import pytest

from calls import states
from portal.graph import notifications

NOTIFICATION_SEQUENCES = {
    "answered and hung up": (
        [
            ("establishing", None),
            ("established", None),
            ("terminating", None),
            ("terminated", ("200", "5001", "ended")),
        ],
        ("terminated", "hung up"),
    ),
    "no answer": (
        [("establishing", None), ("terminated", ("408", "10057", "not answered"))],
        ("terminated", "no answer"),
    ),
    "unreachable": (
        [("establishing", None), ("terminated", ("480", "10076", "unreachable"))],
        ("terminated", "unreachable"),
    ),
    "transfer completed": (
        [
            ("establishing", None),
            ("established", None),
            ("transferring", None),
            ("transferAccepted", None),
            ("terminated", ("0", "7015", "transferred")),
        ],
        ("terminated", "transfer completed"),
    ),
    "transfer failed": (
        [
            ("establishing", None),
            ("established", None),
            ("transferring", None),
            ("established", ("500", "7000", "failed")),
        ],
        ("established", "transfer failed"),
    ),
    "incoming redirected": (
        [
            ("incoming", None),
            ("redirecting", None),
            ("terminated", ("200", "5001", "redirected")),
        ],
        ("terminated", "hung up"),
    ),
}


NEW_CALL = states.Snapshot(states.REQUESTED, 0)


def run(sequence, start=NEW_CALL):
    snapshot = start
    for state, result in sequence:
        after = states.apply(snapshot, state, result)
        if after is not None:
            snapshot = after
    return snapshot


@pytest.mark.parametrize("name", NOTIFICATION_SEQUENCES)
def test_every_order_of_a_calls_notifications_ends_in_the_same_state(name):
    sequence, (final_state, words) = NOTIFICATION_SEQUENCES[name]
    for order in permutations(sequence):
        end = run(order)
        assert end.state == final_state, order
        assert states.result_in_words(end.state, end.result_code, end.result_subcode) == words


@pytest.mark.parametrize("name", NOTIFICATION_SEQUENCES)
def test_every_notification_delivered_twice_changes_nothing_more(name):
    sequence, (final_state, _) = NOTIFICATION_SEQUENCES[name]
    for order in permutations(sequence + sequence[:2]):
        assert run(order).state == final_state


def test_established_before_establishing_stays_established():
    assert run([("established", None), ("establishing", None)]).state == "established"


def test_nothing_leaves_terminated():
    ended = run([("terminated", ("200", "5001", ""))])
    for state in ("incoming", "establishing", "established", "transferring", "terminating"):
        assert states.apply(ended, state, None) is None
    assert states.apply(ended, "terminated", ("0", "7015", "")) is None


def test_a_call_the_portal_could_not_place_takes_no_notification():
    failed = states.Snapshot(states.FAILED, states.rank(states.FAILED))
    assert states.apply(failed, "established", None) is None


def test_unknown_states_are_ignored():
    assert states.apply(states.Snapshot("establishing", 10), "exploded", None) is None
    assert states.apply(states.Snapshot("establishing", 10), "", None) is None


def test_a_second_transfer_after_a_failed_one_can_move_the_call_again():
    failed_once = run(
        [("established", None), ("transferring", None), ("established", ("500", "7000", ""))]
    )
    reopened = states.Snapshot(
        failed_once.state,
        states.RANK_BEFORE_ACTION,
        failed_once.result_code,
        failed_once.result_subcode,
    )
    assert run([("transferring", None)], start=reopened).state == "transferring"


def test_hold_and_unhold_alternate():
    assert run([("established", None), ("hold", None)]).state == "hold"
    assert (
        run([("established", None), ("hold", None), ("established", None)]).state == "established"
    )


@pytest.mark.parametrize(
    "info, expected",
    [
        ({"code": 408, "subcode": 10057, "message": "x"}, ("408", "10057", "x")),
        ({"code": "480", "subCode": "10076"}, ("480", "10076", "")),
        ({"code": 0, "subcode": 7015.0}, ("0", "7015", "")),
        ({"code": None, "subcode": {"odd": 1}, "message": "only words"}, ("", "", "only words")),
        ({}, None),
        ("not a dict", None),
        (None, None),
    ],
)
def test_result_info_is_read_leniently(info, expected):
    assert notifications.parse_result(info) == expected


@pytest.mark.parametrize(
    "state, code, subcode, words",
    [
        ("terminated", "200", "5001", "hung up"),
        ("terminated", "0", "7015", "transfer completed"),
        ("terminated", "408", "10057", "no answer"),
        ("terminated", "480", "10076", "unreachable"),
        ("established", "500", "7000", "transfer failed"),
        ("terminated", "603", "0", "declined"),
        ("terminated", "486", "1234", "busy"),
        # Nothing reported says nothing: the state ("Ended") is not repeated as its result.
        ("terminated", "", "", ""),
        ("established", "", "", ""),
        ("terminated", "503", "9999", "code 503/9999"),
    ],
)
def test_result_codes_are_shown_in_words(state, code, subcode, words):
    assert states.result_in_words(state, code, subcode) == words
