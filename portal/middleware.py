import zoneinfo
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode

from portal import session_checks, signin

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


class HtmxSignInRedirectMiddleware:
    """htmx follows a redirect itself and swaps what it finds: a fragment polled after the
    session ended (LoginRequiredMiddleware's redirect) showed the sign-in page inside the page.
    Tell htmx to send the whole page there instead, coming back to that page afterwards."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        login_url = resolve_url(settings.LOGIN_URL)
        if (
            request.headers.get("HX-Request")
            and response.status_code in (301, 302, 303)
            and urlsplit(response.get("Location", "")).path == login_url
        ):
            page = urlsplit(request.headers.get("HX-Current-URL", ""))
            same_site = page.netloc == request.get_host()
            path = page.path + (f"?{page.query}" if page.query else "")
            back = signin.safe_next(request, path) if same_site else ""
            response = HttpResponse()
            response["HX-Redirect"] = login_url + (f"?{urlencode({'next': back})}" if back else "")
        return response
