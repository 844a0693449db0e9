import zoneinfo
from urllib.parse import unquote

from django.utils import timezone

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
