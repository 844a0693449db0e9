"""CSV imports: the dry run, then the job that applies it (one change request per row).

- `dry_run(actor, upload)`: parse (csv_import: size, encoding, columns, formulas), plan against
  the cache (csv_plan, rules per row, plus whether the actor may manage each delegator), store
  the batch and its rows. Nothing is applied. The file is refused whole (FileRefused) or kept
  with each row's errors.
- `apply_batch(actor, batch_id)`: a dry run without refused rows is queued (planned -> queued);
  the job `run_batch` does the work.
- `run_batch(batch_id)`: claims the batch (queued -> running; or takes over a running batch
  whose heartbeat is older than DELEGATION_BATCH_STALE_SECONDS: its worker died and the task
  was redelivered). A fresh start first checks that no grant changed since the dry run (else
  nothing is applied). Then each row: its change request is created once (the key
  `batch-<id>-line-<line>`), applied and verified here, its outcome written on the row, the
  progress and heartbeat on the batch. Exactly once per row, whatever dies when: the request
  exists once, its write is claimed once, and a write whose outcome is unknown is settled by a
  re-read before anything is sent again (apply.py).
"""

from __future__ import annotations

import hashlib
import io
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from delegation.changes import csv_import, csv_plan, facts, rules, snapshots, states
from delegation.changes.models import ChangeBatch, ChangeBatchRow, ChangeRequest
from delegation.changes.rules import Refusal
from delegation.changes.services.apply import apply_change
from delegation.changes.services.request import ChangeRefused, request_change
from portal import audit
from portal.queue import enqueue
from portal.roles import user_has_capability

RUN_TASK = "delegation.changes.tasks.run_batch"
MANAGE_CAPABILITY = rules.MANAGE_ANY_CAPABILITY
APPLIED_KINDS = (rules.ADD, rules.CHANGE, rules.REMOVE)
MAX_WAIT_SECONDS = 30.0  # the longest a row waits for its next attempt before trying again
MAX_DRIVES = 12  # tries at one row, waits included, before the scheduled job takes it on
Outcome = ChangeBatchRow.Outcome


# --- the dry run -----------------------------------------------------------------------------
def dry_run(actor, upload, *, file_name: str = "", now=None, request=None) -> ChangeBatch:
    """Plan an uploaded CSV (a file-like of bytes); the stored batch, status "planned"."""
    now = now or timezone.now()
    try:
        data = csv_import.read_limited(upload, settings.DELEGATION_CSV_MAX_BYTES)
        rows = csv_import.parse(
            io.BytesIO(data),
            max_bytes=settings.DELEGATION_CSV_MAX_BYTES,
            max_rows=settings.DELEGATION_CSV_MAX_ROWS,
        )
    except csv_import.FileRefused as refused:
        audit.record(
            "change.batch.dry_run",
            "denied",
            request=request,
            actor=actor,
            target=file_name[:200],
            reason=refused.words,
        )
        raise
    plan = csv_plan.plan(rows, facts.csv_current(rows), now=now)
    _check_rights(actor, plan)
    counts = plan.counts
    with transaction.atomic():
        batch = ChangeBatch.objects.create(
            kind=ChangeBatch.Kind.CSV_IMPORT,
            file_name=file_name[:256],
            file_sha256=hashlib.sha256(data).hexdigest(),
            created_by=actor,
            created_by_name=str(actor)[:256],
            rows=len(plan.rows),
            adds=counts[rules.ADD],
            changes=counts[rules.CHANGE],
            removes=counts[rules.REMOVE],
            unchanged=counts[csv_plan.UNCHANGED],
            refused_rows=counts["refused"],
            progress_total=sum(counts[kind] for kind in APPLIED_KINDS),
        )
        ChangeBatchRow.objects.bulk_create(
            [
                ChangeBatchRow(
                    batch=batch,
                    line=row.line,
                    kind=row.kind,
                    delegator_object_id=row.delegator_id,
                    delegate_object_id=row.delegate_id,
                    before=row.before,
                    after=row.after,
                    errors=row.errors,
                    outcome=Outcome.SKIPPED if row.kind == csv_plan.UNCHANGED else Outcome.PLANNED,
                )
                for row in plan.rows
            ],
            batch_size=500,
        )
    audit.record(
        "change.batch.dry_run",
        "success",
        request=request,
        actor=actor,
        target=f"change batch #{batch.pk}",
        file=file_name[:200],
        **counts,
    )
    return batch


