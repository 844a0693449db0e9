"""Whether a signed-in person may still use the portal: asked at each of their requests by
`portal.middleware.SignInCheckMiddleware`, so a session does not outlive the person's access.

- What the apps know (`extensions.access_refused`): the delegation cache knows whom the sync saw
  disabled in, or removed from, Entra ID. One indexed query per request.
- What Entra ID says now: every SIGNIN_RECHECK_SECONDS the person's refresh token is redeemed
  and their roles are read again from the new id token. A refused refresh (account disabled,
  sign-in revoked), no refresh token, or no id token ends the session; Microsoft unreachable
  postpones the check by a minute rather than signing everyone out.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.cache import cache
from django.shortcuts import redirect
from django.utils import timezone

from portal import audit, extensions, signin, token_store
from portal.graph.errors import TokenError, TokenUnavailable
from portal.graph.tokens import SignInFailed
from portal.models import TokenCache, User

RETRY_UNREACHABLE_SECONDS = 60
ENDED_MESSAGES = {
    "disabled": "Your account is disabled in Microsoft Entra ID, so your session has ended.",
    "removed": "Your account is no longer in your organisation's directory, so your session "
    "has ended.",
    "refused": "Microsoft Entra ID no longer accepts your sign-in (your account may be disabled "
    "or your sign-in revoked). Sign in again.",
}
UNCONFIRMED_MESSAGE = (
    "The portal could not confirm your sign-in with Microsoft Entra ID. Please sign in again."
)


def refusal(request) -> str | None:
    """Why this person's session must end now ("disabled", "removed", "refused", ...), or None."""
    reason = extensions.access_refused(request.user)
    if reason:
        return reason
    if _recheck_due(request.user):
        return recheck(request)
    return None


def _recheck_due(user) -> bool:
    # last_login: someone signed in before this field existed (or by a test's force_login).
    vouched = user.entra_checked_at or user.last_login
    if vouched is None:
        return True
    return timezone.now() - vouched >= dt.timedelta(seconds=settings.SIGNIN_RECHECK_SECONDS)


def _stamp(user, at) -> None:
    User.objects.filter(pk=user.pk).update(entra_checked_at=at)
    user.entra_checked_at = at


def recheck(request) -> str | None:
    """Redeem the person's refresh token and apply the roles of the new id token."""
    user = request.user
    lock = f"signin-recheck:{user.pk}"
    if not cache.add(lock, 1, timeout=30):
        return None  # another request of theirs is re-checking right now
    try:
        claims = token_store.refreshed_sign_in_claims(user, list(settings.MS_SIGNIN_SCOPES))
    except TokenUnavailable:
        interval = settings.SIGNIN_RECHECK_SECONDS - RETRY_UNREACHABLE_SECONDS
        _stamp(user, timezone.now() - dt.timedelta(seconds=max(0, interval)))
        return None
    except (TokenError, SignInFailed):
        return "refused"
    finally:
        cache.delete(lock)
    if claims is None:
        return "no_refresh_token"
    if claims.get("oid") != user.object_id:
        return "no_id_token" if not claims else "another_person"
    signin.apply_roles(request, user, signin.roles_from_claims(claims))
    _stamp(user, timezone.now())
    return None


def end_session(request, reason: str):
    """Forget the person's tokens and session (audited); answer the sign-in page, saying why."""
    user = request.user
    TokenCache.objects.filter(user=user).delete()
    audit.record(
        "session.end", "denied", request=request, target=user.upn or user.object_id, reason=reason
    )
    logout(request)
    messages.warning(request, ENDED_MESSAGES.get(reason, UNCONFIRMED_MESSAGE))
    # An htmx request's redirect becomes HX-Redirect (portal.middleware).
    return redirect("portal:login")
