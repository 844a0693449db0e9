"""Regression tests of the security review: each one failed before its fix."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from portal.models import AuditEvent
from tests.support.signin import (
    LOOPBACK,
    authority_link,
    callback_location,
    follow_to_callback,
    start_login,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("tenant", ["organizations", "common", ""])
def test_a_multi_tenant_setting_does_not_let_other_tenants_sign_in(
    client, graph_settings, graphsim, tenant
):
    # With "organizations" an id token from ANY tenant (whose admin can assign themselves the
    # portal's app roles) used to be accepted: the tenant must always be ours, exactly.
    location = callback_location(graphsim, start_login(client, "admin@contoso.test"))
    graph_settings.MS_TENANT_ID = tenant
    resp = follow_to_callback(client, location)
    assert resp.status_code == 400
    assert b'data-reason="claims"' in resp.content
    assert "_auth_user_id" not in client.session
    failure = AuditEvent.objects.filter(action="signin", outcome="failure").first()
    assert failure is not None and failure.detail["reason"] == "claims"


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_another_site_cannot_start_connecting_the_sync_account(signed_in_client, site):
    # A GET link: any site could send an admin through the connect flow, which Microsoft may
    # complete silently for the admin's own account. A link now only asks; our page's POST
    # (with its CSRF token) starts the flow.
    admin = signed_in_client("admin@contoso.test")
    url = reverse("portal:sync_account")
    query = {"connect": "1", "login_hint": "admin@contoso.test"}
    resp = admin.get(url, query, HTTP_SEC_FETCH_SITE=site, **LOOPBACK)
    assert resp.status_code == 200
    assert not admin.session.get("msal_flows")
    ours = admin.post(url, {"action": "connect", "login_hint": "admin@contoso.test"}, **LOOPBACK)
    assert ours.status_code == 200 and authority_link(ours)


@pytest.mark.parametrize(
    "url",
    [
        "/sync/?before=" + "9" * 5000,  # past Python's int() digit limit
        "/sync/?before=%C2%B2",  # "²": isdigit() yet not int()
        "/admin-tools/audit?until=9999-12-31",  # the day after has no date
        "/admin-tools/audit?since=0001-01-01",  # east of UTC: before year 1
    ],
)
def test_unbounded_query_parameters_are_not_server_errors(make_user, url):
    admin = Client(raise_request_exception=False)
    admin.force_login(make_user("admin"))
    admin.cookies["tz"] = "Asia/Tokyo"
    assert admin.get(url).status_code == 200


def test_testing_the_sync_account_token_is_audited(signed_in_client):
    # "Test now" redeems and replaces the stored refresh token: a change like any other.
    admin = signed_in_client("admin@contoso.test")
    admin.post(reverse("portal:sync_account"), {"action": "test"})  # none connected: a failure
    event = AuditEvent.objects.filter(action="sync_account.test").first()
    assert event is not None and event.outcome == "failure"
    assert event.actor.upn == "admin@contoso.test"


def test_a_successful_token_test_is_audited_too(signed_in_client, graphsim):
    admin = signed_in_client("admin@contoso.test")
    query = {"action": "connect", "login_hint": "manager@contoso.test"}
    resp = admin.post(reverse("portal:sync_account"), query, **LOOPBACK)
    follow_to_callback(admin, callback_location(graphsim, authority_link(resp)))
    admin.post(reverse("portal:sync_account"), {"action": "test"})
    event = AuditEvent.objects.filter(action="sync_account.test").first()
    assert event is not None and event.outcome == "success"
    assert event.target == "manager@contoso.test"
