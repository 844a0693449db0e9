"""Regression tests of the black-box review of the running portal (issue 15): each failed
before its fix."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests.support.signin import LOOPBACK, authority_link, start_login

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


# --- A stale tab or an expired session meets a styled CSRF page ------------------------------
def test_a_form_from_a_stale_tab_gets_a_page_that_says_what_happened(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("admin"))
    page = reverse("portal:sync_account")
    resp = client.post(
        page,
        {"action": "test", "csrfmiddlewaretoken": "stale" * 8},
        HTTP_REFERER=f"http://testserver{page}",
    )
    assert resp.status_code == 403
    html = resp.content.decode()
    assert "bootstrap" in html  # the portal's layout, not Django's bare page
    assert "Nothing was done" in html
    assert f'href="{page}"' in html  # back to the page the form came from
    assert "Content-Security-Policy" in resp.headers


def test_the_csrf_page_never_links_back_to_another_site(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("admin"))
    resp = client.post(reverse("portal:sync_account"), {}, HTTP_REFERER="https://evil.example/x")
    assert resp.status_code == 403
    assert "evil.example" not in resp.content.decode()
    assert f'href="{reverse("portal:home")}"' in resp.content.decode()


def test_an_expired_session_posting_a_form_is_offered_to_sign_in_again():
    resp = Client(enforce_csrf_checks=True).post(reverse("portal:logout"))
    assert resp.status_code == 403
    assert reverse("portal:login") in resp.content.decode()


def test_an_htmx_request_with_a_stale_token_reloads_the_page(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("admin"))
    resp = client.post(reverse("portal:sync_account"), {}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 403
    assert resp["HX-Refresh"] == "true"


# --- Connecting the sync account takes a POST from our own page ------------------------------
def test_a_link_without_sec_fetch_site_does_not_start_connecting_the_sync_account(
    signed_in_client,
):
    # Browsers that send no Sec-Fetch-Site (older ones, some privacy settings) looked like our
    # own pages: a link from any site started the flow. A link now only asks.
    admin = signed_in_client("admin@contoso.test")
    query = {"connect": "1", "login_hint": "admin@contoso.test"}
    resp = admin.get(reverse("portal:sync_account"), query, **LOOPBACK)
    assert resp.status_code == 200
    assert not admin.session.get("msal_flows")
    assert b'name="action" value="connect"' in resp.content


def test_a_forged_connect_post_is_refused_by_csrf(signed_in_client, make_user):
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(make_user("admin"))
    resp = admin.post(reverse("portal:sync_account"), {"action": "connect"}, **LOOPBACK)
    assert resp.status_code == 403
    assert not admin.session.get("msal_flows")


def test_the_connect_post_moves_on_to_the_authority(signed_in_client, graphsim):
    admin = signed_in_client("admin@contoso.test")
    resp = admin.post(
        reverse("portal:sync_account"),
        {"action": "connect", "login_hint": "manager@contoso.test"},
        **LOOPBACK,
    )
    assert resp.status_code == 200
    assert authority_link(resp).startswith(graphsim["authority"])
    assert len(admin.session["msal_flows"]) == 1


# --- Anonymous sign-in failures are limited per client and collapsed in the audit log --------
def junk_callback(client, **headers):
    return client.get(reverse("portal:auth_callback"), {"state": "junk"}, **headers)


def test_repeated_sign_in_failures_are_limited_and_collapsed(settings):
    from portal.models import AuditEvent

    settings.SIGNIN_FAILURE_LIMIT = 5
    client = Client()
    statuses = [junk_callback(client).status_code for _ in range(12)]
    assert statuses == [400] * 5 + [429] * 7
    failures = AuditEvent.objects.filter(action="signin", outcome="failure")
    assert failures.count() == 1
    assert failures.get().detail["count"] == 5
    throttled = AuditEvent.objects.filter(action="signin", outcome="denied")
    assert throttled.count() == 1 and throttled.get().detail["count"] == 7
    assert AuditEvent.objects.count() == 2


def test_a_throttled_answer_says_when_to_try_again(settings):
    settings.SIGNIN_FAILURE_LIMIT = 1
    client = Client()
    junk_callback(client)
    resp = junk_callback(client)
    assert resp.status_code == 429
    assert 0 < int(resp["Retry-After"]) <= settings.SIGNIN_RATE_WINDOW_SECONDS
    assert b'data-reason="throttled"' in resp.content


def test_each_client_behind_the_proxy_has_its_own_limit(settings):
    from portal.models import AuditEvent

    settings.SIGNIN_FAILURE_LIMIT = 2
    settings.FORWARDED_ALLOW_IPS = ["127.0.0.1"]
    one = {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    other = {"HTTP_X_FORWARDED_FOR": "198.51.100.8"}
    assert [junk_callback(Client(), **one).status_code for _ in range(3)] == [400, 400, 429]
    assert junk_callback(Client(), **other).status_code == 400
    ips = set(AuditEvent.objects.values_list("ip", flat=True))
    assert ips == {"198.51.100.7", "198.51.100.8"}  # the clients, not the proxy


def test_a_forwarded_for_header_from_an_untrusted_address_is_ignored(settings):
    settings.SIGNIN_FAILURE_LIMIT = 2
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.1"]  # the proxy; the test client is 127.0.0.1
    statuses = [
        junk_callback(Client(), HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(3)
    ]
    assert statuses == [400, 400, 429]  # a new forged address each time changed nothing


def test_starting_sign_in_is_limited_per_client_too(settings, graph_settings):
    # Each start writes a session row: anonymous requests must not grow that table unbounded.
    settings.SIGNIN_START_LIMIT = 3
    statuses = [
        Client().get(reverse("portal:login"), {"start": "1"}, **LOOPBACK).status_code
        for _ in range(5)
    ]
    assert statuses == [302, 302, 302, 429, 429]


def test_a_nul_character_in_a_sign_in_answer_is_not_written_to_the_audit_log(graph_settings):
    # PostgreSQL refuses NUL in text and jsonb: the failure page would have been a 500 there.
    from portal.models import AuditEvent

    client = Client()
    authorize_url = start_login(client, "admin@contoso.test")
    state = dict(parse_qsl(urlsplit(authorize_url).query))["state"]
    resp = client.get(
        reverse("portal:auth_callback"), {"state": state, "error": "bad\x00thing"}, **LOOPBACK
    )
    assert resp.status_code == 400
    event = AuditEvent.objects.get(action="signin", outcome="failure")
    assert event.detail["error"] == "badthing"


def test_an_unfinished_sign_in_leaves_a_session_that_expires_with_its_flow(
    graph_settings, msal_login, settings
):
    from django.contrib.sessions.models import Session

    from portal.signin import FLOW_TTL_SECONDS
    from portal.tasks import clear_expired_sessions

    abandoned = Client()
    start_login(abandoned, "admin@contoso.test")
    assert abandoned.session.get_expiry_age() == FLOW_TTL_SECONDS
    finished = Client()
    msal_login(finished, "admin@contoso.test")
    assert finished.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    Session.objects.filter(session_key=abandoned.session.session_key).update(
        expire_date="2000-01-01T00:00:00Z"
    )
    clear_expired_sessions()
    assert not Session.objects.filter(session_key=abandoned.session.session_key).exists()
    assert Session.objects.filter(session_key=finished.session.session_key).exists()


def test_an_htmx_poll_after_the_session_ended_sends_the_page_to_sign_in():
    # htmx follows a redirect itself: the sign-in page used to land inside the polled fragment.
    resp = Client().get(
        reverse("calls:live", args=[1]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/calls/1/",
    )
    assert resp["HX-Redirect"] == f"{reverse('portal:login')}?next=%2Fcalls%2F1%2F"
    assert not resp.content


def test_an_htmx_poll_from_another_site_is_not_sent_back_there():
    resp = Client().get(
        reverse("calls:live", args=[1]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="https://evil.example/x",
    )
    assert resp["HX-Redirect"] == reverse("portal:login")
