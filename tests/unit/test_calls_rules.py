"""Who may start, transfer, redirect and end calls: the rules without a server."""

from functools import partial

import pytest

from calls import rules, states

ACTIVE_MAKE_CALLS = rules.Grant(is_active=True, make_calls=True)
LIVE_DOWN = rules.LiveCheck(made=False, why_not_made="Microsoft did not answer")


# A delegate of boss with an active make-calls grant starts a call; a test changes what it names.
A_DELEGATE = {"can_place_any": False, "on_behalf_of": "boss", "grant": ACTIVE_MAKE_CALLS}
start = partial(rules.may_start_call, live=None, **A_DELEGATE)


def test_delegate_with_active_make_calls_grant_may_start_a_call_on_behalf():
    assert start()


def test_delegate_without_make_calls_cannot_start_a_call_on_behalf():
    decision = start(grant=rules.Grant(is_active=True, receive_calls=True))
    assert not decision
    assert "does not allow you to make calls" in decision.reason


def test_inactive_grant_cannot_be_used_to_start_a_call():
    decision = start(grant=rules.Grant(is_active=False, make_calls=True))
    assert not decision and "not active" in decision.reason


def test_someone_who_is_not_a_delegate_cannot_call_on_behalf():
    decision = start(grant=None)
    assert not decision and "not made you a delegate" in decision.reason


def test_helpdesk_may_not_borrow_a_line_it_has_no_grant_for():
    assert not start(can_place_any=True, grant=None)


def test_helpdesk_may_start_a_call_without_on_behalf():
    assert start(can_place_any=True, on_behalf_of=None, grant=None)


def test_person_without_helpdesk_must_call_on_someones_behalf():
    decision = start(on_behalf_of=None, grant=None)
    assert not decision and "only start calls on behalf" in decision.reason


def test_live_check_saying_no_overrides_a_cached_yes():
    assert not start(live=rules.LiveCheck(made=True, grant=None))
    revoked = rules.LiveCheck(made=True, grant=rules.Grant(is_active=True, make_calls=False))
    assert not start(live=revoked)


def test_live_check_saying_yes_overrides_a_stale_cached_no():
    assert start(grant=None, live=rules.LiveCheck(made=True, grant=ACTIVE_MAKE_CALLS))


def test_live_check_that_could_not_be_made_falls_back_to_the_cache_and_says_so():
    assert start(live=LIVE_DOWN)
    assert not start(grant=None, live=LIVE_DOWN)
    assert "portal's copy" in rules.live_check_note(LIVE_DOWN)
    assert rules.live_check_note(rules.LiveCheck(made=True)) == ""


# The starter of an established call for boss hands it to deputy, who may receive boss's calls.
transfer = partial(
    rules.may_transfer,
    is_starter=True,
    can_act_on_any=False,
    call_state=states.ESTABLISHED,
    on_behalf_of="boss",
    actor_grant=rules.Grant(is_active=True, make_calls=True),
    target="deputy",
    target_grant=rules.Grant(is_active=True, receive_calls=True),
)


def test_starter_may_transfer_to_a_delegate_who_may_receive_the_delegators_calls():
    assert transfer()


def test_transfer_on_behalf_to_someone_who_may_not_receive_the_calls_is_refused_with_reason():
    decision = transfer(target_grant=rules.Grant(is_active=True, make_calls=True))
    assert not decision and "may not receive calls" in decision.reason
    decision = transfer(target_grant=None)
    assert not decision and "not a delegate" in decision.reason
    decision = transfer(target_grant=rules.Grant(is_active=False, receive_calls=True))
    assert not decision and "not active" in decision.reason


def test_helpdesk_transferring_a_call_made_on_behalf_is_held_to_the_same_delegates():
    assert not transfer(is_starter=False, can_act_on_any=True, target_grant=None)


def test_transfer_back_to_the_delegator_is_allowed():
    assert transfer(target="boss", target_grant=None)


def test_a_call_without_on_behalf_may_be_transferred_to_anyone():
    assert transfer(on_behalf_of=None, target_grant=None)


def test_someone_elses_call_cannot_be_transferred():
    decision = transfer(is_starter=False)
    assert not decision and "not yours" in decision.reason


def test_a_delegate_whose_grant_was_revoked_mid_call_may_not_transfer_it():
    decision = transfer(actor_grant=None)
    assert not decision and "no longer active" in decision.reason
    decision = transfer(actor_grant=rules.Grant(is_active=False, make_calls=True))
    assert not decision and "no longer active" in decision.reason
    decision = transfer(actor_grant=rules.Grant(is_active=True, receive_calls=True))
    assert not decision and "no longer lets you" in decision.reason


def test_helpdesk_needs_no_grant_of_their_own_to_transfer_a_call_made_on_behalf():
    assert transfer(is_starter=False, can_act_on_any=True, actor_grant=None)


def test_helpdesk_may_transfer_any_call():
    assert transfer(is_starter=False, can_act_on_any=True)


@pytest.mark.parametrize("state", [states.ESTABLISHING, states.TRANSFERRING, states.REQUESTED])
def test_only_a_connected_call_can_be_transferred(state):
    decision = transfer(call_state=state)
    assert not decision and "connected" in decision.reason


@pytest.mark.parametrize("state", [states.TERMINATED, states.FAILED])
def test_an_ended_call_cannot_be_acted_on(state):
    assert "already ended" in transfer(call_state=state).reason
    assert (
        "already ended"
        in rules.may_end(is_starter=True, can_act_on_any=False, call_state=state).reason
    )


def test_starter_and_helpdesk_may_end_a_call_and_nobody_else():
    live = states.ESTABLISHING
    assert rules.may_end(is_starter=True, can_act_on_any=False, call_state=live)
    assert rules.may_end(is_starter=False, can_act_on_any=True, call_state=live)
    assert not rules.may_end(is_starter=False, can_act_on_any=False, call_state=live)
    assert not rules.may_end(is_starter=True, can_act_on_any=False, call_state=states.TERMINATING)


def test_only_helpdesk_redirects_and_only_ringing_incoming_calls():
    assert rules.may_redirect(can_redirect=True, direction="incoming", call_state="incoming")
    assert not rules.may_redirect(can_redirect=False, direction="incoming", call_state="incoming")
    assert not rules.may_redirect(can_redirect=True, direction="outgoing", call_state="incoming")
    late = rules.may_redirect(can_redirect=True, direction="incoming", call_state="terminated")
    assert not late and "no longer ringing" in late.reason


def test_phone_calls_need_a_resource_account():
    assert not rules.may_start_phone_call(app_instance_id="")
    assert "CALLS_APP_INSTANCE_ID" in rules.may_start_phone_call(app_instance_id="").reason
    assert rules.may_start_phone_call(app_instance_id="4a2f")
