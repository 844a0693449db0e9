"""The delegation sync: request a run, run it, and say what happened (DESIGN.md, flow 2).

`request_sync` records the run first (queued) and queues the Celery task after commit;
`run_sync` reads the tenant (sync/fetch.py) and applies the diff in one transaction
(sync/apply.py). Large tenants fan out to shards (sync/shards.py). A run that cannot get a
token, or cannot reach Graph, fails with a readable reason and changes nothing (sync/outcome.py).
"""

from __future__ import annotations

from delegation.models import SyncRun
from delegation.sync import lock, shards
from delegation.sync.apply import apply_run
from delegation.sync.fetch import collect
from delegation.sync.lock import LockLost, SyncAlreadyRunning
from delegation.sync.outcome import check_something_was_read, fail_run, record_run_finished
from portal import audit
from portal.graph import tokens
from portal.graph.client import GraphClient
from portal.graph.errors import GraphError, TokenError
from portal.queue import enqueue


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


def sync_now(*, trigger: str = SyncRun.Trigger.COMMAND, user=None, token_provider=None) -> SyncRun:
    """Claim and run a sync in this process (the management command and the benchmark)."""
    run = lock.claim_new_run(trigger=trigger, user=user)
    _audit_request(run, trigger, user)
    return run_sync(run.pk, token_provider=token_provider, allow_shards=False)


def _audit_request(run: SyncRun, trigger: str, user) -> None:
    audit.record(
        "sync.request", "success", actor=user, target=f"sync run #{run.pk}", trigger=trigger
    )


def run_sync(run_id: int, *, token_provider=None, allow_shards: bool = True) -> SyncRun:
    """Run a queued sync. A run already taken (a redelivered task) is left alone."""
    if not lock.start(run_id):
        return SyncRun.objects.get(pk=run_id)
    client = None
    try:
        client = GraphClient(token_provider or tokens.sync_token_provider())
        client.token()  # no token: fail now, before reading anything
        collected = collect(run_id, client, allow_shards=allow_shards)
        if collected.fetch is None:
            shards.fan_out(run_id, collected, client.stats.snapshot())
            return SyncRun.objects.get(pk=run_id)
        check_something_was_read(collected.fetch)
        run = apply_run(run_id, collected.snapshot, collected.fetch, client.stats.snapshot())
    except Exception as exc:
        fail_run(run_id, exc, client.stats.snapshot() if client else {})
        if not isinstance(exc, (TokenError, GraphError, LockLost)):
            raise
        return SyncRun.objects.get(pk=run_id)
    finally:
        if client is not None:
            client.close()
    record_run_finished(run)
    return run
