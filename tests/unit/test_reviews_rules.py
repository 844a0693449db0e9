"""Who may decide on a campaign item and who reviews a grant, as plain functions."""

from __future__ import annotations

from reviews import rules

A, B, R = "delegator-oid", "delegate-oid", "reviewer-oid"


def may(user=R, reviewer=R, open_=True):
    return rules.refusal(
        user_oid=user, reviewer_oid=reviewer, delegator_oid=A, delegate_oid=B, open_=open_
    )


def test_the_assigned_reviewer_may_decide_while_the_campaign_is_open():
    assert may() is None
    assert may(open_=False) == rules.CLOSED
    assert may(user="someone-else") == rules.NOT_ASSIGNED
    assert may(user="") == rules.NOT_IN_DIRECTORY


def test_nobody_decides_on_a_grant_they_hold_or_gave_even_when_assigned():
    assert may(user=A, reviewer=A) == rules.OWN_GRANT
    assert may(user=B, reviewer=B) == rules.OWN_GRANT


def test_the_reviewer_is_the_first_candidate_outside_the_grant():
    assert rules.pick_reviewer(["m1", "m2"], (A, B)) == "m1"
    assert rules.pick_reviewer([B, None, "m2"], (A, B)) == "m2"  # the manager is the delegate
    assert rules.pick_reviewer([A, B, None], (A, B)) is None


def test_named_reviewers_take_turns_by_delegator():
    named = ["n1", "n2", "n3"]
    assert rules.named_candidates(named, 0) == ["n1", "n2", "n3"]
    assert rules.named_candidates(named, 4) == ["n2", "n3", "n1"]
    assert rules.named_candidates([], 2) == []
