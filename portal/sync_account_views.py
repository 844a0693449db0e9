"""The admin page of the sync account: who it is, its state, connect, test, disconnect."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal import audit, signin, sync_account
from portal.graph import tokens
from portal.graph.errors import TokenError
from portal.permissions import require_capability
from portal.roles import user_has_capability


@require_capability("manage_sync_account")
@require_http_methods(["GET", "POST"])
def sync_account_page(request):
    if request.method == "POST":
        return _act(request, request.POST.get("action", ""), request.POST)
    if "connect" in request.GET:
        # A link (GET) in the page: CSP form-action would stop a form's redirect to Microsoft.
        # Being a GET, another site could link an admin here (with a login_hint of the admin's
        # own account, Microsoft may answer silently and make it the sync account): browsers say
        # where a navigation came from, and only our own pages (or a typed address) may start it.
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            failure = tokens.SignInFailed("forbidden", "connect link followed from another site")
            return signin.failure_page(request, failure, purpose="sync_account")
        return _act(request, "connect", request.GET)
    context = {
        "account": sync_account.current(),
        "use_app_only": settings.SYNC_USE_APP_ONLY,
        "scopes": settings.SYNC_SCOPES,
    }
    return render(request, "portal/sync_account.html", context)


def _act(request, action: str, params):
    if action == "connect":
        try:
            hint = params.get("login_hint", "")[:256]
            return redirect(sync_account.begin_connect(request, login_hint=hint))
        except TokenError as exc:
            failure = signin.failure_from(exc)
            return signin.failure_page(request, failure, purpose="sync_account")
    if action == "disconnect":
        if sync_account.disconnect(request):
            messages.success(request, "The sync account is disconnected; its tokens are gone.")
    elif action == "test":
        # It redeems (and so replaces) the stored refresh token: a change, audited like one.
        try:
            sync_account.refresh()
            messages.success(request, "The sync account's token was refreshed.")
            audit.record("sync_account.test", "success", request=request, target=_target())
        except TokenError as exc:
            messages.error(request, f"The sync account's token could not be refreshed: {exc}")
            audit.record(
                "sync_account.test", "failure", request=request, target=_target(), error=str(exc)
            )
    else:
        messages.error(request, "Unknown action.")
    return redirect("portal:sync_account")


def _target() -> str:
    account = sync_account.current()
    return (account.upn or account.object_id) if account else ""


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
