"""The alert rules as plain functions: each fires on the change it is about and stays quiet on
the rest; the facts shared with the risk rules read the same; a delegator past the threshold is
reported once per run."""

from __future__ import annotations

from datetime import UTC, datetime

from alerts import rules
from alerts.rules import ChangeFacts, Settings
from delegation.risk.rules import GrantFacts, Limits, Party

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
ALL = Settings(rules_on=frozenset(rules.ORDER), many_delegates=3)
BOSS = Party("b-1", "Bea Boss", department="Sales")
ARI = Party("a-1", "Ari Assistant", department="Sales")
LEX = Party("l-1", "Lex Lawyer", department="Legal")
DORA = Party("d-1", "Dora Disabled", department="Sales", enabled=False)


def change(kind="added", before=None, after=None, delegate=ARI, delegator=BOSS, count=1):
    after = {"is_active": True, "receive_calls": True} if after is None else after
    grant = GrantFacts(delegator, delegate, delegator_grants=count)
    return ChangeFacts(kind, before, None if kind == "removed" else after, grant)


def found(*changes, settings=ALL) -> list[tuple[str, str]]:
    alerts = rules.evaluate(list(changes), settings, Limits(), NOW)
    return [(a.rule, a.delegate_id) for a in alerts]


def test_a_plain_grant_within_the_department_raises_nothing():
    assert found(change()) == []


def test_a_new_grant_that_may_manage_settings_is_reported():
    manage = {"is_active": True, "manage_settings": True}
    assert found(change(after=manage)) == [("manage_settings", "a-1")]
    gained = change("changed", before={"is_active": True}, after=manage)
    assert found(gained) == [("manage_settings", "a-1")]


def test_a_grant_that_already_could_manage_settings_is_not_reported_again():
    manage = {"is_active": True, "manage_settings": True}
    same = change("changed", before=manage, after={**manage, "make_calls": True})
    assert found(same) == []
    switched_off = change("changed", before=manage, after={**manage, "is_active": False})
    assert found(switched_off) == []


def test_a_grant_to_a_disabled_account_says_so_in_the_risk_rules_words():
    alerts = rules.evaluate([change(delegate=DORA)], ALL, Limits(), NOW)
    assert [a.rule for a in alerts] == ["disabled_account"]
    assert "Dora Disabled" in alerts[0].sentence and "disabled" in alerts[0].sentence


def test_a_removed_grant_raises_nothing_even_to_a_disabled_account():
    assert found(change("removed", before={"is_active": True}, delegate=DORA)) == []


def test_a_delegate_outside_the_department_is_reported_when_the_grant_starts():
    assert found(change(delegate=LEX)) == [("outside_department", "l-1")]
    # Changing the actions of a grant that was already there is not a new outsider.
    more = change("changed", before={"is_active": True}, after={"is_active": True}, delegate=LEX)
    assert found(more) == []
    nowhere = Party("n-1", "Nils", department="")
    assert found(change(delegator=Party("x", "X", department=""), delegate=nowhere)) == [
        ("outside_department", "n-1")
    ]


def test_a_delegator_past_the_threshold_is_reported_once_whatever_the_run_added():
    many = [
        change(delegate=Party(f"p-{i}", f"P{i}", department="Sales"), count=5) for i in range(4)
    ]
    assert found(*many) == [("many_delegates", "")]
    assert found(change(count=3)) == []  # at the threshold, not past it
    assert found(change("changed", before={"is_active": True}, count=9)) == []


def test_only_the_rules_that_are_on_run():
    manage = change(after={"is_active": True, "manage_settings": True}, delegate=LEX)
    assert found(manage) == [("manage_settings", "l-1"), ("outside_department", "l-1")]
    only = Settings(rules_on=frozenset({"outside_department"}), many_delegates=3)
    assert found(manage, settings=only) == [("outside_department", "l-1")]


def test_a_drift_alert_names_the_request_and_both_people():
    alert = rules.drift_alert(42, ("b-1", "Bea Boss"), ("a-1", "Ari"), "change")
    assert (alert.rule, alert.delegator, alert.delegate) == ("drift", "Bea Boss", "Ari")
    assert "#42" in alert.sentence
