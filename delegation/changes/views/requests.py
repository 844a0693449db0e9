"""Change requests: the list, one request (state in words, history, "check now", cancel), the
approvals queue (approve or reject with a note) and the drifted requests."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from delegation.changes import selectors
from delegation.changes.forms import DecisionForm
from delegation.changes.services import decisions, verify
from delegation.changes.services.request import ChangeRefused
from delegation.changes.views.grants import refused
from portal.permissions import require_capability
from portal.roles import user_has_capability
from portal.views.lookup import found


@require_GET
def request_list(request):
    rows = selectors.requests_for_user(request.user).order_by("-created_at", "-pk")
    return render(
        request,
        "changes/list.html",
        {
            "requests": rows[: selectors.LIST_LIMIT],
            "mine": selectors.pending_for_actor(request.user),
            "can": _can(request.user),
        },
    )


def _can(user) -> dict:
    return {
        "approve": user_has_capability(user, "approve_delegation_changes"),
        "manage": user_has_capability(user, "manage_delegations"),
    }


def _change(request, pk: int):
    return found(selectors.change_request_for_user(request.user, pk), "No such change request.")


@require_GET
def detail(request, pk: int):
    change = _change(request, pk)
    return render(
        request,
        "changes/detail.html",
        {
            "change": change,
            "history": selectors.history_of(change),
            "teams": selectors.what_teams_will_show(
                change.delegator_name or change.delegator_upn,
                change.delegate_name or change.delegate_upn,
                change.after,
            ),
            "may_cancel": change.status in decisions.CANCELLABLE
            and decisions.may_cancel(request.user, change),
            "may_check": selectors.may_manage(request.user, change.delegator_object_id),
            "decision_form": DecisionForm(),
            "can": _can(request.user),
        },
    )


@require_POST
def check(request, pk: int):
    """Re-read the delegator's delegates in Teams now; settle what it shows."""
    change = _change(request, pk)
    try:
        result = verify.check_now(request.user, change.delegator_object_id, request=request)
    except ChangeRefused as exc:
        refused(request, exc)
    else:
        (messages.success if result.read else messages.error)(request, result.words)
    return redirect("changes:detail", pk=change.pk)


@require_POST
def cancel(request, pk: int):
    change = _change(request, pk)
    try:
        decisions.cancel(actor=request.user, request_id=change.pk, request=request)
    except ChangeRefused as exc:
        refused(request, exc)
    else:
        messages.success(request, f"Change request #{change.pk} is cancelled.")
    return redirect("changes:detail", pk=change.pk)


@require_POST
@require_capability("approve_delegation_changes")
def decide(request, pk: int):
    change = _change(request, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        _decide(request, change, form.cleaned_data)
    else:
        messages.error(request, "Choose approve or reject.")
    return redirect("changes:detail", pk=change.pk)


def _decide(request, change, data: dict) -> None:
    approve = data["decision"] == "approve"
    try:
        if approve:
            decisions.approve(actor=request.user, request_id=change.pk, request=request)
        else:
            note = data["note"]
            decisions.reject(actor=request.user, request_id=change.pk, note=note, request=request)
    except ChangeRefused as exc:
        refused(request, exc)
    else:
        messages.success(request, f"Change request #{change.pk} {_decided(approve)}.")


def _decided(approve: bool) -> str:
    return "is approved and will be applied" if approve else "is rejected"


@require_GET
@require_capability("approve_delegation_changes")
def approvals(request):
    """The approvals queue, and the requests whose grant Teams no longer holds as asked."""
    return render(
        request,
        "changes/approvals.html",
        {
            "waiting": selectors.awaiting_approval_for_user(request.user),
            "drifted": selectors.drifted_for_user(request.user),
        },
    )
