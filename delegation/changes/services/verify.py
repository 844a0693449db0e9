"""Verification: what Teams holds decides a request's state.

- `settle(change, teams)`: after a write (or to settle a write whose outcome was unknown), one
  transaction writes the delegator's delegates as read into the cache and its history, and moves
  the request: verified when Teams holds what it asked, else failed (`fail_on_mismatch`) or left.
- `check_now(actor, delegator_id)`: the targeted re-read a person asks for (PowerShell requests
  are verified by it): the cache, then every request of that delegator it settles.
- `reverify_after_sync(run_id)`: after each sync, from the refreshed cache and no Graph call:
  verified requests whose grant Teams no longer holds as asked are marked drifted (and drifted
  ones that hold again, verified); requests awaiting PowerShell that Teams now shows are verified.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from delegation.changes import facts, locks, rules, states, teams_state
from delegation.changes.models import ChangeRequest
from delegation.changes.rules import Refusal
from delegation.changes.services import outcome
from delegation.changes.services.request import NOT_ALLOWED, ChangeRefused
from delegation.changes.services.tokens import client_for
from delegation.models import DelegationChange, SyncRun
from delegation.sync.signals import sync_applied
from portal import audit
from portal.graph.delegation_writes import read_delegates_packed
from portal.graph.errors import GraphError, TokenError

log = logging.getLogger(__name__)

POWERSHELL = ChangeRequest.Method.POWERSHELL
# A re-read settles these: applied (Graph said yes) and awaiting PowerShell (an admin's script).
SETTLED_BY_READ = (states.APPLIED, states.AWAITING_POWERSHELL)
WATCHED = (states.VERIFIED, states.DRIFTED)  # checked for drift, the latest of each pair only


def _holds(change: ChangeRequest, packed: int | None) -> bool:
    return teams_state.holds(change.after, packed, ignore_active=change.method == POWERSHELL)


def mismatch_words(change: ChangeRequest, packed: int | None) -> str:
    return (
        f"Teams holds something else: {teams_state.describe_packed(packed)}"
        f" (asked: {teams_state.describe(change.after)})."
    )


def settle(change: ChangeRequest, teams: dict[str, int], *, fail_on_mismatch: bool) -> bool:
    """Write `teams` (this delegator's delegates, as read) into the cache and move `change`:
    verified if Teams holds it; failed if not and `fail_on_mismatch`. One transaction."""
    now = timezone.now()
    with transaction.atomic():
        change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        teams_state.record(change.delegator_object_id, teams, at=now, change_request=change)
        packed = teams.get(change.delegate_object_id.lower())
        holds = _holds(change, packed)
        done = {"applying_at": None, "write_sent_at": None, "next_attempt_at": None}
        if holds and states.can_move(change.status, states.VERIFIED):
            outcome.move(change, states.VERIFIED, verified_at=now, failure="", **done)
        elif not holds and fail_on_mismatch and states.can_move(change.status, states.FAILED):
            outcome.move(change, states.FAILED, failure=mismatch_words(change, packed), **done)
    outcome.record(change, "change.verify", "success" if holds else "failure")
    return holds


def _settle_read(delegator_id: str, teams: dict[str, int], *, now) -> tuple[list[int], list[int]]:
    """After a re-read written to the cache: requests of this delegator that it settles.
    (verified ids, drifted ids)."""
    teams = {delegate.lower(): packed for delegate, packed in teams.items()}
    verified, drifted = [], []
    waiting = ChangeRequest.objects.filter(
        delegator_object_id=delegator_id, status__in=SETTLED_BY_READ
    )
    for change in waiting:
        holds = _holds(change, teams.get(change.delegate_object_id))
        if holds and outcome.move(change, states.VERIFIED, verified_at=now, failure=""):
            _link_history(change)
            verified.append(change.pk)
    for change in _latest_watched(ChangeRequest.objects.filter(delegator_object_id=delegator_id)):
        if _drift_move(change, _holds(change, teams.get(change.delegate_object_id)), now):
            (verified if change.status == states.VERIFIED else drifted).append(change.pk)
    return verified, drifted


def _link_history(change: ChangeRequest) -> None:
    """The newest unlinked history row of the pair since the request was made (written by the
    read or the sync that verified it) is this request's doing."""
    row = (
        DelegationChange.objects.filter(
            delegator__object_id=change.delegator_object_id,
            delegate__object_id=change.delegate_object_id,
            change_request__isnull=True,
            at__gte=change.created_at,
        )
        .order_by("-at", "-id")
        .first()
    )
    if row is not None:
        DelegationChange.objects.filter(pk=row.pk).update(change_request=change)


def _latest_watched(requests) -> list[ChangeRequest]:
    """The newest request of each pair, when it is verified or drifted: an older one was
    superseded by it, not drifted."""
    latest: dict[tuple[str, str], ChangeRequest] = {}
    newest_first = requests.exclude(status__in=states.FINAL - {states.ENDED}).order_by(
        "-created_at", "-pk"
    )
    for change in newest_first.only(
        "pk",
        "status",
        "kind",
        "after",
        "method",
        "delegator_object_id",
        "delegate_object_id",
        "verified_at",
        "created_at",
    ):
        latest.setdefault((change.delegator_object_id, change.delegate_object_id), change)
    return [change for change in latest.values() if change.status in WATCHED]


def _drift_move(change: ChangeRequest, holds: bool, now) -> bool:
    if change.status == states.VERIFIED and not holds:
        moved = outcome.move(change, states.DRIFTED, drifted_at=now)
        if moved:
            outcome.record(change, "change.drifted", "failure")
        return moved
    if change.status == states.DRIFTED and holds:
        return outcome.move(change, states.VERIFIED, verified_at=now)
    return False


# --- check now -----------------------------------------------------------------------------------
@dataclass
class CheckResult:
    """What a "check now" found: `read` False when Teams could not be read (`words` say why)."""

    read: bool
    words: str
    verified: list[int] = field(default_factory=list)
    drifted: list[int] = field(default_factory=list)


def check_now(
    actor, delegator_id: str, *, token_provider=None, request=None, wait: float = 5.0
) -> CheckResult:
    """Re-read one delegator's delegates (one GET), write them into the cache and its history,
    and settle that delegator's requests: awaiting PowerShell or applied -> verified when Teams
    shows them; the latest verified request of each pair -> drifted when it no longer holds.
    Needs the right to manage the delegator (ChangeRefused otherwise). The token: the actor's
    own for their own line or as a manage-settings delegate, else the sync account's."""
    delegator_id = delegator_id.strip().lower()
    acting = rules.acting_as(facts.actor_of(actor, delegator_id), delegator_id)
    if acting is None:
        audit.record(
            "change.check_now", "denied", request=request, actor=actor, target=delegator_id
        )
        raise ChangeRefused([NOT_ALLOWED])
    holder = f"check-{uuid.uuid4().hex[:12]}"
    if not locks.wait_for_lease(delegator_id, holder, wait=wait):
        busy = "A change to these delegates is being applied; try again in a moment."
        raise ChangeRefused([Refusal("busy", busy)])
    try:
        result = _check(delegator_id, acting, actor, token_provider)
    finally:
        locks.release(delegator_id, holder)
    audit.record(
        "change.check_now",
        "success" if result.read else "failure",
        request=request,
        actor=actor,
        target=delegator_id,
        verified=result.verified,
        drifted=result.drifted,
        reason=result.words,
    )
    return result


def _check(delegator_id: str, acting: str, actor, token_provider) -> CheckResult:
    try:
        with client_for(acting, actor, token_provider) as client:
            teams = read_delegates_packed(client, delegator_id)
    except (GraphError, TokenError) as exc:
        log.info("check now of %s not made: %s", delegator_id, exc)
        return CheckResult(False, f"Teams could not be read: {exc}")
    now = timezone.now()
    with transaction.atomic():
        teams_state.record(delegator_id, teams, at=now)
        verified, drifted = _settle_read(delegator_id, teams, now=now)
    words = f"Teams read: {len(teams)} delegate(s)."
    if verified:
        words += f" Verified: {', '.join(f'#{pk}' for pk in verified)}."
    if drifted:
        words += f" Drifted: {', '.join(f'#{pk}' for pk in drifted)}."
    return CheckResult(True, words, verified, drifted)


def mark_powershell_done(
    actor, request_id: int, *, token_provider=None, request=None
) -> CheckResult:
    """An admin says they ran the script for this request: check its delegator now. The request
    is verified only if Teams shows it."""
    change = ChangeRequest.objects.filter(pk=request_id).first()
    if change is None:
        raise ChangeRefused([Refusal("not_found", "There is no such change request.")])
    outcome.record(change, "change.powershell_done", actor=actor, request=request)
    return check_now(
        actor, change.delegator_object_id, token_provider=token_provider, request=request
    )


# --- after a sync -------------------------------------------------------------------------------
def reverify_after_sync(run_id: int) -> dict[str, list[int]]:
    """Compare requests with the cache a finished sync just wrote (no Graph call). Only people the
    run read count, and only requests verified before the run started (a sync that read Teams
    before a change was applied must not call it drifted)."""
    run = SyncRun.objects.filter(pk=run_id, status__in=SyncRun.READ_OK_STATUSES).first()
    if run is None:
        return {"verified": [], "drifted": []}
    unread = {oid.lower() for oid in run.failed_user_ids or ()}
    since = run.started_at or run.created_at
    now = timezone.now()
    verified, drifted = [], []
    waiting = list(ChangeRequest.objects.filter(status=states.AWAITING_POWERSHELL))
    watched = _latest_watched(ChangeRequest.objects.all())
    pairs = {(c.delegator_object_id, c.delegate_object_id) for c in waiting + watched}
    cached = {
        pair: teams_state.packed_of(grant) for pair, grant in facts.cached_grants(pairs).items()
    }
    for change in waiting:
        pair = (change.delegator_object_id, change.delegate_object_id)
        holds = pair[0] not in unread and _holds(change, cached.get(pair))
        if holds and outcome.move(change, states.VERIFIED, verified_at=now, failure=""):
            _link_history(change)
            outcome.record(change, "change.verify", who="delegation sync", run=run.pk)
            verified.append(change.pk)
    for change in watched:
        pair = (change.delegator_object_id, change.delegate_object_id)
        if pair[0] in unread or (change.verified_at and change.verified_at >= since):
            continue
        if _drift_move(change, _holds(change, cached.get(pair)), now):
            (verified if change.status == states.VERIFIED else drifted).append(change.pk)
    # The run's last step: apps built on the sync (alerts) take it from here, once committed.
    transaction.on_commit(
        lambda: sync_applied.send(sender=SyncRun, run_id=run.pk, drifted=tuple(drifted))
    )
    return {"verified": verified, "drifted": drifted}
