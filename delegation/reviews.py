"""What the risky-grants page shows of past decisions: the removal request each revoke made, and
the Teams PowerShell line while such a request waits for it. Decisions themselves are taken in
review campaigns (the reviews app), which log each one as a GrantReview."""

from __future__ import annotations

from delegation.changes import states
from delegation.changes.models import ChangeRequest
from delegation.changes.powershell import powershell_quote
from delegation.models import DirectoryUser, GrantReview

__all__ = ["powershell_quote", "revoke_command", "revoke_requests", "waits_for_powershell"]


def _identity(person: DirectoryUser) -> str:
    # A removed account has no UPN left in the cache; its object id identifies it as well.
    return person.upn or person.object_id


def revoke_command(delegator: DirectoryUser, delegate: DirectoryUser) -> str:
    return (
        "Remove-CsUserCallingDelegate"
        f" -Identity {powershell_quote(_identity(delegator))}"
        f" -Delegate {powershell_quote(_identity(delegate))}"
    )


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
