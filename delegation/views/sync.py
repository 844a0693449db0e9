"""Views of the sync pages: every run, one run with live progress, "sync now"."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from delegation.forms import row_id
from delegation.selectors import sync as sync_selectors
from delegation.sync.lock import SyncAlreadyRunning
from delegation.sync.service import request_sync
from portal.permissions import require_capability
from portal.roles import user_has_capability


@require_GET
@require_capability("view_sync")
def sync_list(request):
    page = sync_selectors.runs_page(request.user, row_id(request.GET, "before"))
    account = sync_selectors.sync_account_state()
    return render(
        request,
        "delegation/sync_list.html",
        {
            "page": page,
            "current": sync_selectors.current_run(),
            "account": account,
            "blocker": sync_selectors.sync_blocker(account),
            "can_run": user_has_capability(request.user, "run_sync"),
        },
    )


@require_GET
@require_capability("view_sync")
def sync_detail(request, pk: int):
    run = get_object_or_404(sync_selectors.sync_runs_for_user(request.user), pk=pk)
    context = _run_context(run)
    context["unread"] = sync_selectors.unread_people(run)
    context["can_run"] = user_has_capability(request.user, "run_sync")
    return render(request, "delegation/sync_detail.html", context)


@require_GET
@require_capability("view_sync")
def sync_progress(request, pk: int):
    """The progress fragment htmx polls. Once the run has ended, the fragment no longer asks to
    be polled, and htmx is told to reload the page, so the figures and errors under the bar
    show the final state too (as the call page does)."""
    run = get_object_or_404(sync_selectors.sync_runs_for_user(request.user), pk=pk)
    context = _run_context(run)
    response = render(request, "delegation/_sync_progress.html", context)
    if context["finished"] and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


def _run_context(run):
    return {
        "run": run,
        "finished": sync_selectors.run_is_finished(run),
        "percent": sync_selectors.run_percent(run),
    }


@require_POST
@require_capability("run_sync")
def sync_start(request):
    """Start a run; `retry_of` (a run's id) says it retries the people that run could not read.
    The sync reads everyone (it cannot read only some people), so that retry is a full run."""
    blocker = sync_selectors.sync_blocker(sync_selectors.sync_account_state())
    if blocker:
        messages.error(request, f"No sync was started. {blocker}")
        return redirect("delegation:sync_list")
    try:
        run = request_sync(trigger="manual", user=request.user)
    except SyncAlreadyRunning as exc:  # request_sync has audited the refusal
        messages.info(request, "A sync is already running: here is its progress.")
        return redirect("delegation:sync_detail", pk=exc.run.pk)
    retry_of = row_id(request.POST, "retry_of")
    messages.success(request, RETRY_NOTE.format(retry_of) if retry_of else "Sync started.")
    return redirect("delegation:sync_detail", pk=run.pk)


RETRY_NOTE = (
    "Sync started. It reads everyone again, including the people run #{} could not read: the "
    "sync cannot yet read only some people."
)
