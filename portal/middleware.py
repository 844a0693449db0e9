import zoneinfo
from urllib.parse import unquote

from django.utils import timezone
from django.utils.cache import patch_cache_control

from portal import session_checks

_MAX_ZONE_NAME = 64  # the longest IANA names are about 30 characters


class UserTimezoneMiddleware:
    """Show dates in the viewer's time zone: static/js/portal.js sets the `tz` cookie,
    URL-encoded (America%2FNew_York); an unknown or malformed zone falls back to TIME_ZONE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = unquote(request.COOKIES.get("tz", "")[: _MAX_ZONE_NAME * 3])
        try:
            if name and len(name) <= _MAX_ZONE_NAME:
                timezone.activate(zoneinfo.ZoneInfo(name))
            else:
                timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


class PrivatePagesMiddleware:
    """A page for a signed-in person is theirs alone: no shared cache may keep it, and no
    browser may keep it on disk (a shared computer's back button after sign-out)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response


class SignInCheckMiddleware:
    """A person disabled or removed in Entra ID, or whose sign-in Entra ID no longer accepts,
    loses access at their next request; roles changed in Entra ID apply within
    SIGNIN_RECHECK_SECONDS (portal/session_checks.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reason = session_checks.refusal(request)
            if reason:
                return session_checks.end_session(request, reason)
        return self.get_response(request)
