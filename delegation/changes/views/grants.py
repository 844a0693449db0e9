"""Asking for a change to one delegator's delegates: the grant form (add, or change the allowed
actions and active state, for a time or not), remove, and the person picker it uses."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegation.changes import panels, selectors
from delegation.changes.forms import GrantForm, RemoveForm, new_key
from delegation.changes.services.request import ChangeRefused, remove, request_change
from delegation.models import DirectoryUser
from delegation.selectors.people import search_people
from portal.roles import user_has_capability
from portal.views.lookup import found

REPEATED = "This form was sent already: here is the request it made."


def refused(request, exc: ChangeRefused) -> None:
    for words in exc.words:
        messages.error(request, words)


def _delegator(request, object_id: str) -> DirectoryUser:
    delegator = panels.delegator_for_user(request.user, object_id)
    return found(delegator, "No delegator whose delegates you may change.")


def _initial(delegator: DirectoryUser, delegate_id: str) -> dict:
    grant = panels.current_grant(delegator, delegate_id) if delegate_id else None
    initial = {"idempotency_key": new_key(), "delegate": delegate_id, "is_active": True}
    return {**initial, **(panels.grant_snapshot(grant) or {})}


@require_http_methods(["GET", "POST"])
def grant(request, object_id: str):
    """Add a delegate, or change one (`?delegate=<object id>`)."""
    delegator = _delegator(request, object_id)
    if request.method == "POST":
        form = GrantForm(request.POST)
        change = _ask(request, delegator, form) if form.is_valid() else None
        if change is not None:
            return redirect("changes:detail", pk=change.pk)
    else:
        form = GrantForm(initial=_initial(delegator, request.GET.get("delegate", "")))
    return render(request, "changes/grant.html", _grant_context(request, delegator, form))


def _ask(request, delegator: DirectoryUser, form: GrantForm):
    data = form.cleaned_data
    repeated = panels.made_with_key(request.user, data["idempotency_key"])
    try:
        change = request_change(
            actor=request.user,
            delegator_id=delegator.object_id,
            delegate_id=data["delegate"],
            after=form.after,
            reason=data["reason"],
            ends_at=data["ends_at"],
            end_action=data["end_action"],
            idempotency_key=data["idempotency_key"],
            request=request,
        )
    except ChangeRefused as exc:
        for words in exc.words:
            form.add_error(None, words)
        return None
    said(request, change, repeated)
    return change


def said(request, change, repeated: bool) -> None:
    if repeated:
        messages.info(request, REPEATED)
    else:
        messages.success(request, f"Change request #{change.pk}: {change.status_words}.")


def _grant_context(request, delegator: DirectoryUser, form: GrantForm) -> dict:
    delegate_id = form["delegate"].value() or ""
    chosen = panels.directory_person(delegate_id)
    current = panels.current_grant(delegator, delegate_id) if delegate_id else None
    return {
        "form": form,
        "delegator": delegator,
        "chosen": chosen,
        "chosen_list": [chosen] if chosen else [],
        "current": current,
        "panel": panels.panel(request.user, delegator),
        "manage_needs_approval": selectors.will_need_approval(
            request.user, delegator.object_id, None, {"manage_settings": True}
        ),
    }


@require_POST
def remove_delegate(request, object_id: str):
    delegator = _delegator(request, object_id)
    form = RemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "This form is damaged; open the page again.")
        return redirect("changes:grant", object_id=delegator.object_id)
    repeated = panels.made_with_key(request.user, form.cleaned_data["idempotency_key"])
    try:
        change = remove(
            actor=request.user,
            delegator_id=delegator.object_id,
            delegate_id=form.cleaned_data["delegate"],
            idempotency_key=form.cleaned_data["idempotency_key"],
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except ChangeRefused as exc:
        refused(request, exc)
        return redirect("changes:grant", object_id=delegator.object_id)
    said(request, change, repeated)
    return redirect("changes:detail", pk=change.pk)


@require_GET
def people(request):
    """The delegate picker's results (htmx): enabled directory people, as radio buttons. Only
    for people who may change someone's delegates."""
    if not (
        user_has_capability(request.user, "manage_delegations")
        or selectors.manageable_delegators(request.user)
    ):
        raise Http404("You may not change anyone's delegates.")
    within = DirectoryUser.objects.filter(in_directory=True, account_enabled=True)
    found = search_people(within, request.GET.get("q", ""))
    return render(request, "portal/_person_radios.html", {"people": found, "field": "delegate"})