def _check_rights(actor, plan: csv_plan.Plan) -> None:
    """Each row's delegator must be one the actor may manage (their own, as a manage-settings
    delegate, or anyone with manage_delegations)."""
    actor_facts = facts.actor_of(actor)
    for row in plan.rows:
        applies = row.kind in APPLIED_KINDS and not row.errors
        if applies and not rules.may_manage(actor_facts, row.delegator_id):
            row.errors.append("You may not change this delegator's delegates.")


# --- applying --------------------------------------------------------------------------------
def apply_batch(actor, batch_id: int, *, request=None) -> ChangeBatch:
    """Queue the job that applies a dry run (planned -> queued). Who made the dry run may apply
    it, and anyone with manage_delegations. ChangeRefused when it may not be applied."""
    batch = ChangeBatch.objects.filter(pk=batch_id).first()
    refusal = _apply_refusal(actor, batch)
    if refusal is None and not ChangeBatch.objects.filter(
        pk=batch.pk, status=ChangeBatch.Status.PLANNED
    ).update(status=ChangeBatch.Status.QUEUED):
        refusal = Refusal("not_planned", "This import was already applied.")
    target = f"change batch #{batch_id}"
    if refusal is not None:
        audit.record(
            "change.batch.apply",
            "denied",
            request=request,
            actor=actor,
            target=target,
            reason=refusal.words,
        )
        raise ChangeRefused([refusal])
    audit.record("change.batch.apply", "success", request=request, actor=actor, target=target)
    enqueue(RUN_TASK, batch.pk)
    batch.refresh_from_db()
    return batch


def _apply_refusal(actor, batch: ChangeBatch | None) -> Refusal | None:
    if batch is None:
        return Refusal("not_found", "There is no such import.")
    if batch.created_by_id != actor.pk and not user_has_capability(actor, MANAGE_CAPABILITY):
        return Refusal("not_allowed", "You may not apply this import.")
    if batch.status != ChangeBatch.Status.PLANNED:
        return Refusal("not_planned", "This import was already applied.")
    if batch.refused_rows:
        return Refusal(
            "refused_rows",
            f"{batch.refused_rows} row(s) have errors: fix the file and import it again.",
        )
    if not batch.to_apply:
        return Refusal("nothing_to_do", "The file changes nothing.")
    return None


class _Runner:
    """One run of a batch's job; its heartbeat doubles as its token (`beat` fails once another
    task has taken the batch over)."""

    def __init__(self, batch: ChangeBatch):
        self.batch = batch
        self.last_beat = batch.heartbeat_at

    def beat(self, **fields) -> bool:
        now = timezone.now()
        moved = ChangeBatch.objects.filter(
            pk=self.batch.pk, status=ChangeBatch.Status.RUNNING, heartbeat_at=self.last_beat
        ).update(heartbeat_at=now, **fields)
        if moved:
            self.last_beat = now
        return bool(moved)


