"""Applying one change request (the task `delegation.changes.tasks.apply_change` calls this).

1. Hold the delegator: a lease on its PersonLock row (locks.py), so two changes to one
   delegator never interleave their writes and re-reads; a second waits, or tries later.
2. Claim: `requested -> applying` by a conditional UPDATE, so two workers never apply one
   request. Every process applying holds the delegator's lease, so an `applying` request found
   under it was left by a dead worker (or waits for its next attempt): it is taken over once
   due (or `force`d by a batch's job, which does not wait for the backoff).
3. The method: DELEGATION_WRITE_METHOD=powershell -> "awaiting PowerShell" at once.
4. The write through Graph with the right token (tokens.py). `write_sent_at` is saved before
   it goes out: whoever picks the request up next re-reads Teams before sending anything again.
   - yes: applied (Graph's request id kept), then verified by one re-read (verify.settle:
     cache, history and state in one transaction); Teams holding something else -> failed.
   - refused by the tenant (405, 501, 403, ...): "awaiting PowerShell", nothing lost.
   - a definite no: re-read (it may already be so: verified), else failed with Graph's words.
   - no clear answer (timeout, 5xx): the re-read settles it: applied -> verified; not applied ->
     requested again with a later attempt, at most DELEGATION_CHANGE_MAX_ATTEMPTS writes; the
     re-read failing too -> stays applying, re-read later, never re-sent blind.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from delegation.changes import locks, snapshots, states
from delegation.changes.models import ChangeRequest
from delegation.changes.services import outcome
from delegation.changes.services.tokens import client_for
from delegation.changes.services.verify import settle
from portal.allowed_actions import FIELDS
from portal.graph import delegation_writes as writes
from portal.graph.errors import GraphError, TokenError

log = logging.getLogger(__name__)

GRAPH, POWERSHELL = ChangeRequest.Method.GRAPH, ChangeRequest.Method.POWERSHELL
MAX_BACKOFF_SECONDS = 3600
CLAIMABLE = (states.REQUESTED, states.APPLYING, states.APPLIED)


def backoff(attempts: int) -> timedelta:
    seconds = settings.DELEGATION_CHANGE_RETRY_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, seconds))


def apply_change(
    request_id: int, *, force: bool = False, token_provider=None
) -> ChangeRequest | None:
    """Apply (or go on settling) one request; returns it as it ends up. A request that is not
    requested, applying or applied, or whose next attempt is not due (unless `force`), is left
    alone: a redelivered or duplicate task does nothing."""
    change = ChangeRequest.objects.filter(pk=request_id).first()
    if change is None or change.status not in CLAIMABLE:
        return change
    holder = f"apply-{change.pk}-{uuid.uuid4().hex[:12]}"
    if not locks.wait_for_lease(change.delegator_object_id, holder):
        if change.status == states.REQUESTED:
            outcome.update(change, next_attempt_at=timezone.now() + backoff(1))
        return change
    try:
        if _claim(change, force=force):
            if change.status == states.APPLIED:
                _reverify_applied(change, token_provider)
            else:
                _apply_claimed(change, token_provider)
    finally:
        locks.release(change.delegator_object_id, holder)
    change.refresh_from_db()
    return change


def _claim(change: ChangeRequest, *, force: bool) -> bool:
    """Take the request for this attempt. Called under the delegator's lease: every process
    applying a change holds it, so an `applying` (or `applied`) request found here belongs to
    no live process and may be taken over once it is due."""
    now = timezone.now()
    change.refresh_from_db()
    due = change.next_attempt_at is None or change.next_attempt_at <= now
    if not (due or force) or change.status not in CLAIMABLE:
        return False
    claim = ChangeRequest.objects.filter(
        pk=change.pk, status=change.status, next_attempt_at=change.next_attempt_at
    )
    if change.status == states.REQUESTED:
        claimed = claim.update(
            status=states.APPLYING,
            applying_at=now,
            next_attempt_at=None,
            method=settings.DELEGATION_WRITE_METHOD,
            updated_at=now,
        )
    else:
        claimed = claim.update(applying_at=now, next_attempt_at=None, updated_at=now)
    change.refresh_from_db()
    return bool(claimed)


def _reverify_applied(change: ChangeRequest, token_provider) -> None:
    """Graph said yes but the re-read after it failed: read again, and decide."""
    try:
        with client_for(change.acting_as, change.requested_by, token_provider) as client:
            verified = _verify(change, client, fail_on_mismatch=True)
    except TokenError:
        verified = None
    if verified is None:
        outcome.update(change, next_attempt_at=timezone.now() + backoff(change.attempts + 1))


def _apply_claimed(change: ChangeRequest, token_provider) -> None:
    if change.method == POWERSHELL:
        words = "This tenant applies delegation changes with Teams PowerShell."
        _to_powershell(change, words)
        return
    try:
        with client_for(change.acting_as, change.requested_by, token_provider) as client:
            _with_client(change, client)
    except TokenError as exc:
        _token_problem(change, exc)


def _with_client(change: ChangeRequest, client) -> None:
    if change.write_sent_at is not None:
        # An earlier write's outcome is unknown (a timeout, or a worker that died): only a
        # re-read may settle it, before anything is sent again.
        verified = _verify(change, client, fail_on_mismatch=False)
        if verified is None:
            _later(
                change, "Teams could not be read to learn whether the change was made.", keep=True
            )
            return
        if verified:
            return
        outcome.update(change, write_sent_at=None)
    if change.attempts >= settings.DELEGATION_CHANGE_MAX_ATTEMPTS:
        _give_up(change)
        return
    ChangeRequest.objects.filter(pk=change.pk).update(
        write_sent_at=timezone.now(), attempts=F("attempts") + 1
    )
    change.refresh_from_db()
    try:
        graph_request_id = _write(client, change)
    except writes.WriteRefused as exc:
        outcome.update(change, write_sent_at=None)
        _to_powershell(change, f"Microsoft Graph refused the write: {exc}.")
    except writes.WriteRejected as exc:
        outcome.update(change, write_sent_at=None, graph_request_id=exc.request_id[:64])
        if _verify(change, client, fail_on_mismatch=False) is not True:
            outcome.move(change, states.FAILED, failure=f"Microsoft Graph said no: {exc}."[:2000])
            outcome.record(change, "change.apply", "failure", reason=change.failure)
    except writes.WriteOutcomeUnknown as exc:
        _unknown(change, client, exc)
    else:
        now = timezone.now()
        outcome.move(
            change,
            states.APPLIED,
            graph_request_id=graph_request_id[:64],
            applied_at=now,
            write_sent_at=None,
            failure="",
        )
        outcome.record(change, "change.apply")
        if _verify(change, client, fail_on_mismatch=True) is None:
            # Graph said yes; the next attempt (or sync) only re-reads it.
            outcome.update(change, next_attempt_at=now + backoff(1))


def _unknown(change: ChangeRequest, client, exc: GraphError) -> None:
    words = f"Microsoft Graph gave no clear answer: {exc}."
    verified = _verify(change, client, fail_on_mismatch=False)
    if verified is None:
        _later(change, words, keep=True)
    elif not verified:
        outcome.update(change, write_sent_at=None)
        _later(change, words + " Teams does not show the change.", keep=False)


def _write(client, change: ChangeRequest) -> str:
    """One Graph write. A change sends all five actions and the active state, so Teams ends up
    exactly as asked whatever it held before."""
    after = snapshots.normalised(change.after)
    delegator, delegate = change.delegator_object_id, change.delegate_object_id
    if change.kind == ChangeRequest.Kind.REMOVE:
        return writes.remove_delegate(client, delegator, delegate)
    actions = {field: after[field] for field in FIELDS}
    if change.kind == ChangeRequest.Kind.ADD:
        return writes.add_delegate(client, delegator, delegate, actions, after["is_active"])
    return writes.update_delegate(client, delegator, delegate, actions, after["is_active"])


def _verify(change: ChangeRequest, client, *, fail_on_mismatch: bool) -> bool | None:
    """One GET of the delegator's delegates, settled (verify.settle); None when it failed."""
    try:
        teams = writes.read_delegates_packed(client, change.delegator_object_id)
    except (GraphError, TokenError) as exc:
        log.info("change #%s: re-read failed: %s", change.pk, exc)
        return None
    verified = settle(change, teams, fail_on_mismatch=fail_on_mismatch)
    change.refresh_from_db()
    return verified


