"""Large runs fan out: past the threshold, the people to read go in shards to Celery tasks as
soon as each is full (the coordinator reads the first shard's worth itself), each shard stages
what it reads, and the last to finish has the whole run applied in one transaction. The
threshold is set low so graphsim's 200 people make a coordinator's share and three shards."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from delegation.models import DelegationChange, SyncRun, SyncShard, SyncStage, SyncStagedGrant
from delegation.sync.service import request_sync, sync_now
from tests.support.processes import point_workers_at_graphsim
from tests.support.sync import assert_cache_mirrors, changes_of, sync_with_managers, tenant_grant
from tests.support.waiting import wait_for

# Every run a full sweep, so each reads all 200 people: 60 itself, then shards of 60, 60, 20.
SHARDING = {"SYNC_SHARD_THRESHOLD": 50, "SYNC_SHARD_SIZE": 60, "SYNC_FULL_SWEEP_DAYS": 0}
CHANGE = {
    "delegations": {
        "set": [tenant_grant("nobody", "boss")],
        "remove": [tenant_grant("boss", "deputy")],
    }
}


@pytest.fixture
def eager_celery():
    from portal.celery import app

    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = False


@pytest.fixture
def shard_sizes(monkeypatch):
    """The number of people each shard was given, in the order they ran."""
    from delegation.sync import shards as sync_shards

    sizes = []
    real_fetch_shard = sync_shards.fetch_shard

    def recording(run_id, number, ids, **kwargs):
        sizes.append(len(ids))
        return real_fetch_shard(run_id, number, ids, **kwargs)

    monkeypatch.setattr(sync_shards, "fetch_shard", recording)
    return sizes


def shard_like(settings) -> None:
    for name, value in SHARDING.items():
        setattr(settings, name, value)


def expected_changes(tenant) -> set:
    nobody, boss, deputy = (tenant.id_of(n) for n in ("nobody", "boss", "deputy"))
    return {("added", nobody, boss), ("removed", boss, deputy)}


def nothing_staged() -> bool:
    return not (
        SyncStage.objects.exists() or SyncShard.objects.exists() or SyncStagedGrant.objects.exists()
    )


def assert_sharded_cleanly(run, shard_sizes, tenant) -> None:
    """The run succeeded in shards of 60, 60 and 20 people, left nothing staged, and the cache
    mirrors the tenant."""
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert shard_sizes == [60, 60, 20]
    assert nothing_staged()
    assert_cache_mirrors(tenant.truth())


def manual_run(capture_on_commit_callbacks) -> SyncRun:
    """A run an admin asks for, with what it queues sent as each transaction commits (run at
    once under `eager_celery`); the run as it ended."""
    with capture_on_commit_callbacks(execute=True):
        run = request_sync(trigger="manual")
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_a_sharded_run_in_eager_mode_applies_exactly_the_changes(
    tenant, settings, eager_celery, django_capture_on_commit_callbacks, shard_sizes
):
    sync_with_managers()  # a first run in one process
    shard_like(settings)
    tenant.change(**CHANGE)
    tenant.sim.post("reset", {})  # counters only

    run = manual_run(django_capture_on_commit_callbacks)
    assert_sharded_cleanly(run, shard_sizes, tenant)
    assert run.users_mode == "delta"
    assert changes_of(run) == expected_changes(tenant)
    assert run.progress_done == run.progress_total == run.people
    # The shards' requests are counted with the coordinator's: one delta page + 10 batches.
    assert run.graph_requests == tenant.sim.get("stats")["total"] == 1 + 10


@pytest.mark.django_db
def test_the_first_sync_of_a_large_tenant_shards_as_the_listing_goes(
    tenant, settings, eager_celery, django_capture_on_commit_callbacks, shard_sizes
):
    shard_like(settings)
    tenant.sim.post("reset", {})

    run = manual_run(django_capture_on_commit_callbacks)
    assert_sharded_cleanly(run, shard_sizes, tenant)
    assert (run.users_mode, run.sweep) == ("full", "everyone")
    # The delta link, the pages of people (999 to a page: the listing does not expand the
    # manager), 10 batches: the same as a run in one process. Then, apart from the run, the
    # manager refresh it queued (run here at commit): 100 people to a page.
    people = len(tenant.truth()["users"])
    assert run.graph_requests == 1 + -(-people // 999) + 10
    assert tenant.sim.get("stats")["total"] == run.graph_requests + -(-people // 100)


@pytest.mark.django_db
def test_a_run_below_the_threshold_stays_in_one_process_past_the_shard_size(
    tenant, settings, eager_celery, django_capture_on_commit_callbacks, shard_sizes
):
    shard_like(settings)
    settings.SYNC_SHARD_THRESHOLD = 250  # graphsim has 200 people; a shard is 60

    run = manual_run(django_capture_on_commit_callbacks)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert shard_sizes == [] and not SyncShard.objects.exists()
    assert run.progress_total == 200
    assert_cache_mirrors(tenant.truth())


@pytest.mark.django_db(transaction=True)
def test_the_management_command_can_shard_and_waits_for_the_shards(
    tenant, settings, eager_celery, shard_sizes, capsys
):
    shard_like(settings)

    call_command("sync_delegations", "--shards")

    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert shard_sizes == [60, 60, 20]
    assert f"sync #{run.pk} succeeded mode=full" in capsys.readouterr().out
    assert_cache_mirrors(tenant.truth())


@pytest.mark.django_db
def test_a_sharded_full_listing_after_an_expired_delta_changes_nothing(
    tenant, settings, eager_celery, django_capture_on_commit_callbacks
):
    sync_now()
    shard_like(settings)
    tenant.sim.post("delta/expire")

    run = manual_run(django_capture_on_commit_callbacks)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.users_mode == "full"
    assert not DelegationChange.objects.filter(run=run).exists()


@pytest.mark.django_db
def test_a_shard_without_a_token_fails_the_whole_run_and_changes_nothing(
    tenant, settings, eager_celery, django_capture_on_commit_callbacks, monkeypatch
):
    from portal.graph import tokens
    from portal.graph.errors import ReconnectNeeded

    sync_now()
    shard_like(settings)
    tenant.change(**CHANGE)
    real = tokens.sync_token_provider
    calls = []

    def provider_lost_after_the_coordinator():
        calls.append(1)
        if len(calls) > 1:
            raise ReconnectNeeded("invalid_grant")
        return real()

    monkeypatch.setattr(tokens, "sync_token_provider", provider_lost_after_the_coordinator)

    run = manual_run(django_capture_on_commit_callbacks)
    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith("Reconnect needed")
    assert not DelegationChange.objects.filter(run=run).exists()
    assert nothing_staged()


@pytest.fixture
def worker_env(tenant, graphsim, monkeypatch):
    """What the worker process needs to reach graphsim and to shard (it reads the environment)."""
    sharding = {name: str(value) for name, value in SHARDING.items()}
    return point_workers_at_graphsim(monkeypatch, graphsim, SYNC_USE_APP_ONLY="true", **sharding)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_sharded_run_on_a_real_worker_applies_exactly_the_changes(
    tenant, worker_env, celery_worker_process
):
    from portal.models import AuditEvent

    sync_with_managers()
    tenant.change(**CHANGE)

    run = request_sync(trigger="manual")

    def finished():
        run.refresh_from_db()
        return run.status not in (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING)

    wait_for(finished, timeout=90)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    fan_out = AuditEvent.objects.get(action="sync.fan_out", target=f"sync run #{run.pk}")
    assert fan_out.detail["shards"] == 3
    assert changes_of(run) == expected_changes(tenant)
    assert_cache_mirrors(tenant.truth())
