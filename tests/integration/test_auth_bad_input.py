"""Every bad answer to a sign-in ends on a clear page with a way to try again, signs nobody in,
and is audited without the code or any token."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from django.test import Client
from django.urls import reverse

from portal.models import AuditEvent
from tests.support.signin import LOOPBACK, callback_location, follow_to_callback, start_login

pytestmark = pytest.mark.django_db


def callback_params(location: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def deliver(client, params: dict):
    return client.get(reverse("portal:auth_callback"), params, **LOOPBACK)


def assert_failed_cleanly(client, resp, reason: str, status: int = 400, secret: str = ""):
    assert resp.status_code == status
    assert b"Try again" in resp.content
    assert f'data-reason="{reason}"'.encode() in resp.content
    assert "_auth_user_id" not in client.session
    failure = AuditEvent.objects.filter(action="signin", outcome="failure").first()
    assert failure is not None and failure.detail["reason"] == reason
    if secret:
        assert secret not in str(failure.detail)
        assert secret.encode() not in resp.content


def a_closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unknown_state_is_refused(client, graph_settings):
    resp = deliver(client, {"code": "whatever", "state": "never-issued"})
    assert_failed_cleanly(client, resp, "state", secret="whatever")


def test_a_tampered_state_is_refused(client, graph_settings, graphsim):
    params = callback_params(callback_location(graphsim, start_login(client, "admin@contoso.test")))
    resp = deliver(client, {**params, "state": params["state"] + "x"})
    assert_failed_cleanly(client, resp, "state", secret=params["code"])


def test_a_replayed_answer_is_refused(graph_settings, graphsim):
    client = Client()
    location = callback_location(graphsim, start_login(client, "admin@contoso.test"))
    assert follow_to_callback(client, location).status_code == 302
    client.logout()
    resp = follow_to_callback(client, location)
    assert_failed_cleanly(client, resp, "state")


def test_a_code_already_redeemed_is_refused(client, graph_settings, graphsim):
    other = Client()
    redeemed = callback_params(
        callback_location(graphsim, start_login(other, "admin@contoso.test"))
    )
    assert deliver(other, redeemed).status_code == 302
    # The same code again, presented under a fresh state of this client's own.
    fresh = callback_params(callback_location(graphsim, start_login(client, "admin@contoso.test")))
    resp = deliver(client, {"code": redeemed["code"], "state": fresh["state"]})
    assert_failed_cleanly(client, resp, "rejected", secret=redeemed["code"])


def test_an_id_token_with_the_wrong_nonce_is_refused(client, graph_settings, graphsim):
    authorize_url = urlsplit(start_login(client, "admin@contoso.test"))
    query = {k: v[0] for k, v in parse_qs(authorize_url.query).items()}
    query["nonce"] = "0" * 64
    tampered = urlunsplit(authorize_url._replace(query=urlencode(query)))
    resp = follow_to_callback(client, callback_location(graphsim, tampered))
    assert_failed_cleanly(client, resp, "nonce")


def test_access_denied_from_the_authority_is_explained(client, graph_settings, graphsim):
    state = parse_qs(urlsplit(start_login(client, "admin@contoso.test")).query)["state"][0]
    resp = deliver(
        client,
        {"error": "access_denied", "error_description": "AADSTS65004: declined", "state": state},
    )
    assert_failed_cleanly(client, resp, "denied")
    assert b"cancelled" in resp.content


def test_another_error_from_the_authority_is_a_rejected_sign_in(client, graph_settings):
    state = parse_qs(urlsplit(start_login(client, "admin@contoso.test")).query)["state"][0]
    resp = deliver(client, {"error": "invalid_request", "state": state})
    assert_failed_cleanly(client, resp, "rejected")


def test_an_authority_that_is_down_is_explained_at_the_start(client, graph_settings):
    graph_settings.MS_AUTHORITY = f"https://127.0.0.1:{a_closed_port()}/contoso"
    resp = client.get(reverse("portal:login"), {"start": "1"}, **LOOPBACK)
    assert_failed_cleanly(client, resp, "unavailable", status=503)


def test_an_authority_that_goes_down_before_the_callback_is_explained(
    client, graph_settings, graphsim
):
    location = callback_location(graphsim, start_login(client, "admin@contoso.test"))
    graph_settings.MS_AUTHORITY = f"https://127.0.0.1:{a_closed_port()}/contoso"
    resp = follow_to_callback(client, location)
    assert_failed_cleanly(client, resp, "unavailable", status=503)


def test_a_token_endpoint_answering_500_is_explained(client, graph_settings, graphsim, sim):
    location = callback_location(graphsim, start_login(client, "admin@contoso.test"))
    sim.post("tokens", {"fail_next": 1, "fail_status": 500})
    try:
        resp = follow_to_callback(client, location)
    finally:
        sim.post("tokens", {"fail_next": 0})
    assert_failed_cleanly(client, resp, "unavailable", status=503)


def test_missing_settings_are_explained(client, graph_settings):
    graph_settings.MS_CLIENT_ID = ""
    resp = client.get(reverse("portal:login"), {"start": "1"}, **LOOPBACK)
    assert_failed_cleanly(client, resp, "not_configured", status=503)
    assert b"not configured" in resp.content


def test_try_again_keeps_the_page_asked_for(client, graph_settings):
    resp = client.get(
        reverse("portal:login"), {"login_hint": "admin@contoso.test", "next": "/no-access"}
    )
    state = parse_qs(urlsplit(resp["Location"]).query)["state"][0]
    failed = deliver(client, {"error": "access_denied", "state": state})
    assert b"next=%2Fno-access" in failed.content


def test_an_id_token_from_another_tenant_is_refused(client, graph_settings, graphsim):
    location = callback_location(graphsim, start_login(client, "admin@contoso.test"))
    graph_settings.MS_TENANT_ID = "11111111-2222-3333-4444-555555555555"
    resp = follow_to_callback(client, location)
    assert_failed_cleanly(client, resp, "claims")


def test_a_person_disabled_in_the_portal_cannot_sign_in(client, msal_login, sim):
    from portal.models import User

    msal_login(Client(), "helpdesk@contoso.test")
    User.objects.filter(upn="helpdesk@contoso.test").update(is_active=False)
    resp = msal_login(client, "helpdesk@contoso.test")
    assert_failed_cleanly(client, resp, "disabled")
