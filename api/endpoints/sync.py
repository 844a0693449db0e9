"""Sync runs: the list (keyset cursor on id) and starting one."""

from __future__ import annotations

from ninja import Query, Router, Status

from api import idempotency, pagination, schemas
from api.auth import require
from api.problems import ApiProblem, responses
from delegation.models import SyncRun
from delegation.selectors import sync as sync_selectors
from delegation.sync.lock import SyncAlreadyRunning
from delegation.sync.service import request_sync

router = Router(tags=["sync"])
RunPage = schemas.page_of(schemas.SyncRun)


@router.get("/sync-runs", response=responses({200: RunPage}))
def list_sync_runs(request, cursor: str = Query("", max_length=400)):
    """Newest first, 25 a page."""
    user = require(request, "view_sync")
    page = sync_selectors.runs_page(user, pagination.decode(cursor, "sync-runs"))
    more = pagination.encode("sync-runs", page.before_id) if page.before_id else None
    return {"items": page.runs, "next_cursor": more}


@router.post("/sync-runs", response=responses({202: schemas.SyncRun}, 409, 422))
def start_sync(request, idempotency_key: str = idempotency.IdempotencyKey):
    """Queue a sync now, as an admin's "Sync now" does; 409 while one runs."""
    user = require(request, "run_sync")
    run_id = idempotency.remembered(user, "sync", idempotency_key)
    if run_id is None:
        try:
            run_id = request_sync(trigger=SyncRun.Trigger.MANUAL, user=user).pk
        except SyncAlreadyRunning as exc:
            raise ApiProblem(409, f"Sync run #{exc.run.pk} is running.", ["sync_running"]) from exc
        idempotency.remember(user, "sync", idempotency_key, run_id)
    return Status(202, SyncRun.objects.get(pk=run_id))
