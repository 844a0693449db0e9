"""The viewer's time zone comes from the cookie portal.js writes (URL-encoded)."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from portal.middleware import UserTimezoneMiddleware


def zone_seen_with(cookie: str | None) -> str:
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse()

    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES["tz"] = cookie
    UserTimezoneMiddleware(view)(request)
    timezone.deactivate()
    return seen["zone"]


def test_the_url_encoded_zone_written_by_the_browser_is_used():
    assert zone_seen_with("America%2FNew_York") == "America/New_York"


def test_a_plain_zone_name_is_used_too():
    assert zone_seen_with("Europe/Paris") == "Europe/Paris"


@pytest.mark.parametrize(
    "cookie", [None, "", "Mars/Olympus_Mons", "..%2F..%2Fetc%2Fpasswd", "A" * 500, "%00"]
)
def test_a_missing_unknown_or_hostile_zone_falls_back_to_the_default(cookie, settings):
    assert zone_seen_with(cookie) == settings.TIME_ZONE