def _to_powershell(change: ChangeRequest, words: str) -> None:
    moved = outcome.move(
        change,
        states.AWAITING_POWERSHELL,
        method=POWERSHELL,
        failure=words[:2000],
        applying_at=None,
        write_sent_at=None,
        next_attempt_at=None,
    )
    if moved:
        outcome.record(change, "change.awaiting_powershell", reason=words)


def _later(change: ChangeRequest, words: str, *, keep: bool) -> None:
    """Try again later. `keep`: a write may have gone out, so stay applying and only re-read
    next time; else back to requested (or failed once the attempts are spent)."""
    when = timezone.now() + backoff(change.attempts)
    if keep:
        outcome.update(change, next_attempt_at=when, failure=words[:2000])
    elif change.attempts >= settings.DELEGATION_CHANGE_MAX_ATTEMPTS:
        outcome.update(change, failure=words[:2000])
        _give_up(change)
    else:
        outcome.move(
            change,
            states.REQUESTED,
            next_attempt_at=when,
            applying_at=None,
            write_sent_at=None,
            failure=words[:2000],
        )
    outcome.record(change, "change.apply", "failure", reason=words, retry_at=when.isoformat())


def _give_up(change: ChangeRequest) -> None:
    words = f"Not applied after {change.attempts} attempts. {change.failure}".strip()
    if outcome.move(change, states.FAILED, failure=words[:2000], write_sent_at=None):
        outcome.record(change, "change.apply", "failure", reason=words)


def _token_problem(change: ChangeRequest, exc: TokenError) -> None:
    """No token: a lasting lack (no sign-in, no sync account) hands the change to Teams
    PowerShell; a passing one (the token endpoint failed) tries again later."""
    if exc.permanent:
        _to_powershell(change, f"The portal could not act through Microsoft Graph: {exc}.")
    else:
        _later(change, f"No Microsoft token for now: {exc}.", keep=change.write_sent_at is not None)