def _take(batch_id: int) -> tuple[_Runner | None, bool]:
    """(runner, fresh): queued -> running, or a stale running batch taken over."""
    now = timezone.now()
    fresh = ChangeBatch.objects.filter(pk=batch_id, status=ChangeBatch.Status.QUEUED).update(
        status=ChangeBatch.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    if not fresh:
        stale = now - timedelta(seconds=settings.DELEGATION_BATCH_STALE_SECONDS)
        batch = ChangeBatch.objects.filter(
            pk=batch_id, status=ChangeBatch.Status.RUNNING, heartbeat_at__lt=stale
        ).first()
        if batch is None or not ChangeBatch.objects.filter(
            pk=batch.pk, status=ChangeBatch.Status.RUNNING, heartbeat_at=batch.heartbeat_at
        ).update(heartbeat_at=now):
            return None, False
    return _Runner(ChangeBatch.objects.get(pk=batch_id)), bool(fresh)


def run_batch(batch_id: int, *, token_provider=None) -> ChangeBatch | None:
    """The job: apply every planned row once. A batch another live task runs is left alone."""
    runner, fresh = _take(batch_id)
    if runner is None:
        return ChangeBatch.objects.filter(pk=batch_id).first()
    batch = runner.batch
    if fresh:
        changed = _changed_since_dry_run(batch)
        if changed:
            _finish(runner, status=ChangeBatch.Status.FAILED, error=changed)
            return ChangeBatch.objects.get(pk=batch_id)
    rows = batch.planned_rows.filter(kind__in=APPLIED_KINDS, outcome=Outcome.PLANNED)
    for row in rows.order_by("line"):
        if not runner.beat():
            return ChangeBatch.objects.get(pk=batch_id)  # taken over: the other task goes on
        _apply_row(runner, row, token_provider)
        runner.beat(progress_done=_done(batch))
    _finish(runner)
    return ChangeBatch.objects.get(pk=batch_id)


def _changed_since_dry_run(batch: ChangeBatch) -> str:
    rows = list(batch.planned_rows.filter(kind__in=APPLIED_KINDS))
    pairs = {(row.delegator_object_id, row.delegate_object_id) for row in rows}
    cached = facts.cached_grants(pairs)
    pending = facts.pending_pairs(pairs)
    for row in rows:
        pair = (row.delegator_object_id, row.delegate_object_id)
        now_cached = facts.grant_snapshot(cached.get(pair))
        if pair in pending or snapshots.changed_keys(now_cached, row.before):
            return (
                f"Line {row.line}: this delegation changed since the dry run. Nothing was"
                " applied: run the dry run again."
            )
    return ""


def _apply_row(runner: _Runner, row: ChangeBatchRow, token_provider) -> None:
    batch = runner.batch
    try:
        change = request_change(
            actor=batch.created_by,
            delegator_id=row.delegator_object_id,
            delegate_id=row.delegate_object_id,
            after=row.after,
            reason=f"CSV import #{batch.pk} ({batch.file_name}), line {row.line}."[:2000],
            idempotency_key=f"batch-{batch.pk}-line-{row.line}",
            batch=batch,
            batch_line=row.line,
        )
    except ChangeRefused as refused:
        _row_outcome(row, Outcome.REFUSED, " ".join(refused.words))
        return
    ChangeBatchRow.objects.filter(pk=row.pk).update(change_request=change)
    change = _drive(runner, change, token_provider)
    _row_outcome(row, *_outcome_of(change))


def _drive(runner: _Runner, change: ChangeRequest, token_provider) -> ChangeRequest:
    """Apply until the request leaves requested/applying, its attempts run out, or (Teams
    unreadable for long) MAX_DRIVES tries; the scheduled job then carries it on."""
    for _ in range(MAX_DRIVES):
        change = apply_change(change.pk, force=True, token_provider=token_provider)
        if change.status not in (states.REQUESTED, states.APPLYING) or not runner.beat():
            return change
        wait = MAX_WAIT_SECONDS
        if change.next_attempt_at is not None:
            wait = (change.next_attempt_at - timezone.now()).total_seconds()
        time.sleep(min(MAX_WAIT_SECONDS, max(0.0, wait)))
    return change


def _outcome_of(change: ChangeRequest) -> tuple[str, str]:
    words = change.status_words + (f": {change.failure}" if change.failure else "")
    if change.status in (states.VERIFIED, states.APPLIED):
        return Outcome.DONE, change.status_words
    if change.status == states.AWAITING_POWERSHELL:
        return Outcome.POWERSHELL, words
    if change.status == states.AWAITING_APPROVAL:
        return Outcome.APPROVAL, words
    if change.status in (states.REQUESTED, states.APPLYING):
        return Outcome.FAILED, f"Not settled yet ({words}); the portal keeps trying."
    return Outcome.FAILED, words


def _row_outcome(row: ChangeBatchRow, what: str, words: str) -> None:
    ChangeBatchRow.objects.filter(pk=row.pk).update(outcome=what, outcome_words=words[:2000])


def _done(batch: ChangeBatch) -> int:
    return (
        batch.planned_rows.filter(kind__in=APPLIED_KINDS).exclude(outcome=Outcome.PLANNED).count()
    )


def _finish(runner: _Runner, *, status: str | None = None, error: str = "") -> None:
    batch = runner.batch
    outcomes = list(
        batch.planned_rows.filter(kind__in=APPLIED_KINDS).values_list("outcome", flat=True)
    )
    went = sum(o in (Outcome.DONE, Outcome.POWERSHELL, Outcome.APPROVAL) for o in outcomes)
    failed = sum(o in (Outcome.FAILED, Outcome.REFUSED) for o in outcomes)
    if status is None:
        status = (
            ChangeBatch.Status.SUCCEEDED
            if not failed
            else ChangeBatch.Status.PARTIAL
            if went
            else ChangeBatch.Status.FAILED
        )
        error = f"{failed} row(s) failed; see each row." if failed else ""
    now = timezone.now()
    runner.beat(
        status=status,
        finished_at=now,
        applied=went,
        failed=failed,
        progress_done=_done(batch),
        error=error[:4000],
    )
    audit.record(
        "change.batch.finished",
        "failure" if status == ChangeBatch.Status.FAILED else "success",
        target=f"change batch #{batch.pk}",
        who="delegation changes",
        status=status,
        applied=went,
        failed=failed,
        error=error,
    )
