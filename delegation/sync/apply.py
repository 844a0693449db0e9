"""Applying what a run staged, as a diff, in one transaction: the people (sync/apply_people.py),
then the grants (sync/apply_grants.py), each a chunk at a time, so memory holds a chunk whatever
the tenant's size; then the run's figures. All or nothing: a run that fails changes nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from delegation.models import Delegation, DirectoryUser, SyncCursor, SyncRun
from delegation.sync import lock, managers
from delegation.sync.apply_grants import apply_grants
from delegation.sync.apply_people import add_unknown_people, apply_people, stamp_disabled
from delegation.sync.fetch import DELTA_CURSOR
from delegation.sync.targets import delegators_in_directory

MAX_UNLICENSED_IDS = 1000


def unlicensed_delegators() -> tuple[int, list[str]]:
    """People of the directory holding delegations without a working Teams Phone licence: how
    many, and the first ones' object ids."""
    rows = delegators_in_directory().filter(voice_enabled=False)
    rows = rows.values_list("object_id", flat=True)
    return rows.count(), list(rows.order_by("object_id")[:MAX_UNLICENSED_IDS])


def is_baseline(run: SyncRun) -> bool:
    """Whether this run's grants are the baseline: the cache holds no grants and no earlier run
    applied a reading of the tenant. (A later run's new grants are additions, even into an
    empty cache: an earlier run saw the tenant without them.)"""
    earlier = SyncRun.objects.filter(status__in=SyncRun.READ_OK_STATUSES).exclude(pk=run.pk)
    return not Delegation.objects.exists() and not earlier.exists()


def apply_run(run_id: int, meta: dict, graph: dict, outcome: tuple) -> SyncRun:
    """Write the diff and the run's figures; all or nothing. `meta`: what the coordinator
    staged (staging.write_stage); `graph`: everyone's Graph figures; `outcome`: how many
    people's delegates were read in full, the failures by kind, the first failed ids."""
    at = timezone.now()
    read, failures, failed_ids = outcome
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        if run.status != SyncRun.Status.RUNNING:
            raise lock.LockLost(f"sync #{run_id} is {run.status}, not running")
        counts, removed_pks = apply_people(run_id, at)
        add_unknown_people(run_id, at)
        stamp_disabled(at)
        baseline = is_baseline(run)
        added, changed, removed = apply_grants(run, removed_pks, at, baseline)
        if meta["delta_link"]:
            SyncCursor.objects.update_or_create(
                name=DELTA_CURSOR, defaults={"value": meta["delta_link"]}
            )
        if meta["mode"] == "full":
            # The listing said nothing of managers, nor of what changed while the delta link
            # was lost: their own listing follows, apart from this run (sync/managers.py).
            managers.queue_refresh()
        # People whose delegates could not be read, by kind (requests retried into success
        # are not failures; ClientStats keeps those for Graph health).
        asked = read + sum(failures.values())
        if meta["invalid"]:
            failures["invalid_user"] = failures.get("invalid_user", 0) + meta["invalid"]
        run.status = (
            SyncRun.Status.PARTIAL if failed_ids or meta["invalid"] else SyncRun.Status.SUCCEEDED
        )
        run.sweep = meta["sweep"]
        run.finished_at = timezone.now()
        run.heartbeat_at = run.finished_at
        run.progress_done = run.progress_total = max(run.progress_total, asked)
        run.people = DirectoryUser.objects.filter(
            in_directory=True, removed_at__isnull=True
        ).count()
        run.baseline_grants = added if baseline else 0
        run.delegations_added = 0 if baseline else added
        run.delegations_changed, run.delegations_removed = changed, removed
        run.unlicensed_delegators, run.unlicensed_delegator_ids = unlicensed_delegators()
        run.graph_requests = graph.get("requests", 0)
        run.throttled = graph.get("throttled", 0)
        run.retries = graph.get("retries", 0)
        run.failures = failures
        run.failed_user_ids = failed_ids
        failed = sum(n for kind, n in failures.items() if kind != "invalid_user")
        run.error = (
            f"{failed} people's delegations could not be read; their rows were kept."
            if failed
            else ""
        )
        for name, value in counts.items():
            setattr(run, name, value)
        run.save()
    return run
