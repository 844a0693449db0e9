"""Who may decide on a campaign item, and who reviews a grant: plain functions, no database."""

from __future__ import annotations

from collections.abc import Sequence

NOT_ASSIGNED = "This grant is not in your reviews."
OWN_GRANT = "You hold or gave this grant: someone else reviews it."
CLOSED = "The campaign is closed: decisions can no longer change."
NOT_IN_DIRECTORY = "Your account is not linked to a person of the directory."


def refusal(
    *, user_oid: str, reviewer_oid: str | None, delegator_oid: str, delegate_oid: str, open_: bool
) -> str | None:
    """Why this person may not decide on this item, or None. Nobody reviews a grant they hold
    or gave, even when assigned (a named reviewer or a manager inside the grant)."""
    if not open_:
        return CLOSED
    if not user_oid:
        return NOT_IN_DIRECTORY
    if user_oid in (delegator_oid, delegate_oid):
        return OWN_GRANT
    if reviewer_oid != user_oid:
        return NOT_ASSIGNED
    return None


def pick_reviewer(candidates: Sequence[str | None], party: tuple[str, str]) -> str | None:
    """The first candidate (object id) who is neither the delegator nor the delegate."""
    for candidate in candidates:
        if candidate and candidate not in party:
            return candidate
    return None


def named_candidates(named: Sequence[str], turn: int) -> list[str]:
    """The named reviewers in turn order, starting at `turn` (one turn per delegator, so a
    delegator's grants go to one reviewer and the work is shared)."""
    if not named:
        return []
    start = turn % len(named)
    return [*named[start:], *named[:start]]
