"""Regression tests of the black-box review of the running portal (issue 15): each failed
before its fix."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


# --- Headers, cookies and what /healthz tells whom -------------------------------------------
def test_the_csrf_cookie_is_http_only(make_user):
    # Nothing reads it from script: htmx takes the token from the page.
    client = Client()
    client.force_login(make_user("helpdesk"))
    resp = client.get(reverse("calls:start"))
    assert resp.cookies["csrftoken"]["httponly"] is True


@pytest.mark.parametrize("name", ["delegation:mine", "calls:list", "portal:no_access"])
def test_signed_in_pages_are_private_and_never_stored(make_user, name):
    client = Client()
    client.force_login(make_user("admin"))
    resp = client.get(reverse(name))
    assert resp.status_code == 200
    directives = {d.strip() for d in resp["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives


def test_healthz_tells_anonymous_probes_the_status_only(graph_settings):
    from django.core.cache import cache

    cache.clear()
    resp = Client().get(reverse("portal:healthz"))
    assert resp.status_code == 200
    assert resp.json() == {"ok": True}


def test_healthz_gives_admins_the_details(graph_settings, make_user):
    from django.core.cache import cache

    cache.clear()
    admin = Client()
    admin.force_login(make_user("admin"))
    body = admin.get(reverse("portal:healthz")).json()
    assert body["checks"]["database"]["vendor"]
    assert body["checks"]["graph"]["graph"]["status"]
    helpdesk = Client()
    helpdesk.force_login(make_user("helpdesk"))
    assert helpdesk.get(reverse("portal:healthz")).json() == {"ok": True}
