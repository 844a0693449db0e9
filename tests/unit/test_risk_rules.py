"""The risk rules as plain functions: each flags what it says, in words with the specifics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from delegation.risk.rules import GrantFacts, Limits, OutsideChange, Party, explain

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
LIMITS = Limits(inactive_days=90, near_limit=23)
FIN = Party("a1", "Fiona Finance", department="Finance", manager_id="m1")
SALES = Party("b2", "Sam Sales", department="Sales")


def rules_of(facts: GrantFacts) -> dict[str, str]:
    return {f.rule: f.words for f in explain(facts, LIMITS, NOW)}


def test_a_plain_grant_is_not_flagged():
    assert rules_of(GrantFacts(FIN, SALES, delegator_grants=3)) == {}


def test_manage_settings_outside_department_and_chain_says_both_departments():
    words = rules_of(GrantFacts(FIN, SALES, manage_settings=True))["manage_outside"]
    assert words == (
        "Can change call settings; delegate is in Sales, delegator in Finance and not in the "
        "delegator's management chain."
    )


def test_manage_settings_within_the_chain_or_department_is_not_flagged():
    manager = Party("m1", "Mo Manager", department="Sales")
    assert rules_of(GrantFacts(FIN, manager, manage_settings=True, chain=("m1",))) == {}
    report = Party("r1", "Rita Report", department="Sales", manager_id="a1")
    assert rules_of(GrantFacts(FIN, report, manage_settings=True)) == {}
    colleague = Party("c1", "Carl", department="Finance")
    assert rules_of(GrantFacts(FIN, colleague, manage_settings=True)) == {}
    # Inactive: it cannot be used until switched on (the inactive rule speaks for it).
    assert rules_of(GrantFacts(FIN, SALES, manage_settings=True, is_active=False)) == {}


def test_no_department_on_both_sides_is_not_the_same_department():
    a, b = Party("a", "A"), Party("b", "B")
    words = rules_of(GrantFacts(a, b, manage_settings=True))["manage_outside"]
    assert "delegate is in no department, delegator in no department" in words


def test_disabled_and_removed_accounts_are_named():
    disabled = Party("d1", "Dora Disabled", enabled=False)
    gone = Party("g1", in_directory=False)
    words = rules_of(GrantFacts(FIN, disabled))["disabled_or_removed"]
    assert words.startswith("The delegate's account (Dora Disabled) is disabled")
    words = rules_of(GrantFacts(Party("x", "X", removed=True), gone))["disabled_or_removed"]
    assert "not in the directory (a removed account, g1)" in words
    assert "delegator's account (X) was removed" in words


def test_inactive_counts_days_since_the_portal_saw_it_inactive():
    since = NOW - timedelta(days=120)
    words = rules_of(GrantFacts(FIN, SALES, is_active=False, inactive_since=since))["inactive"]
    assert words.startswith("Inactive for 120 days (since 02 Aug 2026)")
    recent = GrantFacts(FIN, SALES, is_active=False, inactive_since=NOW - timedelta(days=89))
    assert "inactive" not in rules_of(recent)


def test_near_limit_flags_the_inactive_grants_of_a_busy_delegator():
    busy = GrantFacts(FIN, SALES, is_active=False, inactive_since=NOW, delegator_grants=24)
    assert rules_of(busy)["near_limit"] == (
        "Fiona Finance has 24 delegates (Teams allows 25); this inactive grant holds one of the "
        "places."
    )
    active = GrantFacts(FIN, SALES, delegator_grants=25)
    assert rules_of(active) == {}


def test_made_outside_the_portal_says_added_or_changed_and_when():
    added = OutsideChange("added", datetime(2026, 11, 3, tzinfo=UTC))
    words = rules_of(GrantFacts(FIN, SALES, outside=added))["outside_portal"]
    assert words == "Added in Teams on 03 Nov 2026, not through the portal, and not reviewed since."
    changed = OutsideChange("changed", NOW)
    assert (
        "no longer matches" in rules_of(GrantFacts(FIN, SALES, outside=changed))["outside_portal"]
    )
