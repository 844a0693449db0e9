"""The delegation sync: request a run, run it, and say what happened (DESIGN.md, flow 2).

`request_sync` records the run first (queued) and queues the Celery task after commit;
`run_sync` reads the tenant (delegation/sync_fetch.py) and applies the diff in one transaction
(delegation/sync_apply.py). Large tenants fan out to shards (delegation/sync_shards.py). A run
that cannot get a token, or cannot reach Graph, fails with a readable reason and changes nothing.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from delegation import sync_lock
from delegation.models import SyncRun
from delegation.sync_lock import LockLost, SyncAlreadyRunning
from portal import audit
from portal.graph.client import GraphClient
from portal.graph.errors import GraphError, TokenError

log = logging.getLogger(__name__)

__all__ = ["SyncAlreadyRunning", "request_sync", "run_sync", "sync_now"]


def request_sync(*, trigger: str, user=None) -> SyncRun:
    """A queued run, its task sent once the transaction commits; or SyncAlreadyRunning."""
    from delegation import tasks

    try:
        run = sync_lock.claim_new_run(trigger=trigger, user=user)
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
    audit.record(
        "sync.request", "success", actor=user, target=f"sync run #{run.pk}", trigger=trigger
    )
    transaction.on_commit(lambda: tasks.run_sync.delay(run.pk))
    return run


def sync_now(*, trigger: str = SyncRun.Trigger.COMMAND, user=None, token_provider=None) -> SyncRun:
    """Claim and run a sync in this process (the management command and the benchmark)."""
    run = sync_lock.claim_new_run(trigger=trigger, user=user)
    audit.record(
        "sync.request", "success", actor=user, target=f"sync run #{run.pk}", trigger=trigger
    )
    return run_sync(run.pk, token_provider=token_provider, allow_shards=False)


def run_sync(run_id: int, *, token_provider=None, allow_shards: bool = True) -> SyncRun:
    """Run a queued sync. A run already taken (a redelivered task) is left alone."""
    if not sync_lock.start(run_id):
        return SyncRun.objects.get(pk=run_id)
    from delegation import sync_shards
    from delegation.sync_apply import apply_run
    from delegation.sync_fetch import collect

    client = None
    try:
        client = GraphClient(token_provider or default_token_provider())
        client.token()  # no token: fail now, before reading anything
        collected = collect(run_id, client, allow_shards=allow_shards)
        if collected.fetch is None:
            sync_shards.fan_out(run_id, collected, client.stats.snapshot())
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
    finished(run)
    return run


def default_token_provider():
    from portal.graph.tokens import sync_token_provider

    return sync_token_provider()


def check_something_was_read(fetch) -> None:
    """Everyone failing means Graph is down for us, not that everyone lost their delegates."""
    if fetch.failed and not fetch.fetched:
        kinds = sorted(set(fetch.failed.values()))
        raise GraphError(f"no person's delegates could be read ({', '.join(kinds)})", status=503)


def describe_failure(exc: BaseException) -> str:
    if isinstance(exc, TokenError):
        return (
            f"Reconnect needed: the sync could not get a token ({exc}). "
            "An admin must connect the sync account again. Nothing was changed."
        )
    if isinstance(exc, LockLost):
        return f"Stopped: {exc}. Nothing was changed."
    if isinstance(exc, GraphError):
        return f"Graph unavailable: {exc}. Nothing was changed."
    return f"Unexpected error ({type(exc).__name__}). Nothing was changed."


def fail_run(run_id: int, exc: BaseException, graph: dict) -> None:
    log.warning("sync #%s failed: %s", run_id, exc)
    sync_lock.fail(
        run_id,
        describe_failure(exc),
        graph_requests=graph.get("requests", 0),
        throttled=graph.get("throttled", 0),
        retries=graph.get("retries", 0),
        failures=graph.get("failures") or {},
    )
    run = SyncRun.objects.get(pk=run_id)
    finished(run)


def finished(run: SyncRun) -> None:
    audit.record(
        "sync.finished",
        "failure" if run.status == SyncRun.Status.FAILED else "success",
        target=f"sync run #{run.pk}",
        who="delegation sync",
        status=run.status,
        people=run.people,
        added=run.delegations_added,
        changed=run.delegations_changed,
        removed=run.delegations_removed,
        error=run.error,
    )
    if run.status != SyncRun.Status.FAILED:
        warm_dashboards()


def warm_dashboards() -> None:
    """With a shared cache (CACHE_URL), compute the organisation figures now, so the first
    manager after a sync does not wait for them (about 1.4 s at 300k grants). A per-process
    cache would only warm this worker's copy, so it is left alone."""
    if "locmem" in settings.CACHES["default"]["BACKEND"].lower():
        return
    from delegation.selectors_org import organisation_summary

    try:
        organisation_summary()
    except Exception:  # a cold cache is slower, never wrong: the run's outcome stands
        log.exception("could not warm the organisation figures after a sync")
