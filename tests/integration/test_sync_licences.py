"""A sync's cost follows the people who can delegate: after a full sweep, a run reads the
delegates of people with Teams Phone and of current delegators only; a full sweep of everyone
comes back every SYNC_FULL_SWEEP_DAYS; a delegator without a licence is reported. Against
graphsim over HTTPS, whose demo tenant gives a quarter of its people Teams Phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from delegation.models import Delegation, DirectoryUser, SyncRun
from delegation.sync import sql, staging
from tests.support.sync import (
    TEAMS_PHONE,
    assert_cache_mirrors,
    changes_of,
    has_teams_phone,
    sync_with_managers,
    tenant_grant,
)

pytestmark = pytest.mark.django_db


def without_teams_phone(tenant, local: str) -> dict:
    """A person's update that removes their Teams Phone, as Graph then lists it (Deleted)."""
    user = tenant.sim.get(f"users/{local}@contoso.test")
    plans = [
        {**plan, "capabilityStatus": "Deleted"} if plan["servicePlanId"] == TEAMS_PHONE else plan
        for plan in user["assignedPlans"]
    ]
    return {"id": user["id"], "assignedPlans": plans}


def delegates_read(tenant) -> int:
    return tenant.sim.get("stats")["batch_items"]


def test_the_cache_stores_each_persons_teams_phone_licence(tenant):
    truth = tenant.truth()

    run = sync_with_managers()

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    voice = set(
        DirectoryUser.objects.filter(voice_enabled=True).values_list("object_id", flat=True)
    )
    assert voice == {u["id"] for u in truth["users"] if has_teams_phone(u)}
    assert 0 < len(voice) < len(truth["users"]) // 2


