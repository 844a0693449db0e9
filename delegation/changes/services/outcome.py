"""Moving a change request between states, the one way every service does it, and auditing.

`move` is a conditional UPDATE on the state the caller read (states.move checks the table
first): two workers can never both move one request, and the loser learns it (False, the row
re-read). When an ending request settles, the request it ends follows (`_follow_up`).
"""

from __future__ import annotations

from django.utils import timezone

from delegation.changes import states
from delegation.changes.models import ChangeRequest
from portal import audit


def move(change: ChangeRequest, target: str, **fields) -> bool:
    """`change` from its current state to `target`, with these fields; False if another process
    moved it first (then `change` holds the row as it is now)."""
    current = change.status
    states.move(current, target)
    fields["updated_at"] = timezone.now()
    moved = ChangeRequest.objects.filter(pk=change.pk, status=current).update(
        status=target, **fields
    )
    if not moved:
        change.refresh_from_db()
        return False
    change.status = target
    for name, value in fields.items():
        setattr(change, name, value)
    _follow_up(change)
    return True


def update(change: ChangeRequest, **fields) -> bool:
    """Set fields while the request is still in the state the caller read."""
    fields["updated_at"] = timezone.now()
    updated = ChangeRequest.objects.filter(pk=change.pk, status=change.status).update(**fields)
    for name, value in fields.items():
        setattr(change, name, value)
    return bool(updated)


def _follow_up(change: ChangeRequest) -> None:
    """An ending request that settled moves the request it ends: verified -> the grant ended;
    failed -> the grant stands (verified), the job tries again; cancelled or rejected ->
    someone decided the grant stays: it stands with no end date."""
    original = ChangeRequest.objects.filter(ended_by=change, status=states.ENDING).first()
    if original is None:
        return
    if change.status == states.VERIFIED:
        move(original, states.ENDED)
    elif change.status == states.FAILED:
        move(original, states.VERIFIED, failure=f"Ending it failed: {change.failure}"[:2000])
    elif change.status in (states.CANCELLED, states.REJECTED):
        move(
            original,
            states.VERIFIED,
            ends_at=None,
            failure=f"Its end on {original.ends_at:%Y-%m-%d %H:%M} UTC was cancelled.",
        )
    else:
        return
    record(original, "change.ended" if original.status == states.ENDED else "change.end_failed")


def target(change: ChangeRequest) -> str:
    return f"{change.delegator_object_id} -> {change.delegate_object_id}"


def record(
    change: ChangeRequest,
    action: str,
    outcome: str = "success",
    *,
    actor=None,
    request=None,
    **detail,
) -> None:
    """Audit one step of a change request (who asked is in the request; `actor` is who acted)."""
    audit.record(
        action,
        outcome,
        request=request,
        actor=actor,
        target=target(change),
        request_id=change.graph_request_id,
        who=detail.pop("who", "delegation changes"),
        change_request=change.pk,
        kind=change.kind,
        status=change.status,
        **detail,
    )
