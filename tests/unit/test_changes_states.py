"""The change request's states: one table of moves, typed refusals, words for every state."""

import pytest

from delegation.changes import states
from delegation.changes.models import ChangeRequest
from delegation.changes.snapshots import KEYS, changed_keys, normalised, snapshot


def test_a_request_goes_from_requested_through_apply_to_verified():
    state = states.REQUESTED
    for target in (states.APPLYING, states.APPLIED, states.VERIFIED):
        state = states.move(state, target)
    assert state == states.VERIFIED


def test_a_refused_graph_write_waits_for_powershell_and_is_verified_later():
    state = states.move(states.APPLYING, states.AWAITING_POWERSHELL)
    assert states.move(state, states.VERIFIED) == states.VERIFIED


def test_a_write_with_unknown_outcome_returns_to_requested_only_through_the_table():
    assert states.can_move(states.APPLYING, states.REQUESTED)
    assert not states.can_move(states.APPLIED, states.REQUESTED)


def test_an_illegal_move_raises_a_typed_error_naming_both_states():
    with pytest.raises(states.IllegalMove) as caught:
        states.move(states.VERIFIED, states.APPLYING)
    assert caught.value.current == states.VERIFIED
    assert "Verified in Teams" in str(caught.value) and "Applying" in str(caught.value)


@pytest.mark.parametrize("final", sorted(states.FINAL))
def test_nothing_leaves_a_final_state(final):
    assert not any(states.can_move(final, target) for target, _ in states.CHOICES)


def test_final_states_are_failed_ended_cancelled_and_rejected():
    assert {states.FAILED, states.ENDED, states.CANCELLED, states.REJECTED} == states.FINAL


def test_pending_settled_and_final_states_do_not_overlap_and_cover_every_state():
    groups = (states.PENDING, states.SETTLED, states.FINAL)
    assert sum(len(g) for g in groups) == len(states.CHOICES)
    assert set().union(*groups) == {state for state, _ in states.CHOICES}


def test_only_pending_approval_can_be_rejected():
    assert [s for s, _ in states.CHOICES if states.can_move(s, states.REJECTED)] == [
        states.AWAITING_APPROVAL
    ]


def test_a_time_boxed_grant_ends_from_verified_or_drifted_and_a_failed_ending_leaves_it():
    assert states.can_move(states.VERIFIED, states.ENDING)
    assert states.can_move(states.DRIFTED, states.ENDING)
    assert states.move(states.ENDING, states.VERIFIED) == states.VERIFIED


def test_every_state_has_words_and_an_unknown_one_is_shown_as_is():
    assert all(words and words != state for state, words in states.CHOICES)
    assert states.label("odd") == "odd"
    assert not states.can_move("odd", states.APPLYING)


def test_the_model_status_field_offers_exactly_the_table_states():
    field = ChangeRequest._meta.get_field("status")
    assert [value for value, _ in field.choices] == [state for state, _ in states.CHOICES]


def test_a_request_shows_which_keys_change_and_whether_it_is_pending():
    request = ChangeRequest(
        status=states.AWAITING_POWERSHELL,
        before=snapshot(make_calls=True),
        after=snapshot(make_calls=True, receive_calls=True),
    )
    assert request.changed_keys == ["receive_calls"]
    assert request.is_pending and not request.is_final
    assert request.status_words == "Awaiting PowerShell"


def test_an_add_or_remove_changes_every_key():
    assert changed_keys(None, snapshot()) == list(KEYS)
    assert changed_keys(snapshot(), None) == list(KEYS)
    assert changed_keys(None, None) == []


def test_a_partial_snapshot_reads_missing_actions_as_not_allowed_and_active_as_true():
    assert normalised({"make_calls": True}) == snapshot(make_calls=True)
    with pytest.raises(ValueError, match="fly"):
        snapshot(fly=True)
