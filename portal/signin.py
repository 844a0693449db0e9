"""Sign-in services: the pending auth-code flows, people from id token claims, roles, sign-out.

Views (portal/views/auth.py) call these; MSAL itself stays in portal/graph/tokens.py.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.models import Group
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from portal import audit, ratelimit, token_store
from portal.client_ip import client_ip
from portal.graph import tokens
from portal.graph.errors import NotConfigured, TokenError
from portal.models import TokenCache, User
from portal.roles import ROLES, forget_roles

FLOWS_SESSION_KEY = "msal_flows"
FLOW_TTL_SECONDS = 15 * 60
MAX_PENDING_FLOWS = 8  # several tabs at once, but not an unbounded session

# What each way of failing tells the person (never the OAuth detail, which goes to the audit).
FAILURE_MESSAGES = {
    "state": "This sign-in answer is unknown, expired or was already used.",
    "nonce": "The answer from Microsoft did not match this sign-in attempt.",
    "denied": "The sign-in was cancelled, or consent to the portal was refused.",
    "rejected": "Microsoft did not accept this sign-in (the code may have been used already).",
    "unavailable": "The Microsoft sign-in service could not be reached. Try again in a minute.",
    "not_configured": "Sign-in is not configured on this portal yet. Tell an administrator.",
    "claims": "The sign-in answer was not meant for this portal or this organisation.",
    "disabled": "Your account is disabled in the portal. Ask an administrator.",
    "forbidden": "Only an administrator who may manage the sync account can connect it.",
    "throttled": "Too many sign-in attempts came from your network. Wait a few minutes, then "
    "try again.",
}
FAILURE_STATUS = {"unavailable": 503, "not_configured": 503, "forbidden": 403, "throttled": 429}


# --- Pending flows, server-side, keyed by state ---------------------------------------------
def remember_flow(session, flow: dict, *, purpose: str, next_url: str = "") -> None:
    """Keep MSAL's flow in the session under its state: two tabs do not overwrite each other."""
    now = time.time()
    pending = {
        state: entry
        for state, entry in (session.get(FLOWS_SESSION_KEY) or {}).items()
        if entry.get("expires", 0) > now
    }
    pending[flow["state"]] = {
        "flow": flow,
        "purpose": purpose,
        "next": next_url,
        "expires": now + FLOW_TTL_SECONDS,
    }
    newest = sorted(pending.items(), key=lambda item: item[1]["expires"])[-MAX_PENDING_FLOWS:]
    session[FLOWS_SESSION_KEY] = dict(newest)


def take_flow(session, state: str | None) -> dict | None:
    """The pending flow for this state, removed so that a replayed answer finds nothing."""
    pending = dict(session.get(FLOWS_SESSION_KEY) or {})
    entry = pending.pop(state, None) if state else None
    if pending:
        session[FLOWS_SESSION_KEY] = pending
    else:
        session.pop(FLOWS_SESSION_KEY, None)
    if entry is None or entry.get("expires", 0) <= time.time():
        return None
    return entry


