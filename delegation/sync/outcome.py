"""How a run ends: failed with a readable reason, or finished; either way audited, and the
dashboards warmed after a run that changed the cache. Shared by the one-process run
(sync/service.py) and the sharded run's final task (sync/shards.py), and importing neither.
"""

from __future__ import annotations

import logging

from django.conf import settings

from delegation.models import SyncRun
from delegation.selectors.organisation import organisation_summary
from delegation.sync import lock
from delegation.sync.lock import LockLost
from portal import audit
from portal.graph.errors import GraphError, TokenError
from portal.queue import enqueue

# Delegation changes re-verify their requests against the cache a run wrote (drift, and
# requests awaiting PowerShell that Teams now shows). By task name: the sync imports nothing
# of delegation.changes, which is built on it.
REVERIFY_TASK = "delegation.changes.tasks.reverify_after_sync"

log = logging.getLogger(__name__)


def check_something_was_read(read: int, failures: dict[str, int]) -> None:
    """Everyone failing means Graph is down for us, not that everyone lost their delegates."""
    if failures and not read:
        kinds = sorted(failures)
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


def fail_run(run_id: int, exc: BaseException, graph_stats: dict) -> SyncRun:
    log.warning("sync #%s failed: %s", run_id, exc)
    return fail_run_with_reason(run_id, describe_failure(exc), graph_stats)


def fail_run_with_reason(run_id: int, reason: str, graph_stats: dict) -> SyncRun:
    """Fail the run (if it is still live) with `reason`, record its figures, and audit it."""
    lock.fail(
        run_id,
        reason,
        graph_requests=graph_stats.get("requests", 0),
        throttled=graph_stats.get("throttled", 0),
        retries=graph_stats.get("retries", 0),
        failures=graph_stats.get("failures") or {},
    )
    run = SyncRun.objects.get(pk=run_id)
    record_run_finished(run)
    return run


def record_run_finished(run: SyncRun) -> None:
    """Audit how the run ended; after a run that read the tenant, queue the re-verification of
    change requests and warm the dashboards."""
    audit.record(
        "sync.finished",
        "failure" if run.status == SyncRun.Status.FAILED else "success",
        target=f"sync run #{run.pk}",
        who="delegation sync",
        status=run.status,
        people=run.people,
        baseline=run.baseline_grants,
        added=run.delegations_added,
        changed=run.delegations_changed,
        removed=run.delegations_removed,
        error=run.error,
    )
    if run.status != SyncRun.Status.FAILED:
        enqueue(REVERIFY_TASK, run.pk)
        warm_dashboards()


def warm_dashboards() -> None:
    """With a shared cache (CACHE_URL), compute the organisation figures now, so the first
    manager after a sync does not wait for them (about 1.4 s at 300k grants). A per-process
    cache would only warm this worker's copy, so it is left alone."""
    if "locmem" in settings.CACHES["default"]["BACKEND"].lower():
        return
    try:
        organisation_summary()
    except Exception:  # a cold cache is slower, never wrong: the run's outcome stands
        log.exception("could not warm the organisation figures after a sync")
