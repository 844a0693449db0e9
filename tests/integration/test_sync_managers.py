"""Managers apart from the sync's listing (contract: People, managers): the full listing asks
999 people a page without $expand and keeps the managers the cache holds; their own listing
(the manager refresh) sets and clears them, writing only what differs; a sync that listed
everyone queues it, a delta does not (users/delta keeps managers current: test_risk_rules)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delegation.models import Delegation, DirectoryUser, SyncRun
from delegation.risk.queries import rule_q
from delegation.selectors.organisation import data_version, organisation_summary
from delegation.sync import managers
from delegation.sync.managers import refresh_managers
from delegation.sync.service import sync_now
from portal.graph.errors import ReconnectNeeded
from portal.models import AuditEvent
from tests.support.sync import assert_cache_mirrors, cache_writes, sync_with_managers

pytestmark = pytest.mark.django_db

LISTING = "GET /v1.0/users"


def listing_requests(tenant) -> int:
    return tenant.sim.requests_where(lambda route: route == LISTING)


def managers_of_truth(tenant) -> dict:
    return {u["id"]: u["manager"] for u in tenant.truth()["users"]}


def cached_managers() -> dict:
    rows = DirectoryUser.objects.filter(in_directory=True, removed_at__isnull=True)
    return dict(rows.values_list("object_id", "manager_id"))


@pytest.fixture
def queued(monkeypatch):
    """Task names the manager refresh's queueing sent, recorded instead of sent."""
    sent: list[str] = []
    monkeypatch.setattr(managers, "enqueue", lambda name, *args: sent.append(name))
    return sent


def test_the_full_listing_asks_999_people_a_page_without_expanding_the_manager(tenant):
    people = len(tenant.truth()["users"])
    assert 100 < people <= 999  # one page at $top=999; two with $expand (100 a page)
    tenant.sim.post("reset", {})

    run = sync_now()

    assert run.users_mode == "full"
    assert listing_requests(tenant) == 1
    assert set(cached_managers().values()) == {None}  # the listing said nothing of them
    refresh_managers()
    assert listing_requests(tenant) == 1 + -(-people // 100)  # $expand: 100 a page
    assert cached_managers() == managers_of_truth(tenant)


def test_a_full_listing_keeps_the_managers_the_cache_holds(tenant):
    sync_with_managers()
    nobody, mona = (
        DirectoryUser.objects.get(upn=f"{n}@contoso.test") for n in ("nobody", "manager")
    )
    assert nobody.manager_id != mona.object_id
    # A manager only the cache knows (as if set by a delta the listing cannot see): kept.
    DirectoryUser.objects.filter(pk=nobody.pk).update(manager_id=mona.object_id)
    tenant.change(users={"update": [{"userPrincipalName": "nobody@contoso.test", "jobTitle": "X"}]})
    tenant.sim.post("delta/expire")

    run = sync_now()

    assert (run.users_mode, run.people_changed) == ("full", 1)
    nobody.refresh_from_db()
    assert (nobody.job_title, nobody.manager_id) == ("X", mona.object_id)
    others = {oid: m for oid, m in cached_managers().items() if oid != nobody.object_id}
    truth = managers_of_truth(tenant)
    assert others == {oid: m for oid, m in truth.items() if oid != nobody.object_id}
    refresh_managers()  # what the run queued puts the directory's manager back
    assert_cache_mirrors(tenant.truth())


def test_a_full_listing_with_nothing_changed_writes_no_row(tenant):
    sync_with_managers()
    tenant.sim.post("delta/expire")

    with CaptureQueriesContext(connection) as queries:
        run = sync_now()

    assert run.users_mode == "full" and run.status == SyncRun.Status.SUCCEEDED
    assert cache_writes(queries.captured_queries) == []
    assert_cache_mirrors(tenant.truth())


def test_the_refresh_sets_and_clears_managers_and_writes_nothing_when_nothing_changed(tenant):
    sync_now()
    first = refresh_managers()
    truth = managers_of_truth(tenant)
    assert first == {"people": len(truth), "changed": sum(1 for m in truth.values() if m)}
    assert cached_managers() == truth
    nobody, boss = tenant.id_of("nobody"), tenant.id_of("boss")
    mona = tenant.id_of("manager")
    assert truth[mona] == boss
    tenant.change(
        users={"update": [{"id": nobody, "manager": mona}, {"id": mona, "manager": None}]}
    )

    again = refresh_managers()

    assert again["changed"] == 2
    assert cached_managers()[nobody] == mona and cached_managers()[mona] is None
    assert cached_managers() == managers_of_truth(tenant)
    with CaptureQueriesContext(connection) as queries:
        unchanged = refresh_managers()
    assert unchanged["changed"] == 0
    assert cache_writes(queries.captured_queries) == []
    audited = AuditEvent.objects.filter(action="sync.managers").order_by("id")
    assert [(e.outcome, e.detail["changed"]) for e in audited] == [
        ("success", first["changed"]),
        ("success", 2),
        ("success", 0),
    ]
    assert audited.last().detail["requests"] == -(-len(truth) // 100)


def test_a_refresh_without_a_token_writes_nothing_and_is_audited_as_failed(tenant):
    sync_now()

    def no_token(force_refresh=False):
        raise ReconnectNeeded("invalid_grant")

    outcome = refresh_managers(token_provider=no_token)

    assert outcome["changed"] == 0 and "invalid_grant" in outcome["error"]
    assert set(cached_managers().values()) == {None}
    assert AuditEvent.objects.get(action="sync.managers").outcome == "failure"


def test_a_sync_that_listed_everyone_queues_the_refresh_and_a_delta_does_not(tenant, queued):
    assert sync_now().users_mode == "full"
    assert queued == [managers.TASK]
    assert sync_now().users_mode == "delta"
    assert queued == [managers.TASK]
    tenant.sim.post("delta/expire")
    assert sync_now().users_mode == "full"
    assert queued == [managers.TASK] * 2


def test_beat_refreshes_the_managers_weekly():
    entry = settings.CELERY_BEAT_SCHEDULE["sync-managers"]
    assert entry == {"task": managers.TASK, "schedule": 7 * 86400.0}


def test_the_dashboards_cached_figures_follow_a_refresh_that_wrote_a_manager(tenant):
    # The risk rules read managers, and a refresh writes no run, grant or person id: without its
    # own mark in the summary's key, the dashboard kept the old figures for its cache's ten minutes.
    sync_with_managers()
    cache.clear()
    outside = Delegation.objects.filter(rule_q("manage_outside")).select_related(
        "delegator", "delegate"
    )
    before = organisation_summary().risk_counts["manage_outside"]
    assert before == outside.count() > 0
    grant = outside.first()
    unchanged = data_version()
    refresh_managers()  # nothing moved: the key stays, the figures come from the cache
    assert data_version() == unchanged
    tenant.change(
        users={"update": [{"id": grant.delegate.object_id, "manager": grant.delegator.object_id}]}
    )

    assert refresh_managers()["changed"] == 1

    assert data_version() != unchanged
    after = organisation_summary().risk_counts["manage_outside"]
    assert after == outside.count() == before - 1  # the delegate now reports to the delegator
