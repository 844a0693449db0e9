"""The risk rules over a synced tenant: few grants flagged on the demo tenant, each with its
reason; the database filters and the per-grant explanations agree; managers are synced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from delegation.models import Delegation, DelegationChange, DirectoryUser, GrantReview
from delegation.risk import queries
from delegation.risk.rules import RULES
from delegation.sync.service import sync_now
from tests.support.factories import grant, person
from tests.support.sync import boss_lets_nobody_manage_settings, sync_with_managers

pytestmark = pytest.mark.django_db


def flagged_by_filters() -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for rule_id in RULES:
        for pk in Delegation.objects.filter(queries.rule_q(rule_id)).values_list("pk", flat=True):
            out.setdefault(pk, set()).add(rule_id)
    return out


def explained() -> dict[int, set[str]]:
    grants = list(Delegation.objects.select_related("delegator", "delegate"))
    findings = queries.findings_for_grants(grants)
    return {pk: {f.rule for f in found} for pk, found in findings.items() if found}


def test_under_a_tenth_of_the_demo_tenants_grants_are_flagged_each_with_a_reason(tenant):
    run = sync_now()
    assert run.status == "succeeded", run.error

    total = Delegation.objects.count()
    flagged = flagged_by_filters()
    assert total > 100 and 0 < len(flagged) < total / 10
    assert explained() == flagged  # each flagged row says why, and only those
    grants = Delegation.objects.select_related("delegator", "delegate").filter(pk__in=flagged)
    for pk, found in queries.findings_for_grants(list(grants)).items():
        assert all(len(f.words) > 30 for f in found), (pk, found)
    assert {"manage_outside", "disabled_or_removed"} <= set().union(*flagged.values())


def test_the_sync_reads_each_persons_manager_and_delta_follows_a_change(tenant):
    sync_with_managers()
    truth = {u["userPrincipalName"]: u for u in tenant.truth()["users"]}
    mona = DirectoryUser.objects.get(upn="manager@contoso.test")
    assert mona.manager.upn == "boss@contoso.test"
    assert DirectoryUser.objects.filter(manager__isnull=False).count() == sum(
        1 for u in truth.values() if u["manager"]
    )
    nils = truth["nobody@contoso.test"]
    tenant.sim.post(
        "tenant", {"users": {"update": [{"id": nils["id"], "manager": mona.object_id}]}}
    )

    run = sync_now()

    assert run.users_mode == "delta"
    assert DirectoryUser.objects.get(object_id=nils["id"]).manager == mona
    tenant.sim.post("tenant", {"users": {"update": [{"id": nils["id"], "manager": None}]}})
    sync_now()
    assert DirectoryUser.objects.get(object_id=nils["id"]).manager_id is None


def test_a_grant_added_in_teams_after_the_first_sync_is_flagged_until_reviewed(tenant):
    sync_now()
    truth = {u["userPrincipalName"]: u["id"] for u in tenant.truth()["users"]}
    row = {"delegator": truth["boss@contoso.test"], "delegate": truth["nobody@contoso.test"]}
    tenant.sim.post("tenant", {"delegations": {"set": [row]}})
    sync_now()

    added = Delegation.objects.get(
        delegator__upn="boss@contoso.test", delegate__upn="nobody@contoso.test"
    )
    assert added.pk in flagged_by_filters() and "outside_portal" in explained()[added.pk]
    GrantReview.objects.create(delegator=added.delegator, delegate=added.delegate, decision="keep")
    assert "outside_portal" not in flagged_by_filters().get(added.pk, set())
    assert "outside_portal" not in explained().get(added.pk, set())


def test_inactive_and_near_limit_rules_follow_their_settings(settings):
    settings.REVIEW_INACTIVE_DAYS, settings.REVIEW_NEAR_LIMIT = 30, 3
    boss = person("Busy Boss")
    helpers = [person(f"Helper {i}") for i in range(3)]
    old = grant(boss, helpers[0], receive_calls=True, is_active=False)
    Delegation.objects.filter(pk=old.pk).update(last_changed=timezone.now() - timedelta(days=31))
    recent = grant(boss, helpers[1], receive_calls=True, is_active=False)
    grant(boss, helpers[2], receive_calls=True)
    assert flagged_by_filters() == {old.pk: {"inactive", "near_limit"}, recent.pk: {"near_limit"}}
    assert explained() == flagged_by_filters()


def test_manage_settings_within_the_management_chain_is_not_flagged():
    boss = person("Chief", department="Executive Office")
    head = person("Head of Sales", department="Sales", manager_id=boss.object_id)
    seller = person("Seller", department="Sales", manager_id=head.object_id)
    legal = person("Lawyer", department="Legal")
    up_two = grant(seller, boss, manage_settings=True)  # the manager's manager
    down = grant(head, seller, manage_settings=True)  # same department
    report = grant(boss, head, manage_settings=True)  # a direct report, another department
    outside = grant(seller, legal, manage_settings=True)
    assert flagged_by_filters() == {outside.pk: {"manage_outside"}}
    assert explained() == flagged_by_filters()
    assert {up_two.pk, down.pk, report.pk}.isdisjoint(flagged_by_filters())


def test_the_sync_changes_are_explained_for_alerts(tenant):
    sync_now()
    boss_lets_nobody_manage_settings(tenant)
    run = sync_now()
    change = DelegationChange.objects.select_related("delegator", "delegate").get(run=run)
    rules = {f.rule for f in queries.findings_for_changes([change])[change.pk]}
    assert rules == {"manage_outside", "outside_portal"}
