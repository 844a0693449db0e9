"""What the scheduled job does every DELEGATION_CHANGE_SCHEDULE_SECONDS: end time-boxed grants
that are due, and queue again the changes that wait for another attempt.

Ending a grant goes through the same path as any change: an ending request (a removal, or a
change back to the allowed actions it had `before`), made by the portal itself (acting as staff:
the sync account's token), linked from the request it ends by `ended_by`, applied by the apply
task and verified. Two workers running the job at once end each grant once: the original is
claimed by a conditional UPDATE (verified -> ending, on its `end_attempts`), and the ending
request's idempotency key (`end-<id>-<attempt>`) lets a crashed attempt be finished, not doubled.
`now` is the clock the end dates are compared with (tests pass their own).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from delegation.changes import rules, states
from delegation.changes.models import ChangeBatch, ChangeRequest
from delegation.changes.services import outcome
from delegation.changes.services.request import APPLY_TASK, decide_and_save
from portal.queue import enqueue

BATCH_LIMIT = 500
STUCK_SECONDS = 120  # an ending claimed this long ago without its request: its worker died
ENDS_BY_ITSELF = {"no_grant", "nothing_to_change"}  # the grant is already as the end wants


def changes_due(now=None) -> dict[str, list[int]]:
    """The scheduled job: end what is due, retry what waits."""
    return {"ended": end_due(now), "retried": retry_due()}


def end_due(now=None) -> list[int]:
    """Make the ending request of every time-boxed grant whose end has come; their ids."""
    now = now or timezone.now()
    made = []
    due = ChangeRequest.objects.filter(
        status__in=(states.VERIFIED, states.DRIFTED),
        ends_at__lte=now,
        end_attempts__lt=settings.DELEGATION_CHANGE_MAX_ATTEMPTS,
    ).order_by("ends_at", "pk")[:BATCH_LIMIT]
    for original in due:
        attempt = original.end_attempts + 1
        claimed = ChangeRequest.objects.filter(
            pk=original.pk, status=original.status, end_attempts=original.end_attempts
        ).update(status=states.ENDING, end_attempts=attempt, updated_at=timezone.now())
        if claimed:
            original.refresh_from_db()
            made += _end(original, attempt, now)
    stuck = ChangeRequest.objects.filter(
        status=states.ENDING,
        ended_by__isnull=True,
        updated_at__lt=timezone.now() - timedelta(seconds=STUCK_SECONDS),
    )[:BATCH_LIMIT]
    for original in stuck:
        made += _end(original, original.end_attempts, now)
    return made


def _end(original: ChangeRequest, attempt: int, now) -> list[int]:
    restore = original.on_end == ChangeRequest.OnEnd.RESTORE and original.before is not None
    due_words = f"{original.ends_at:%Y-%m-%d %H:%M} UTC"
    change, created, refusals = decide_and_save(
        actor=None,
        acting=rules.STAFF,
        delegator_id=original.delegator_object_id,
        delegate_id=original.delegate_object_id,
        after=original.before if restore else None,
        idempotency_key=f"end-{original.pk}-{attempt}",
        fields={"reason": f"The end of change request #{original.pk}, due {due_words}."},
        now=now,
        requested_by_name="The portal (scheduled end)",
        approval_applies=False,
    )
    if change is None:
        codes = {refusal.code for refusal in refusals}
        words = " ".join(refusal.words for refusal in refusals)
        if codes <= ENDS_BY_ITSELF:
            outcome.move(original, states.ENDED)
            outcome.record(original, "change.ended", reason=words)
        else:  # e.g. the people changed since: try at the next run, a bounded number of times
            # Another change of this pair still pending is no failure of the ending: not counted.
            spent = attempt - 1 if codes == {"pending"} else attempt
            outcome.move(
                original,
                states.VERIFIED,
                end_attempts=spent,
                failure=f"Could not end it yet: {words}"[:2000],
            )
            outcome.record(original, "change.end_failed", "failure", reason=words)
        return []
    ChangeRequest.objects.filter(pk=original.pk, status=states.ENDING).update(ended_by=change)
    if created:
        outcome.record(change, "change.request", who="scheduled end", ends=original.pk)
    if change.status == states.REQUESTED:
        enqueue(APPLY_TASK, change.pk)
    return [change.pk]


def retry_due() -> list[int]:
    """Queue again the changes waiting for another attempt, those a dead worker left, and those
    whose task was lost; the apply claims each at most once. Requests of a batch whose job still
    runs are that job's to drive."""
    now = timezone.now()
    forgotten = now - timedelta(seconds=settings.DELEGATION_CHANGE_LEASE_SECONDS)
    live_batches = ChangeBatch.objects.filter(
        status__in=(ChangeBatch.Status.QUEUED, ChangeBatch.Status.RUNNING)
    )
    waiting = (
        ChangeRequest.objects.filter(status__in=(states.REQUESTED, states.APPLYING, states.APPLIED))
        .filter(
            Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, updated_at__lt=forgotten)
        )
        .exclude(batch__in=live_batches)
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH_LIMIT]
    )
    ids = list(waiting)
    for pk in ids:
        enqueue(APPLY_TASK, pk)
    return ids