def safe_next(request, candidate: str | None) -> str:
    """`next` only when it is a path of this site (no scheme, no other host)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def redirect_uri(request) -> str:
    return request.build_absolute_uri(settings.MS_REDIRECT_PATH)


def begin(request, *, purpose: str, scopes: list[str], next_url: str = "", **options) -> str:
    """Start an auth-code flow; returns the authority URL to send the browser to."""
    flow = tokens.start_auth_code_flow(redirect_uri(request), scopes, **options)
    remember_flow(request.session, flow, purpose=purpose, next_url=next_url)
    if not request.user.is_authenticated:
        # Nobody's session yet: its row goes when the flow does, not hours later.
        request.session.set_expiry(FLOW_TTL_SECONDS)
    return flow["auth_uri"]


# --- People and roles -----------------------------------------------------------------------
def roles_from_claims(claims: dict) -> set[str]:
    """App roles from `roles`, plus MS_GROUP_ROLES for `groups` (absent when groups overflow)."""
    found = {str(r).lower() for r in claims.get("roles") or []}
    group_roles = settings.MS_GROUP_ROLES or {}
    found |= {str(group_roles[g]).lower() for g in claims.get("groups") or [] if g in group_roles}
    return found & set(ROLES)


def person_from_claims(claims: dict) -> User:
    """The portal user for (tid, oid), created on first sign-in; name and UPN refreshed."""
    tid, oid = claims["tid"], claims["oid"]
    user = User.objects.filter(tenant_id=tid, object_id=oid).first()
    if user is None:
        user = User(tenant_id=tid, object_id=oid, username=f"{oid}@{tid}"[:150])
        user.set_unusable_password()
    user.display_name = str(claims.get("name") or "")[:256]
    user.upn = str(claims.get("preferred_username") or "")[:256]
    user.entra_checked_at = timezone.now()  # Entra ID vouched for them just now
    user.save()
    return user


def apply_roles(request, user: User, wanted: set[str]) -> None:
    """Make the person's role groups exactly `wanted`; audit what changed."""
    current = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    added, removed = sorted(wanted - current), sorted(current - wanted)
    if added:
        user.groups.add(*Group.objects.filter(name__in=added))
    if removed:
        user.groups.remove(*Group.objects.filter(name__in=removed))
    if added or removed:
        forget_roles(user)
        audit.record(
            "role.change",
            "success",
            request=request,
            actor=user,
            target=user.upn or user.object_id,
            added=added,
            removed=removed,
        )


def complete_sign_in(request, result: tokens.SignInResult) -> User:
    """Sign the person in: user row, roles, encrypted token cache, a new session key, audit."""
    with transaction.atomic():
        user = person_from_claims(result.claims)
        if not user.is_active:
            raise tokens.SignInFailed("disabled", "the portal account is inactive")
        apply_roles(request, user, roles_from_claims(result.claims))
        sealed = token_store.seal(result.serialized_cache)
        TokenCache.objects.update_or_create(user=user, defaults={"ciphertext": sealed})
    # login() cycles the session key: a session id planted before sign-in is worthless after.
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.set_expiry(None)  # SESSION_COOKIE_AGE, not the sign-in flow's minutes
    audit.record(
        "signin", "success", request=request, actor=user, target=user.upn or user.object_id
    )
    return user


def failure_from(exc: TokenError) -> tokens.SignInFailed:
    """A sign-in that could not start: settings are wrong, or the authority is unreachable."""
    return tokens.SignInFailed("not_configured" if exc.permanent else "unavailable", str(exc))


def _count(request, kind: str, limit: int) -> ratelimit.Hit:
    client = client_ip(request) or "unknown"
    window = settings.SIGNIN_RATE_WINDOW_SECONDS
    return ratelimit.hit(kind, client, limit=limit, window_seconds=window)


def count_start(request) -> ratelimit.Hit:
    """Count a sign-in start (each writes a session row) against the client's limit."""
    return _count(request, "signin-start", settings.SIGNIN_START_LIMIT)


def record_failure(request, failure: tokens.SignInFailed, *, purpose: str = "signin"):
    """Audit a failure, one row per client and reason per window (a repeat counts in it); past
    the client's limit, one "throttled" row counts the refusals. Returns the count's verdict."""
    action = "signin" if purpose == "signin" else "sync_account.connect"
    hit = _count(request, "signin-failure", settings.SIGNIN_FAILURE_LIMIT)
    window = {
        "window_start": hit.window_start,
        "window_seconds": settings.SIGNIN_RATE_WINDOW_SECONDS,
    }
    if hit.allowed:
        audit.record_repeated(
            action,
            "failure",
            request=request,
            reason=failure.reason,
            error=failure.detail,
            **window,
        )
    else:
        audit.record_repeated(action, "denied", request=request, reason="throttled", **window)
    return hit


def throttled_page(request, hit: ratelimit.Hit):
    """429 with the page that says why and when to try again."""
    context = {"message": FAILURE_MESSAGES["throttled"], "reason": "throttled", "retry_url": ""}
    response = render(request, "portal/signin_failed.html", context, status=429)
    response["Retry-After"] = str(hit.retry_after)
    return response


