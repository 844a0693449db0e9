"""The sync account: connected by an admin through its own auth-code flow, stored encrypted,
refreshed silently, "reconnect needed" when its refresh token is revoked, and back."""

from __future__ import annotations

import jwt
import pytest
from django.urls import reverse

from portal.graph import tokens
from portal.graph.errors import NotConfigured, ReconnectNeeded
from portal.models import AuditEvent, SyncAccount, TokenCache
from tests.support.signin import LOOPBACK, authority_link, callback_location, follow_to_callback

pytestmark = pytest.mark.django_db

SYNC_UPN = "manager@contoso.test"  # any person of the tenant may be the sync account
BANNER = b'id="sync-account-banner"'


def connect(client, graphsim, upn: str = SYNC_UPN):
    resp = client.post(
        reverse("portal:sync_account"), {"action": "connect", "login_hint": upn}, **LOOPBACK
    )
    assert resp.status_code == 200, resp.content[:300]
    return follow_to_callback(client, callback_location(graphsim, authority_link(resp)))


@pytest.fixture
def admin_client(signed_in_client):
    return signed_in_client("admin@contoso.test")


def test_an_admin_connects_the_sync_account_without_touching_their_own_tokens(
    admin_client, graphsim
):
    own_cache = bytes(TokenCache.objects.get(user__upn="admin@contoso.test").ciphertext)
    resp = connect(admin_client, graphsim)
    assert resp["Location"] == reverse("portal:sync_account")
    account = SyncAccount.objects.get()
    assert (account.upn, account.status) == (SYNC_UPN, SyncAccount.Status.CONNECTED)
    assert account.connected_by.upn == "admin@contoso.test"
    assert b"refresh_token" not in bytes(account.ciphertext)
    assert bytes(TokenCache.objects.get(user__upn="admin@contoso.test").ciphertext) == own_cache
    assert "_auth_user_id" in admin_client.session  # still signed in as the admin
    page = admin_client.get(reverse("portal:sync_account"))
    assert SYNC_UPN.encode() in page.content and b'data-status="connected"' in page.content
    assert AuditEvent.objects.filter(action="sync_account.connect", target=SYNC_UPN).exists()


def test_the_sync_token_is_the_accounts_delegated_token(admin_client, graphsim):
    connect(admin_client, graphsim)
    claims = jwt.decode(tokens.sync_token_provider()(), options={"verify_signature": False})
    assert claims["upn"] == SYNC_UPN
    assert "CallDelegation.Read" in claims["scp"].split()
    assert SyncAccount.objects.get().last_refreshed_at is not None


def test_one_provider_serves_the_token_from_memory_until_it_is_due(admin_client, graphsim, sim):
    connect(admin_client, graphsim)
    provider = tokens.sync_token_provider()
    first = provider()
    issued = sim.get("stats")["tokens_issued"]["delegated"]
    assert [provider() for _ in range(5)] == [first] * 5
    assert sim.get("stats")["tokens_issued"]["delegated"] == issued
    assert provider(force_refresh=True) != first


def test_a_stale_provider_does_not_undo_a_reconnect(admin_client, graphsim, sim):
    connect(admin_client, graphsim)
    stale = tokens.sync_token_provider()
    stale()
    sim.post("tokens", {"revoke": SYNC_UPN})
    connect(admin_client, graphsim)  # an admin reconnects while a run holds the old cache
    with pytest.raises(ReconnectNeeded):
        stale(force_refresh=True)
    assert SyncAccount.objects.get().status == SyncAccount.Status.CONNECTED
    assert tokens.sync_token_provider()(force_refresh=True)


