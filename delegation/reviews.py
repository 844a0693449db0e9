"""Reviews of risky grants: a manager keeps or revokes one; the decision is recorded and audited.

Graph exposes no write operation for call delegation (GRAPH_CONTRACT §2), so "revoke" records
the decision and hands the reviewer the Teams PowerShell command that removes the grant.
"""

from __future__ import annotations

from django.db import transaction

from delegation.models import Delegation, DirectoryUser, GrantReview
from portal import allowed_actions, audit

# PowerShell ends a single-quoted string at any of these, not only at the ASCII apostrophe.
_PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


def powershell_quote(value: str) -> str:
    """A PowerShell single-quoted literal: nothing inside is expanded; each quote character
    PowerShell knows (' and the typographic ones) is doubled, as '' is."""
    return "'" + "".join(c * 2 if c in _PS_SINGLE_QUOTES else c for c in value) + "'"


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
    """Save the decision with the grant as it stood, and audit it."""
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
    return review
