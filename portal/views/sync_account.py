"""The admin page of the sync account: who it is, its state, connect, test, disconnect."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal import signin, sync_account
from portal.graph import tokens
from portal.graph.errors import TokenError
from portal.permissions import require_capability
from portal.roles import user_has_capability


@require_capability("manage_sync_account")
@require_http_methods(["GET", "POST"])
def sync_account_page(request):
    if request.method == "POST":
        act = _POST_ACTIONS.get(request.POST.get("action", ""), _unknown_action)
        return act(request)
    if "connect" in request.GET:
        # A link any site could send: it only asks. The flow starts with our page's POST.
        hint = request.GET.get("login_hint", "")[:256]
        return render(request, "portal/sync_account_connect.html", {"login_hint": hint})
    context = {
        "account": sync_account.current(),
        "use_app_only": settings.SYNC_USE_APP_ONLY,
        "scopes": settings.SYNC_SCOPES,
    }
    return render(request, "portal/sync_account.html", context)


def _connect(request):
    hint = request.POST.get("login_hint", "")[:256]
    try:
        auth_uri = sync_account.begin_connect(request, login_hint=hint)
    except TokenError as exc:
        return signin.failure_page(request, signin.failure_from(exc), purpose="sync_account")
    # A page that moves on, not a redirect: CSP form-action would stop a form's redirect to
    # Microsoft.
    return render(request, "portal/continue_to_microsoft.html", {"auth_uri": auth_uri})


def _disconnect(request):
    if sync_account.disconnect(request):
        messages.success(request, "The sync account is disconnected; its tokens are gone.")
    return redirect("portal:sync_account")


def _test(request):
    try:
        sync_account.test_connection(request)
        messages.success(request, "The sync account's token was refreshed.")
    except TokenError as exc:
        messages.error(request, f"The sync account's token could not be refreshed: {exc}")
    return redirect("portal:sync_account")


def _unknown_action(request):
    messages.error(request, "Unknown action.")
    return redirect("portal:sync_account")


_POST_ACTIONS = {"connect": _connect, "disconnect": _disconnect, "test": _test}


def finish_connect(request, entry: dict):
    """The callback's second half for a sync-account flow (started on this page)."""
    if not user_has_capability(request.user, "manage_sync_account"):
        failure = tokens.SignInFailed("forbidden", "the connecting user may not manage it")
        return signin.failure_page(request, failure, purpose="sync_account")
    try:
        result = tokens.finish_auth_code_flow(entry["flow"], request.GET.dict())
    except tokens.SignInFailed as failure:
        return signin.failure_page(request, failure, purpose="sync_account")
    account = sync_account.connect(request, result)
    messages.success(request, f"Connected {account.upn or account.object_id} as the sync account.")
    return redirect("portal:sync_account")