def sign_out(request) -> str:
    """Forget the person's tokens and session; returns the authority's logout URL."""
    user = request.user
    if user.is_authenticated:
        TokenCache.objects.filter(user=user).delete()
        audit.record("signout", "success", request=request, target=user.upn or user.object_id)
    logout(request)  # flushes the session
    back = request.build_absolute_uri(reverse("portal:login")) + "?signed_out=1"
    try:
        return tokens.logout_url(back)
    except NotConfigured:
        return back


def failure_page(request, failure: tokens.SignInFailed, next_url: str = "", purpose="signin"):
    """A clear page that says what went wrong and offers to try again; audited, no session.
    Past the client's limit of failures: 429, and one audit row counts them all."""
    hit = record_failure(request, failure, purpose=purpose)
    if not hit.allowed:
        return throttled_page(request, hit)
    if purpose == "signin":
        query = {"start": "1", **({"next": next_url} if next_url else {})}
        retry_url = f"{reverse('portal:login')}?{urlencode(query)}"
    else:
        retry_url = reverse("portal:sync_account")
    context = {
        "message": FAILURE_MESSAGES.get(failure.reason, "The sign-in did not succeed."),
        "reason": failure.reason,
        "retry_url": retry_url,
    }
    status = FAILURE_STATUS.get(failure.reason, 400)
    return render(request, "portal/signin_failed.html", context, status=status)


# --- Incremental consent: a scope asked for only where a page needs it ----------------------
CONSENTS_SESSION_KEY = "consented_scopes"
CONSENT_MESSAGES = {
    "denied": "You did not allow it, so nothing was kept. You can allow it whenever you are ready.",
    "claims": "Microsoft answered for another account than the one you are signed in with: "
    "allow it as yourself.",
}


def begin_consent(request, scopes: list[str], next_url: str) -> str:
    """Ask Microsoft for `scopes` for the signed-in person's own account (login_hint), through
    the sign-in's flow; the callback brings them back to `next_url`. Returns the authority URL."""
    user = request.user
    return begin(request, purpose="consent", scopes=scopes, next_url=next_url, login_hint=user.upn)


def has_consented(request, scope: str) -> bool:
    """Whether the person allowed `scope` in this session (the page asks again after sign-out)."""
    return scope in (request.session.get(CONSENTS_SESSION_KEY) or [])


def forget_consent(request, scope: str) -> None:
    """Microsoft no longer grants `scope` silently: the page asks again."""
    kept = [s for s in request.session.get(CONSENTS_SESSION_KEY) or [] if s != scope]
    request.session[CONSENTS_SESSION_KEY] = kept


def finish_consent(request, entry: dict):
    """The callback's half for a consent flow. The answer must be the signed-in person's own:
    its cache replaces theirs (its refresh token serves every scope they allowed), audited. A
    refusal is said on the page they came from, and nothing is kept."""
    user, next_url = request.user, entry.get("next") or reverse("portal:home")
    scopes = list(entry["flow"].get("scope") or [])
    try:
        if not user.is_authenticated:
            raise tokens.SignInFailed("state", "nobody is signed in")
        result = tokens.finish_auth_code_flow(entry["flow"], request.GET.dict())
        if (result.claims["oid"], result.claims["tid"]) != (user.object_id, user.tenant_id):
            raise tokens.SignInFailed("claims", "the answer is for another account")
    except tokens.SignInFailed as failure:
        detail = {"scopes": scopes, "reason": failure.reason, "error": failure.detail}
        audit.record("consent", "failure", request=request, **detail)
        words = CONSENT_MESSAGES.get(failure.reason) or FAILURE_MESSAGES.get(failure.reason)
        messages.error(request, words or "Microsoft did not grant it.")
        return redirect(next_url)
    sealed = token_store.seal(result.serialized_cache)
    TokenCache.objects.update_or_create(user=user, defaults={"ciphertext": sealed})
    request.session[CONSENTS_SESSION_KEY] = sorted(
        {*scopes, *request.session.get(CONSENTS_SESSION_KEY, [])}
    )
    audit.record(
        "consent", "success", request=request, target=user.upn or user.object_id, scopes=scopes
    )
    return redirect(next_url)
