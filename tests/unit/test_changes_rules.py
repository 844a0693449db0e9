"""The rules a change must pass, judged from plain facts without a server."""

from datetime import UTC, datetime, timedelta

import pytest

from delegation.changes import rules
from delegation.changes.rules import Actor, Person, Proposal
from delegation.changes.snapshots import snapshot

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ANN = Person("aaaaaaaa-0000-0000-0000-000000000001", "Ann Lee", has_voice_licence=True)
BOB = Person("bbbbbbbb-0000-0000-0000-000000000002", "Bob Roe")
CALLS = snapshot(make_calls=True, receive_calls=True)


def others(n: int, prefix: str = "c") -> frozenset[str]:
    return frozenset(f"{prefix}{i:07d}-0000-0000-0000-000000000000" for i in range(n))


def codes(proposal: Proposal, **kw) -> list[str]:
    return [refusal.code for refusal in rules.check(proposal, now=NOW, **kw)]


def test_a_plain_add_between_two_enabled_people_passes():
    assert codes(Proposal(ANN, BOB, current=None, after=CALLS)) == []


def test_a_26th_delegate_is_refused_and_the_words_name_the_delegator_and_the_limit():
    proposal = Proposal(ANN, BOB, None, CALLS, delegates_of_delegator=others(25))
    [refusal] = rules.check(proposal, now=NOW)
    assert refusal.code == "delegator_full"
    assert "Ann Lee" in refusal.words and "25" in refusal.words


def test_pending_adds_count_towards_the_limit_because_the_caller_passes_them_in_the_set():
    assert codes(Proposal(ANN, BOB, None, CALLS, delegates_of_delegator=others(24))) == []
    assert codes(Proposal(ANN, BOB, None, CALLS, delegates_of_delegator=others(25))) == [
        "delegator_full"
    ]


def test_a_delegate_of_25_people_cannot_take_a_26th():
    proposal = Proposal(ANN, BOB, None, CALLS, delegators_of_delegate=others(25, "d"))
    assert codes(proposal) == ["delegate_full"]


def test_a_full_delegator_may_still_change_an_existing_grant():
    full = others(24) | {BOB.object_id}
    proposal = Proposal(ANN, BOB, CALLS, snapshot(make_calls=True), delegates_of_delegator=full)
    assert codes(proposal) == []


def test_nobody_may_delegate_to_themselves():
    assert "self" in codes(Proposal(ANN, ANN, None, CALLS))


@pytest.mark.parametrize(
    ("delegator", "delegate", "code"),
    [
        (ANN, None, "delegate_unknown"),
        (ANN, Person(BOB.object_id, in_directory=False), "delegate_unknown"),
        (ANN, Person(BOB.object_id, "Bob", enabled=False), "delegate_disabled"),
        (None, BOB, "delegator_unknown"),
        (Person(ANN.object_id, "Ann", enabled=False), BOB, "delegator_disabled"),
    ],
)
def test_both_people_must_be_enabled_people_of_the_directory(delegator, delegate, code):
    assert codes(Proposal(delegator, delegate, None, CALLS)) == [code]


def test_a_delegator_the_directory_says_has_no_teams_phone_licence_is_refused():
    unlicensed = Person(ANN.object_id, "Ann", has_voice_licence=False)
    assert codes(Proposal(unlicensed, BOB, None, CALLS)) == ["no_licence"]


def test_an_unknown_licence_is_allowed():
    unknown = Person(ANN.object_id, "Ann", has_voice_licence=None)
    assert codes(Proposal(unknown, BOB, None, CALLS)) == []


def test_a_change_identical_to_the_current_grant_has_nothing_to_change():
    [refusal] = rules.check(Proposal(ANN, BOB, CALLS, dict(CALLS)), now=NOW)
    assert refusal.code == "nothing_to_change"
    assert "Nothing to change" in refusal.words


def test_an_add_of_an_existing_grant_becomes_a_change():
    assert rules.kind_of(current=CALLS, after=snapshot()) == rules.CHANGE
    assert rules.kind_of(current=None, after=CALLS) == rules.ADD
    assert rules.kind_of(current=CALLS, after=None) == rules.REMOVE


def test_removing_a_grant_that_does_not_exist_is_refused():
    assert codes(Proposal(ANN, BOB, current=None, after=None)) == ["no_grant"]


def test_a_disabled_persons_grant_can_still_be_removed():
    gone = Person(BOB.object_id, "Bob", enabled=False, in_directory=False)
    assert codes(Proposal(ANN, gone, current=CALLS, after=None)) == []


def test_a_second_request_for_a_pair_with_one_pending_is_refused_naming_it():
    [refusal] = rules.check(Proposal(ANN, BOB, None, CALLS, pending_request_id=41), now=NOW)
    assert refusal.code == "pending" and "#41" in refusal.words


@pytest.mark.parametrize(
    ("ends_at", "expected"),
    [
        (NOW + timedelta(days=7), []),
        (NOW, ["end_in_past"]),
        (NOW - timedelta(minutes=1), ["end_in_past"]),
        (NOW + timedelta(days=366), ["end_too_far"]),
    ],
)
def test_an_end_date_must_lie_ahead_but_not_too_far(ends_at, expected):
    assert codes(Proposal(ANN, BOB, None, CALLS, ends_at=ends_at)) == expected


def test_the_end_date_horizon_is_a_setting():
    proposal = Proposal(ANN, BOB, None, CALLS, ends_at=NOW + timedelta(days=40))
    assert codes(proposal, max_end_days=30) == ["end_too_far"]


MANAGE = snapshot(manage_settings=True)


@pytest.mark.parametrize(
    ("policy", "acting_as", "before", "after", "expected"),
    [
        ("none", rules.STAFF, None, MANAGE, False),
        ("all", rules.SELF, None, CALLS, True),
        ("risky", rules.STAFF, None, MANAGE, True),
        ("risky", rules.STAFF, CALLS, MANAGE, True),
        ("risky", rules.STAFF, MANAGE, MANAGE | {"make_calls": True}, False),
        ("risky", rules.STAFF, None, CALLS, False),
        ("risky", rules.SELF, None, MANAGE, False),
        ("risky", rules.STAFF, MANAGE, None, False),
    ],
)
def test_approval_waits_for_a_manager_when_the_policy_asks(
    policy, acting_as, before, after, expected
):
    assert rules.needs_approval(policy, acting_as, before, after) is expected


def test_an_unknown_approval_policy_is_a_configuration_error():
    with pytest.raises(ValueError, match="sometimes"):
        rules.needs_approval("sometimes", rules.STAFF, None, CALLS)


def test_a_delegator_manages_their_own_delegates():
    assert rules.acting_as(Actor(ANN.object_id.upper()), ANN.object_id) == rules.SELF


def test_a_delegate_allowed_to_manage_settings_manages_that_delegators_delegates_only():
    assistant = Actor(BOB.object_id, manages_settings_of=frozenset({ANN.object_id}))
    assert rules.acting_as(assistant, ANN.object_id) == rules.DELEGATE
    assert not rules.may_manage(assistant, "eeeeeeee-0000-0000-0000-000000000005")


def test_helpdesk_and_admin_manage_anyone_through_their_capability():
    helpdesk = Actor(None, capabilities=frozenset({rules.MANAGE_ANY_CAPABILITY}))
    assert rules.acting_as(helpdesk, ANN.object_id) == rules.STAFF


def test_a_person_without_a_grant_or_capability_manages_nobody_else():
    assert not rules.may_manage(Actor(BOB.object_id, frozenset({"view_people"})), ANN.object_id)
