"""Requests Graph could not apply: the Teams PowerShell script to download, and "mark as run,
check now" per request."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from delegation.changes import selectors
from delegation.changes.services import script, verify
from delegation.changes.services.request import ChangeRefused
from delegation.changes.views.grants import refused
from portal.permissions import require_capability


@require_GET
@require_capability("manage_delegations")
def awaiting(request):
    waiting = selectors.awaiting_powershell_for_user(request.user)
    return render(request, "changes/powershell.html", {"waiting": waiting})


@require_GET
@require_capability("manage_delegations")
def download(request):
    """The script for every request awaiting PowerShell, as a file (audited by the service)."""
    try:
        made = script.powershell_script(request.user, request=request)
    except ChangeRefused as exc:
        refused(request, exc)
        return redirect("changes:powershell")
    response = HttpResponse(made.text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{made.file_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@require_capability("manage_delegations")
def done(request, pk: int):
    """An admin ran the script for this request: re-read Teams now, verify if it shows it."""
    if selectors.change_request_for_user(request.user, pk) is None:
        messages.error(request, "There is no such change request.")
        return redirect("changes:powershell")
    try:
        result = verify.mark_powershell_done(request.user, pk, request=request)
    except ChangeRefused as exc:
        refused(request, exc)
    else:
        (messages.success if result.read else messages.error)(request, result.words)
    return redirect("changes:detail", pk=pk)
