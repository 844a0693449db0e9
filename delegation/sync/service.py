"""The delegation sync: request a run, run it, and say what happened (DESIGN.md, flow 2).

`request_sync` records the run first (queued) and queues the Celery task after commit;
`run_sync` reads the tenant (sync/fetch.py: people, then the delegates of those who can
delegate, sync/targets.py), staging what it reads (sync/staging.py), and applies the diff in one
transaction (sync/apply.py). Large runs send shards to the workers as they go (sync/shards.py);
whoever finishes last has the run applied (`apply_staged`). A run that cannot get a token, or
cannot reach Graph, fails with a readable reason and changes nothing (sync/outcome.py).
"""

from __future__ import annotations

from delegation.models import SyncRun
from delegation.sync import lock, shards, staging
from delegation.sync.apply import apply_run
from delegation.sync.fetch import read_tenant
from delegation.sync.lock import LockLost, SyncAlreadyRunning
from delegation.sync.outcome import (
    check_something_was_read,
    fail_run,
    fail_run_with_reason,
    record_run_finished,
)
from delegation.sync.targets import sweep_for_this_run
from portal import audit
from portal.graph import tokens
from portal.graph.client import GraphClient
from portal.graph.errors import GraphError, TokenError
from portal.queue import enqueue

EXPECTED = (TokenError, GraphError, LockLost)  # a failed run, not a bug


def request_sync(*, trigger: str, user=None) -> SyncRun:
    """A queued run, its task sent once the transaction commits; or SyncAlreadyRunning."""
    try:
        run = lock.claim_new_run(trigger=trigger, user=user)
    except SyncAlreadyRunning as exc:
        audit.record(
            "sync.request",
            "denied",
            actor=user,
            target=f"sync run #{exc.run.pk}",
            trigger=trigger,
            reason="a sync is already running",
        )
        raise
    _audit_request(run, trigger, user)
    enqueue("delegation.tasks.run_sync", run.pk)
    return run


def sync_now(
    *,
    trigger: str = SyncRun.Trigger.COMMAND,
    user=None,
    token_provider=None,
    full_sweep: bool = False,
    allow_shards: bool = False,
) -> SyncRun:
    """Claim and run a sync in this process (the management command and the benchmark). With
    `allow_shards`, a large run leaves shards to the workers and may still be running."""
    run = lock.claim_new_run(trigger=trigger, user=user)
    _audit_request(run, trigger, user)
    return run_sync(
        run.pk, token_provider=token_provider, allow_shards=allow_shards, full_sweep=full_sweep
    )


def _audit_request(run: SyncRun, trigger: str, user) -> None:
    audit.record(
        "sync.request", "success", actor=user, target=f"sync run #{run.pk}", trigger=trigger
    )


def run_sync(
    run_id: int, *, token_provider=None, allow_shards: bool = True, full_sweep: bool = False
) -> SyncRun:
    """Run a queued sync as its coordinator. A run already taken (a redelivered task) is left
    alone; a run whose shards are still reading is left to the last of them."""
    if not lock.start(run_id):
        return SyncRun.objects.get(pk=run_id)
    staging.purge_leftovers()
    client = None
    try:
        client = GraphClient(token_provider or tokens.sync_token_provider())
        client.token()  # no token: fail now, before reading anything
        sweep = sweep_for_this_run(full_sweep=full_sweep)
        SyncRun.objects.filter(pk=run_id).update(sweep=sweep)
        meta = read_tenant(run_id, client, sweep=sweep, allow_shards=allow_shards)
        meta["graph"] = client.stats.snapshot()
        if not shards.coordinator_finished(run_id, meta):
            return SyncRun.objects.get(pk=run_id)
    except Exception as exc:
        fail_run(run_id, exc, client.stats.snapshot() if client else {})
        staging.clear(run_id)
        if not isinstance(exc, EXPECTED):
            raise
        return SyncRun.objects.get(pk=run_id)
    finally:
        if client is not None:
            client.close()
    return apply_staged(run_id)


def apply_staged(run_id: int) -> SyncRun:
    """Apply everything the run staged (the coordinator's, the shards'), then forget it. A run
    no longer running (a repeated task) is left alone."""
    if not SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.RUNNING).exists():
        return SyncRun.objects.get(pk=run_id)
    graph: dict = {}
    try:
        meta = staging.read_stage(run_id)
        if meta is None:
            raise LockLost(f"sync #{run_id} has nothing staged")
        graph, shard_error, shards_read = shards.shard_outcome(run_id, meta["graph"])
        if shard_error:
            return fail_run_with_reason(run_id, shard_error, graph)
        staging.drop_reads_of_removed(run_id)
        failures, failed_ids = staging.failures(run_id)
        read = meta["read"] + shards_read
        check_something_was_read(read, failures)
        run = apply_run(run_id, meta, graph, (read, failures, failed_ids))
    except Exception as exc:
        fail_run(run_id, exc, graph)
        if not isinstance(exc, EXPECTED):
            raise
        return SyncRun.objects.get(pk=run_id)
    finally:
        staging.clear(run_id)
    record_run_finished(run)
    return run
