"""Large tenants fan out: shards of people read by Celery tasks, a final task applies the diff.
The threshold is set low so graphsim's 200 people make four shards."""

from __future__ import annotations

import pytest

from delegation.models import DelegationChange, SyncRun, SyncStage
from delegation.sync.service import request_sync, sync_now
from tests.support.processes import graphsim_env
from tests.support.sync import assert_cache_mirrors, changes_of
from tests.support.waiting import wait_for

SHARDING = {"SYNC_SHARD_THRESHOLD": 50, "SYNC_SHARD_SIZE": 60}
CHANGE = {
    "delegations": {
        "set": [{"delegator": "nobody@contoso.test", "delegate": "boss@contoso.test"}],
        "remove": [{"delegator": "boss@contoso.test", "delegate": "deputy@contoso.test"}],
    }
}


@pytest.fixture
def eager_celery():
    from portal.celery import app

    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = False


def expected_changes(tenant) -> set:
    nobody, boss, deputy = (tenant.id_of(n) for n in ("nobody", "boss", "deputy"))
    return {("added", nobody, boss), ("removed", boss, deputy)}


@pytest.mark.django_db
def test_a_sharded_run_in_eager_mode_applies_exactly_the_changes(
    tenant, settings, eager_celery, django_capture_on_commit_callbacks, monkeypatch
):
    from delegation.sync import shards as sync_shards

    shards = []
    real_fetch_shard = sync_shards.fetch_shard
    monkeypatch.setattr(
        sync_shards,
        "fetch_shard",
        lambda run_id, ids: shards.append(len(ids)) or real_fetch_shard(run_id, ids),
    )
    sync_now()  # a first run in one process: the cache now knows the tenant is large
    settings.SYNC_SHARD_THRESHOLD = SHARDING["SYNC_SHARD_THRESHOLD"]
    settings.SYNC_SHARD_SIZE = SHARDING["SYNC_SHARD_SIZE"]
    tenant.change(**CHANGE)
    tenant.sim.post("reset", {})  # counters only

    with django_capture_on_commit_callbacks(execute=True):
        run = request_sync(trigger="manual")

    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.users_mode == "delta"
    assert shards == [60, 60, 60, 20]
    assert changes_of(run) == expected_changes(tenant)
    assert run.progress_done == run.progress_total == run.people
    # The shards' requests are counted with the coordinator's: one delta page + 10 batches.
    assert run.graph_requests == tenant.sim.get("stats")["total"] == 1 + 10
    assert not SyncStage.objects.exists()
    assert_cache_mirrors(tenant.truth())


@pytest.mark.django_db
def test_a_sharded_full_listing_after_an_expired_delta_changes_nothing(
    tenant, settings, eager_celery, django_capture_on_commit_callbacks
):
    sync_now()
    settings.SYNC_SHARD_THRESHOLD = SHARDING["SYNC_SHARD_THRESHOLD"]
    settings.SYNC_SHARD_SIZE = SHARDING["SYNC_SHARD_SIZE"]
    tenant.sim.post("delta/expire")

    with django_capture_on_commit_callbacks(execute=True):
        run = request_sync(trigger="manual")

    run.refresh_from_db()
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
    settings.SYNC_SHARD_THRESHOLD = SHARDING["SYNC_SHARD_THRESHOLD"]
    settings.SYNC_SHARD_SIZE = SHARDING["SYNC_SHARD_SIZE"]
    tenant.change(**CHANGE)
    real = tokens.sync_token_provider
    calls = []

    def provider_lost_after_the_coordinator():
        calls.append(1)
        if len(calls) > 1:
            raise ReconnectNeeded("invalid_grant")
        return real()

    monkeypatch.setattr(tokens, "sync_token_provider", provider_lost_after_the_coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        run = request_sync(trigger="manual")

    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith("Reconnect needed")
    assert not DelegationChange.objects.filter(run=run).exists()
    assert not SyncStage.objects.exists()


@pytest.fixture
def worker_env(tenant, graphsim, monkeypatch):
    """What the worker process needs to reach graphsim and to shard (it reads the environment)."""
    env = {
        **graphsim_env(graphsim),
        "SYNC_USE_APP_ONLY": "true",
        **{name: str(value) for name, value in SHARDING.items()},
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_sharded_run_on_a_real_worker_applies_exactly_the_changes(
    tenant, worker_env, celery_worker_process
):
    from portal.models import AuditEvent

    sync_now()
    tenant.change(**CHANGE)

    run = request_sync(trigger="manual")

    def finished():
        run.refresh_from_db()
        return run.status not in (SyncRun.Status.QUEUED, SyncRun.Status.RUNNING)

    wait_for(finished, timeout=90)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    fan_out = AuditEvent.objects.get(action="sync.fan_out", target=f"sync run #{run.pk}")
    assert fan_out.detail["shards"] == 4
    assert changes_of(run) == expected_changes(tenant)
    assert_cache_mirrors(tenant.truth())
