"""The delegation sync against graphsim over real HTTPS, with real MSAL tokens (app-only: the
tenant switch that grants CallDelegation.Read.All), from first listing to diff."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delegation.models import Delegation, DelegationChange, DirectoryUser, SyncRun
from delegation.sync.lock import SyncAlreadyRunning
from delegation.sync.managers import refresh_managers
from delegation.sync.service import request_sync, sync_now
from tests.support.sync import (
    assert_cache_mirrors,
    cache_writes,
    changes_of,
    staged_writes,
    sync_with_managers,
    tenant_grant,
)

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ the happy path
def test_first_sync_mirrors_people_and_delegations_exactly(tenant):
    truth = tenant.truth()
    tenant.sim.post("reset", {})  # counters only

    run = sync_now()

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.users_mode == "full"
    assert run.people == len(truth["users"])
    # The first sync of an empty cache is the baseline: grants found, none "added".
    assert run.baseline_grants == len(truth["delegations"])
    assert run.delegations_added == 0
    assert not DelegationChange.objects.exists()
    # Pages of people (999 each: the listing does not expand the manager), ceil(N/20) batches,
    # and one request for the delta cursor.
    pages, batches = -(-len(truth["users"]) // 999), -(-len(truth["users"]) // 20)
    assert run.graph_requests == pages + batches + 1
    assert tenant.sim.get("stats")["total"] == run.graph_requests
    assert run.progress_done == run.progress_total == len(truth["users"])
    refresh_managers()  # queued by the run (it listed everyone), apart from it
    assert_cache_mirrors(truth)


def test_a_delegate_unknown_to_the_directory_is_kept_as_an_unknown_person(tenant):
    orphan = {g["delegate"] for g in tenant.truth()["delegations"]} - {
        u["id"] for u in tenant.truth()["users"]
    }
    assert len(orphan) == 1

    sync_now()

    person = DirectoryUser.objects.get(object_id=orphan.pop())
    assert person.in_directory is False
    assert person.label.startswith("unknown person (")
    assert person.delegations_received.get().delegator.upn == "boss@contoso.test"


def sync_writing_nothing() -> SyncRun:
    """Run a sync that must succeed without writing a row to the cache or the staging."""
    with CaptureQueriesContext(connection) as queries:
        run = sync_now()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert cache_writes(queries.captured_queries) == []
    assert staged_writes(queries.captured_queries) == []
    return run


def test_a_second_sync_with_nothing_changed_writes_no_rows(tenant):
    sync_now()

    run = sync_writing_nothing()
    assert run.users_mode == "delta"
    assert (run.delegations_added, run.delegations_changed, run.delegations_removed) == (0, 0, 0)
    assert (run.people_added, run.people_changed, run.people_removed) == (0, 0, 0)


def test_tenant_changes_become_exactly_those_delegation_changes(tenant):
    sync_with_managers()
    boss, deputy, former = (tenant.id_of(n) for n in ("boss", "deputy", "former"))
    nobody, manager = tenant.id_of("nobody"), tenant.id_of("manager")
    tenant.change(
        users={
            "add": [{"userPrincipalName": "newbie@contoso.test", "displayName": "New Bie"}],
            # jobTitle: graphsim's `$deltatoken=latest` forgets $select (department would not show)
            "update": [{"userPrincipalName": "nobody@contoso.test", "jobTitle": "Lawyer"}],
            "remove": ["disabled@contoso.test"],  # also removes manager -> disabled
        },
        delegations={
            "set": [tenant_grant("boss", "nobody"), tenant_grant("boss", "deputy", makeCalls=True)],
            "remove": [tenant_grant("boss", "former")],
        },
    )
    disabled = DirectoryUser.objects.get(upn="disabled@contoso.test").object_id

    run = sync_now()

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.users_mode == "delta"
    assert changes_of(run) == {
        ("added", boss, nobody),
        ("changed", boss, deputy),
        ("removed", boss, former),
        ("removed", manager, disabled),
    }
    changed = DelegationChange.objects.get(run=run, kind="changed")
    assert changed.before["make_calls"] is False and changed.after["make_calls"] is True
    assert changed.after["receive_calls"] is True
    assert (run.people_added, run.people_changed, run.people_removed) == (1, 1, 1)
    assert DirectoryUser.objects.get(object_id=disabled).removed_at is not None
    assert DirectoryUser.objects.get(upn="nobody@contoso.test").job_title == "Lawyer"
    assert_cache_mirrors(tenant.truth())


def test_an_expired_delta_token_falls_back_to_a_full_listing_and_changes_nothing(tenant):
    sync_now()
    tenant.sim.post("delta/expire")

    run = sync_writing_nothing()
    assert run.users_mode == "full"


def test_delegates_spread_over_pages_are_followed_through_next_links(tenant):
    tenant.faults(delegation_page_size=2)

    run = sync_with_managers()

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert_cache_mirrors(tenant.truth())


def test_the_management_command_runs_the_same_sync_and_prints_its_figures(tenant, capsys):
    call_command("sync_delegations")

    out = capsys.readouterr().out
    run = SyncRun.objects.get()
    assert run.trigger == SyncRun.Trigger.COMMAND and run.status == SyncRun.Status.SUCCEEDED
    assert f"sync #{run.pk} succeeded mode=full people={run.people}" in out
    assert f"delegations_added={run.delegations_added}" in out


def test_requesting_a_sync_queues_its_task_after_commit(
    tenant, settings, django_capture_on_commit_callbacks, make_user
):
    from portal.celery import app

    admin = make_user("admin")
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            run = request_sync(trigger="manual", user=admin)
            assert run.status == SyncRun.Status.QUEUED
    finally:
        app.conf.task_always_eager = False
    # The run's task; then, queued by the finished run, the manager refresh (it listed
    # everyone), the re-verification of change requests, the signal it sends once done
    # (sync_applied), and the alerts' evaluation that queues.
    assert len(callbacks) == 5
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED and run.triggered_by == admin
    assert Delegation.objects.exists()
    assert_cache_mirrors(tenant.truth())  # managers too: the refresh ran after the run


# ------------------------------------------------------------------ one sync at a time
def test_a_second_request_while_one_is_live_says_one_is_running(tenant):
    first = request_sync(trigger="manual")

    with pytest.raises(SyncAlreadyRunning) as caught:
        request_sync(trigger="manual")

    assert caught.value.run == first
    assert SyncRun.objects.count() == 1


def test_a_run_whose_worker_died_frees_the_lock_after_the_ttl(tenant, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.SYNC_LOCK_TTL_SECONDS = 60
    dead = request_sync(trigger="manual")
    SyncRun.objects.filter(pk=dead.pk).update(
        status=SyncRun.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(seconds=61)
    )

    fresh = request_sync(trigger="manual")

    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED and "no heartbeat" in dead.error
    assert fresh.status == SyncRun.Status.QUEUED


def test_a_run_that_lost_its_lock_changes_nothing(tenant):
    from delegation.sync import lock as sync_lock
    from delegation.sync.service import run_sync

    run = request_sync(trigger="manual")
    # Another worker declared it stale after this one took it, just before applying.
    original_beat = sync_lock.beat

    def beat_after_takeover(run_id, **progress):
        SyncRun.objects.filter(pk=run_id).update(status=SyncRun.Status.FAILED)
        return original_beat(run_id, **progress)

    sync_lock.beat = beat_after_takeover
    try:
        run = run_sync(run.pk)
    finally:
        sync_lock.beat = original_beat
    assert run.status == SyncRun.Status.FAILED
    assert not Delegation.objects.exists() and not DirectoryUser.objects.exists()


def test_the_scheduled_task_queues_a_run_unless_one_is_live(tenant):
    from delegation.tasks import scheduled_sync

    assert scheduled_sync() == f"queued sync #{SyncRun.objects.get().pk}"
    assert "already running" in scheduled_sync()
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.SCHEDULE


def test_a_redelivered_task_leaves_a_run_already_taken_alone(tenant):
    from delegation.sync.service import run_sync

    run = request_sync(trigger="manual")
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.RUNNING)

    again = run_sync(run.pk)

    assert again.status == SyncRun.Status.RUNNING and again.graph_requests == 0
    assert not DirectoryUser.objects.exists()


def test_an_emptied_cache_is_filled_by_a_full_listing_not_a_delta(tenant):
    sync_now()
    DirectoryUser.objects.all().delete()

    run = sync_with_managers()

    assert run.users_mode == "full"
    assert_cache_mirrors(tenant.truth())


def test_progress_and_heartbeat_are_written_as_the_run_goes_outside_any_transaction(
    tenant, monkeypatch
):
    from delegation.sync import lock as sync_lock
    from delegation.sync import progress as sync_progress

    monkeypatch.setattr(sync_progress, "PROGRESS_EVERY_SECONDS", 0)
    seen = []
    real_beat = sync_lock.beat

    def recording_beat(run_id, **progress):
        alive = real_beat(run_id, **progress)
        # What a page polling the run sees now.
        done = SyncRun.objects.filter(pk=run_id).values_list("progress_done", flat=True).get()
        seen.append((done, len(connection.savepoint_ids)))
        return alive

    monkeypatch.setattr(sync_lock, "beat", recording_beat)
    depth = len(connection.savepoint_ids)  # the test's own transaction

    run = sync_now()

    done = [d for d, _ in seen if d is not None]
    assert len(done) > 10 and done == sorted(done) and done[-1] == run.people
    assert {d for _, d in seen} == {depth}  # none inside the sync's final transaction
    assert SyncRun.objects.get(pk=run.pk).heartbeat_at is not None


def figures_queries() -> int:
    """How many queries the organisation figures cost right now (1 when served warm)."""
    from delegation.selectors.organisation import organisation_summary

    with CaptureQueriesContext(connection) as queries:
        organisation_summary()
    return len(queries)


@pytest.mark.parametrize("shared", [True, False], ids=["shared cache", "per-process cache"])
def test_a_finished_sync_warms_the_dashboard_figures_only_in_a_shared_cache(
    tenant, settings, tmp_path, shared
):
    if shared:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path),
            }
        }
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    run = sync_now()

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    if shared:
        assert figures_queries() == 1
    else:
        assert figures_queries() > 1
