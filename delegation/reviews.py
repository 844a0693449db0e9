"""Reviews of risky grants: a manager keeps or revokes one; the decision is recorded and audited.

"Revoke" becomes a change request to remove the grant (delegation.changes), made through the
same path as every other change: its rules, its approval policy, Graph or Teams PowerShell, and
verification against Teams. Where the tenant applies changes with PowerShell, the page can still
hand the reviewer the command (`revoke_command`).
"""

from __future__ import annotations

from django.db import transaction

from delegation.changes import states
from delegation.changes.models import ChangeRequest
from delegation.changes.powershell import powershell_quote
from delegation.changes.services.request import ChangeRefused, remove
from delegation.models import Delegation, DirectoryUser, GrantReview
from portal import allowed_actions, audit

__all__ = [
    "grant_snapshot",
    "powershell_quote",
    "record_review",
    "revoke_command",
    "revoke_requests",
    "waits_for_powershell",
]


def _identity(person: DirectoryUser) -> str:
    # A removed account has no UPN left in the cache; its object id identifies it as well.
    return person.upn or person.object_id


def revoke_command(delegator: DirectoryUser, delegate: DirectoryUser) -> str:
    return (
        "Remove-CsUserCallingDelegate"
        f" -Identity {powershell_quote(_identity(delegator))}"
        f" -Delegate {powershell_quote(_identity(delegate))}"
    )


def grant_snapshot(grant: Delegation) -> dict:
    snapshot = {field: getattr(grant, field) for field in allowed_actions.FIELDS}
    snapshot["is_active"] = grant.is_active
    snapshot["first_seen"] = grant.first_seen.isoformat() if grant.first_seen else None
    return snapshot


@transaction.atomic
def record_review(
    *, grant: Delegation, decision: str, reviewer, reason: str = "", note: str = "", request=None
) -> GrantReview:
    """Save the decision with the grant as it stood, and audit it. A revoke also asks for the
    grant's removal: the returned review carries `change_request` (the ChangeRequest, or None)
    and `change_refusals` (why no request could be made, e.g. one is already pending for this
    pair; the decision is recorded all the same)."""
    if decision not in GrantReview.Decision.values:
        raise ValueError(f"unknown decision {decision!r}")
    review = GrantReview.objects.create(
        delegator=grant.delegator,
        delegate=grant.delegate,
        decision=decision,
        reason=reason[:64],
        note=note,
        grant_snapshot=grant_snapshot(grant),
        reviewer=reviewer,
    )
    audit.record(
        "grant_review",
        "success",
        request=request,
        actor=reviewer,
        target=f"{grant.delegator.object_id} -> {grant.delegate.object_id}",
        decision=decision,
        reason=reason[:64],
        review_id=review.id,
    )
    review.change_request, review.change_refusals = None, []
    if decision == GrantReview.Decision.REVOKE:
        try:
            review.change_request = remove(
                actor=reviewer,
                delegator_id=grant.delegator.object_id,
                delegate_id=grant.delegate.object_id,
                reason=_revoke_reason(reason, note),
                idempotency_key=f"review-{review.pk}",
                review=review,
                request=request,
            )
        except ChangeRefused as refused:
            review.change_refusals = refused.refusals
    return review


def _revoke_reason(reason: str, note: str) -> str:
    words = f"Revoked in a review of risky grants ({reason or 'no risk named'})."
    return f"{words} {note}".strip()


def revoke_requests(review_list) -> dict[int, ChangeRequest]:
    """The removal request each of these reviews made, by review id (one query)."""
    ids = [review.pk for review in review_list if review.decision == GrantReview.Decision.REVOKE]
    if not ids:
        return {}
    found = ChangeRequest.objects.filter(review_id__in=ids).order_by("pk")
    return {change.review_id: change for change in found}


def waits_for_powershell(change: ChangeRequest | None) -> bool:
    """The request can only be carried out in Teams PowerShell: the page shows the command."""
    return change is not None and change.status == states.AWAITING_POWERSHELL
