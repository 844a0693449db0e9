"""Reads for the sync pages: the runs, one run, and the sync account's state."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from delegation.models import DirectoryUser, SyncRun
from portal.db import newest_first
from portal.models import SyncAccount
from portal.roles import user_has_capability

RUNS_PAGE_SIZE = 25


def sync_runs_for_user(user) -> QuerySet[SyncRun]:
    if user_has_capability(user, "view_sync"):
        return SyncRun.objects.all()
    return SyncRun.objects.none()


@dataclass
class RunsPage:
    runs: list[SyncRun]
    before_id: int | None  # keyset cursor of the next (older) page, None on the last page


def runs_page(user, before_id: int | None = None) -> RunsPage:
    """Newest runs first, keyset-paged on id so the thousandth page costs what the first does."""
    runs = sync_runs_for_user(user).select_related("triggered_by")
    runs, before = newest_first(runs, before_id, RUNS_PAGE_SIZE)
    return RunsPage(runs=runs, before_id=before)


def current_run() -> SyncRun | None:
    return SyncRun.objects.filter(status__in=SyncRun.ACTIVE_STATUSES).order_by("-id").first()


def sync_account_state() -> SyncAccount | None:
    return SyncAccount.objects.only(
        "status", "display_name", "upn", "connected_at", "last_refreshed_at", "last_error"
    ).first()


def run_is_finished(run: SyncRun) -> bool:
    return run.status in SyncRun.FINISHED_STATUSES


def run_percent(run: SyncRun) -> int | None:
    """Percent done, or None while the total is not known yet."""
    if not run.progress_total:
        return 100 if run_is_finished(run) else None
    return min(100, round(100 * run.progress_done / run.progress_total))


def sync_blocker(account: SyncAccount | None) -> str | None:
    """Why "Sync now" cannot work yet, in the page's words, or None when it can: without a
    token the run would only fail at once (app-only tokens need no account)."""
    if settings.SYNC_USE_APP_ONLY:
        return None
    if account is None:
        return "No sync account is connected: the sync has no token to read delegations with."
    if account.status == SyncAccount.Status.RECONNECT_NEEDED:
        return "The sync account must be reconnected: its sign-in is no longer valid."
    return None


UNREAD_SHOWN = 50


@dataclass(frozen=True)
class UnreadPerson:
    object_id: str
    name: str  # from the directory cache; "" when the cache does not know them


def unread_people(run: SyncRun) -> list[UnreadPerson]:
    """The first people whose delegates the run could not read, named from the cache (1 query)."""
    ids = [str(oid) for oid in run.failed_user_ids[:UNREAD_SHOWN]]
    if not ids:
        return []
    known = dict(
        DirectoryUser.objects.filter(object_id__in=ids).values_list("object_id", "display_name")
    )
    return [UnreadPerson(oid, known.get(oid) or "") for oid in ids]