def test_a_revoked_refresh_token_means_reconnect_needed_until_reconnected(
    admin_client, graphsim, sim, signed_in_client
):
    connect(admin_client, graphsim)
    helpdesk = signed_in_client("helpdesk@contoso.test")
    sim.post("tokens", {"revoke": SYNC_UPN})

    with pytest.raises(ReconnectNeeded):
        tokens.sync_token_provider()(force_refresh=True)
    account = SyncAccount.objects.get()
    assert account.status == SyncAccount.Status.RECONNECT_NEEDED
    assert "invalid_grant" in account.last_error
    assert AuditEvent.objects.filter(action="sync_account.reconnect_needed").count() == 1
    with pytest.raises(ReconnectNeeded):  # no new attempt, no second audit event
        tokens.sync_token_provider()()
    assert AuditEvent.objects.filter(action="sync_account.reconnect_needed").count() == 1

    admin_pages = ("portal:sync_account", "portal:audit", "delegation:sync_list", "delegation:mine")
    for name in admin_pages:
        assert BANNER in admin_client.get(reverse(name)).content, name
    assert BANNER not in helpdesk.get(reverse("portal:no_access")).content

    connect(admin_client, graphsim)
    assert SyncAccount.objects.get().status == SyncAccount.Status.CONNECTED
    assert tokens.sync_token_provider()(force_refresh=True)
    assert BANNER not in admin_client.get(reverse("portal:audit")).content
    reconnect = AuditEvent.objects.filter(action="sync_account.connect").first()
    assert reconnect.detail["was_reconnect_needed"] is True


def test_a_transient_token_failure_is_not_a_reconnect(admin_client, graphsim, sim):
    connect(admin_client, graphsim)
    sim.post("tokens", {"fail_next": 1, "fail_status": 503})
    try:
        with pytest.raises(tokens.TokenUnavailable):
            tokens.sync_token_provider()(force_refresh=True)
    finally:
        sim.post("tokens", {"fail_next": 0})
    assert SyncAccount.objects.get().status == SyncAccount.Status.CONNECTED


def test_disconnecting_forgets_the_account(admin_client, graphsim):
    connect(admin_client, graphsim)
    resp = admin_client.post(reverse("portal:sync_account"), {"action": "disconnect"})
    assert resp.status_code == 302
    assert not SyncAccount.objects.exists()
    assert AuditEvent.objects.filter(action="sync_account.disconnect", target=SYNC_UPN).exists()
    with pytest.raises(NotConfigured):
        tokens.sync_token_provider()


def test_the_page_test_button_refreshes_the_token(admin_client, graphsim):
    connect(admin_client, graphsim)
    before = SyncAccount.objects.get().last_refreshed_at
    admin_client.post(reverse("portal:sync_account"), {"action": "test"})
    assert SyncAccount.objects.get().last_refreshed_at > before


def test_app_only_sync_needs_no_account_and_the_page_says_so(admin_client, graph_settings):
    graph_settings.SYNC_USE_APP_ONLY = True
    claims = jwt.decode(tokens.sync_token_provider()(), options={"verify_signature": False})
    assert claims["idtyp"] == "app"
    assert b'id="app-only-note"' in admin_client.get(reverse("portal:sync_account")).content


def test_only_admins_may_connect_the_sync_account(signed_in_client):
    helpdesk = signed_in_client("helpdesk@contoso.test")
    resp = helpdesk.get(reverse("portal:sync_account"), {"connect": "1"}, **LOOPBACK)
    assert resp.status_code == 403
    resp = helpdesk.post(reverse("portal:sync_account"), {"action": "connect"}, **LOOPBACK)
    assert resp.status_code == 403
    assert not SyncAccount.objects.exists()


def test_a_sync_flow_finished_by_someone_who_lost_the_right_is_refused(admin_client, graphsim):
    from django.contrib.auth.models import Group

    resp = admin_client.post(
        reverse("portal:sync_account"), {"action": "connect", "login_hint": SYNC_UPN}, **LOOPBACK
    )
    Group.objects.get(name="admin").user_set.clear()
    done = follow_to_callback(admin_client, callback_location(graphsim, authority_link(resp)))
    assert done.status_code == 403
    assert not SyncAccount.objects.exists()