def test_a_run_after_a_full_sweep_reads_only_people_with_teams_phone_and_current_delegators(
    tenant,
):
    first = sync_with_managers()
    truth = tenant.truth()
    voice = {u["id"] for u in truth["users"] if has_teams_phone(u)}
    delegators = {g["delegator"] for g in truth["delegations"]}
    assert (first.sweep, first.progress_total) == ("everyone", len(truth["users"]))
    tenant.sim.post("delta/expire")  # a full listing: the people themselves are all read again
    tenant.sim.post("reset", {})

    run = sync_with_managers()

    assert (run.status, run.sweep, run.users_mode) == ("succeeded", "voice", "full")
    assert delegates_read(tenant) == run.progress_total == len(voice | delegators)
    assert len(voice | delegators) < len(truth["users"]) // 3
    # The refused delta, then the minimum: the delta link, the pages of people (999 to a page:
    # the listing does not expand the manager) and ceil(V'/20) batches.
    pages = -(-len(truth["users"]) // 999)
    assert run.graph_requests == 1 + 1 + pages + -(-len(voice | delegators) // 20)
    assert_cache_mirrors(truth)


def test_a_removed_licence_still_shows_its_grants_removal_and_the_delegator_is_reported(tenant):
    sync_with_managers()
    boss, assistant = tenant.id_of("boss"), tenant.id_of("assistant")
    tenant.change(
        users={"update": [without_teams_phone(tenant, "boss")]},
        delegations={"remove": [tenant_grant("boss", "assistant")]},
    )

    run = sync_with_managers()

    assert (run.status, run.sweep, run.users_mode) == ("succeeded", "voice", "delta")
    assert changes_of(run) == {("removed", boss, assistant)}
    assert DirectoryUser.objects.get(object_id=boss).voice_enabled is False
    assert boss in run.unlicensed_delegator_ids
    assert run.unlicensed_delegators == len(run.unlicensed_delegator_ids) >= 2
    assert_cache_mirrors(tenant.truth())


def test_a_new_delegator_without_a_licence_waits_for_the_weekly_full_sweep(tenant, settings):
    settings.SYNC_FULL_SWEEP_DAYS = 7
    sync_with_managers()
    admin, nobody = tenant.id_of("admin"), tenant.id_of("nobody")  # Adele has no Teams Phone
    tenant.change(delegations={"set": [tenant_grant("admin", "nobody")]})

    quick = sync_with_managers()
    SyncRun.objects.filter(sweep="everyone").update(finished_at=timezone.now() - timedelta(days=8))
    weekly = sync_with_managers()

    assert (quick.sweep, quick.delegations_added) == ("voice", 0)
    assert admin not in quick.unlicensed_delegator_ids
    assert weekly.sweep == "everyone"
    assert changes_of(weekly) == {("added", admin, nobody)}
    assert admin in weekly.unlicensed_delegator_ids
    assert_cache_mirrors(tenant.truth())


def test_a_full_sweep_when_asked_or_set_for_every_run_or_when_the_cache_is_empty(tenant, settings):
    assert sync_with_managers().sweep == "everyone"  # the first run
    assert sync_with_managers().sweep == "voice"
    assert sync_with_managers(full_sweep=True).sweep == "everyone"
    settings.SYNC_FULL_SWEEP_DAYS = 0
    assert sync_with_managers().sweep == "everyone"
    settings.SYNC_FULL_SWEEP_DAYS = 7
    DirectoryUser.objects.all().delete()
    assert sync_with_managers().sweep == "everyone"
    assert_cache_mirrors(tenant.truth())


def test_runs_applied_a_few_rows_at_a_time_mirror_the_tenant_exactly(tenant, monkeypatch):
    monkeypatch.setattr(sql, "CHUNK", 7)
    monkeypatch.setattr(sql, "IN_LIST", 3)
    monkeypatch.setattr(staging, "FLUSH_PEOPLE", 5)
    sync_with_managers()
    tenant.change(
        users={
            "add": [{"userPrincipalName": "newbie@contoso.test", "displayName": "New Bie"}],
            "update": [without_teams_phone(tenant, "manager")],
            "remove": ["deputy@contoso.test", "noanswer@contoso.test"],
        },
        delegations={
            "set": [
                tenant_grant("boss", "nobody"),
                tenant_grant("manager", "helpdesk", joinActiveCalls=True),
            ]
        },
    )

    delta = sync_with_managers()
    assert_cache_mirrors(tenant.truth())
    tenant.change(users={"remove": ["nobody@contoso.test"]})
    tenant.sim.post("delta/expire")
    full = sync_with_managers()

    assert (delta.users_mode, delta.people_added, delta.people_removed) == ("delta", 1, 2)
    assert (delta.delegations_added, delta.delegations_changed) == (1, 1)
    assert (full.users_mode, full.people_removed) == ("full", 1)
    assert full.delegations_removed == 1  # boss -> nobody, gone with nobody
    assert_cache_mirrors(tenant.truth())


def test_a_listing_reads_the_cache_delegators_first_and_forgets_one_who_left(tenant):
    # The cache's delegators are read whatever the listing shows, so their batches leave
    # before its first page; one the listing then finds gone is removed, not failed.
    sync_with_managers()
    truth = tenant.truth()
    managers = {user.get("manager") for user in truth["users"]}
    leaver = next(
        user
        for user in truth["users"]
        if user["id"] not in managers
        and any(grant["delegator"] == user["id"] for grant in truth["delegations"])
    )
    grants = Delegation.objects.filter(delegator__object_id=leaver["id"]).count()
    assert grants
    tenant.change(users={"remove": [leaver["userPrincipalName"]]})
    tenant.sim.post("delta/expire")
    tenant.sim.post("reset", {})  # the counters only

    run = sync_with_managers()

    assert (run.status, run.users_mode, run.sweep) == (SyncRun.Status.SUCCEEDED, "full", "voice")
    assert (run.failures, run.failed_user_ids) == ({}, [])
    assert (run.people_removed, run.delegations_removed) == (1, grants)
    assert_cache_mirrors(tenant.truth())
    # Read before the listing showed them gone: Graph answered 404, which is not a failure.
    answers = tenant.sim.get("stats")["batch_item_routes"]
    assert answers["GET /beta/{who}/communications/callSettings/{kind}"].get("404") == 1
