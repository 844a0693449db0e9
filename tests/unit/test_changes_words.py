"""Pure parts of applying and verifying: whether Teams holds what a request asked, grants in
words, what Teams will show each side, and the approval move of the state table."""

import pytest

from delegation.changes import states
from delegation.changes.selectors import what_teams_will_show
from delegation.changes.snapshots import snapshot
from delegation.changes.teams_state import describe, describe_packed, holds
from portal.allowed_actions import bit
from portal.graph.delegations import pack

CALLS = snapshot(make_calls=True, receive_calls=True)


def packed(active=True, **actions) -> int:
    return pack(active, sum(bit(name) for name, on in actions.items() if on), 1_700_000_000)


def test_teams_holds_a_grant_only_when_every_action_and_the_active_state_match():
    assert holds(CALLS, packed(make_calls=True, receive_calls=True))
    assert not holds(CALLS, packed(make_calls=True))
    assert not holds(CALLS, packed(False, make_calls=True, receive_calls=True))
    assert not holds(CALLS, None)


def test_a_removal_holds_when_teams_has_no_grant():
    assert holds(None, None)
    assert not holds(None, packed(make_calls=True))


def test_a_powershell_request_is_compared_without_the_active_state_powershell_cannot_set():
    inactive = snapshot(is_active=False, make_calls=True)
    assert not holds(inactive, packed(make_calls=True))
    assert holds(inactive, packed(make_calls=True), ignore_active=True)


def test_the_created_time_teams_keeps_does_not_matter():
    assert holds(snapshot(make_calls=True), pack(True, bit("make_calls"), 42))
    assert holds(snapshot(make_calls=True), pack(True, bit("make_calls"), None))


def test_a_grant_in_words():
    assert describe(None) == "no delegation"
    assert describe(CALLS) == "active: Make calls, Receive calls"
    assert describe(snapshot(is_active=False)) == "inactive: no allowed actions"
    assert describe_packed(packed(join_active_calls=True)) == "active: Join active calls"


def test_what_teams_will_show_each_side_of_a_planned_grant():
    view = what_teams_will_show("Bea Boss", "Ari Assistant", CALLS)
    assert view.delegator == "Bea Boss's Teams will list Ari Assistant as a delegate."
    assert view.delegate.startswith("Ari Assistant's Teams will list Bea Boss")
    assert "place calls that show the delegator's line as the caller" in view.delegate
    assert view.allowed == [
        "place calls that show the delegator's line as the caller",
        "answer calls that ring the delegator's line",
    ]


def test_what_teams_will_show_for_an_inactive_grant_and_a_removal():
    inactive = what_teams_will_show("Bea", "Ari", snapshot(is_active=False, make_calls=True))
    assert "inactive" in inactive.delegator and "inactive" in inactive.delegate
    removal = what_teams_will_show("Bea", "Ari", None)
    assert "no longer" in removal.delegator and removal.allowed == []


@pytest.mark.parametrize("target", [states.REQUESTED, states.REJECTED, states.CANCELLED])
def test_a_request_awaiting_approval_is_approved_back_to_requested_or_closed(target):
    assert states.move(states.AWAITING_APPROVAL, target) == target
