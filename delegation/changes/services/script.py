"""The Teams PowerShell script for the requests awaiting PowerShell, handed to an admin and
audited (which requests it covered). Running it changes nothing in the portal by itself: each
request is verified by "check now" (verify.check_now / mark_powershell_done) or the next sync."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from delegation.changes import powershell, states
from delegation.changes.models import ChangeRequest
from delegation.changes.rules import MANAGE_ANY_CAPABILITY, Refusal
from delegation.changes.services.request import ChangeRefused
from portal import audit
from portal.roles import user_has_capability


@dataclass(frozen=True)
class Script:
    text: str
    request_ids: list[int]
    file_name: str


def powershell_script(actor, *, request_ids=None, now=None, request=None) -> Script:
    """The script for the requests awaiting PowerShell (all of them, or those of `request_ids`
    that are), oldest first. Needs manage_delegations."""
    now = now or timezone.now()
    if not user_has_capability(actor, MANAGE_ANY_CAPABILITY):
        audit.record("change.powershell_script", "denied", request=request, actor=actor)
        raise ChangeRefused([Refusal("not_allowed", "You may not download the script.")])
    waiting = ChangeRequest.objects.filter(status=states.AWAITING_POWERSHELL).order_by(
        "created_at", "pk"
    )
    if request_ids is not None:
        waiting = waiting.filter(pk__in=list(request_ids))
    requests = list(waiting)
    text = powershell.script(requests, generated_at=now)
    ids = [change.pk for change in requests]
    audit.record(
        "change.powershell_script",
        "success",
        request=request,
        actor=actor,
        target=f"{len(ids)} change request(s)",
        change_requests=ids,
    )
    return Script(text, ids, f"delegation-changes-{now:%Y%m%d-%H%M%S}.ps1")
