"""Sign-in, the redirect callback, and sign-out. The work is in portal/signin.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal import signin
from portal.graph import tokens
from portal.graph.errors import TokenError
from portal.graph.tokens import SignInFailed
from portal.views import sync_account


@login_not_required
@never_cache
@require_GET
def login_page(request):
    """The sign-in page; with `start` (its button) or a `login_hint`, go to Microsoft."""
    next_url = signin.safe_next(request, request.GET.get("next"))
    login_hint = request.GET.get("login_hint", "")[:256]
    if "start" not in request.GET and not login_hint:
        query = {"start": "1", **({"next": next_url} if next_url else {})}
        context = {"start_query": urlencode(query), "signed_out": "signed_out" in request.GET}
        return render(request, "portal/login.html", context)
    started = signin.count_start(request)
    if not started.allowed:
        return signin.throttled_page(request, started)
    try:
        auth_uri = signin.begin(
            request,
            purpose="signin",
            scopes=list(settings.MS_SIGNIN_SCOPES),
            next_url=next_url,
            login_hint=login_hint,
        )
    except TokenError as exc:
        return signin.failure_page(request, signin.failure_from(exc), next_url)
    return redirect(auth_uri)


@login_not_required
@never_cache
@require_GET
def callback(request):
    """Where Microsoft sends the browser back: sign-in, connecting the sync account, consent."""
    entry = signin.take_flow(request.session, request.GET.get("state"))
    if entry is None:
        failure = SignInFailed("state", "no pending sign-in for this state")
        return signin.failure_page(request, failure)
    if entry["purpose"] == "sync_account":
        return sync_account.finish_connect(request, entry)
    if entry["purpose"] == "consent":
        return signin.finish_consent(request, entry)
    try:
        result = tokens.finish_auth_code_flow(entry["flow"], request.GET.dict())
        signin.complete_sign_in(request, result)
    except SignInFailed as failure:
        return signin.failure_page(request, failure, entry.get("next", ""))
    return redirect(entry.get("next") or "portal:home")


@require_POST
def logout_view(request):
    """POST only (the layout posts a form): a link or an image cannot sign anyone out.

    Answers a page that moves on to the authority's logout, not a redirect: CSP form-action
    would stop a form's redirect to another origin."""
    logout_url = signin.sign_out(request)
    return render(request, "portal/signed_out.html", {"logout_url": logout_url})
