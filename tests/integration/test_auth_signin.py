"""Sign-in through real MSAL against graphsim over HTTPS: people, roles, tokens, sign-out."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal import token_store
from portal.models import AuditEvent, TokenCache, User
from portal.roles import user_roles
from tests.support.signin import LOOPBACK, callback_location, follow_to_callback, start_login

pytestmark = pytest.mark.django_db


def signed_in_user(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


@pytest.mark.parametrize("role", ["admin", "helpdesk", "manager"])
def test_each_role_signs_in_and_gets_exactly_its_role(client, msal_login, sim, role):
    upn = f"{role}@contoso.test"
    resp = msal_login(client, upn)
    assert resp.status_code == 302
    assert resp["Location"] == reverse("portal:home")
    user = signed_in_user(client)
    truth = sim.get(f"users/{upn}")
    assert (user.object_id, user.tenant_id) == (truth["id"], sim.info["tenant"])
    assert user.upn == upn
    assert user.display_name == truth["displayName"]
    assert user_roles(user) == [role]
    assert AuditEvent.objects.filter(action="signin", outcome="success", actor=user).exists()


def test_person_with_a_role_lands_on_their_delegations(client, msal_login):
    msal_login(client, "helpdesk@contoso.test")
    assert client.get(reverse("portal:home"))["Location"] == reverse("delegation:mine")


def test_person_without_a_role_is_told_whom_to_ask(client, msal_login):
    msal_login(client, "nobody@contoso.test")
    user = signed_in_user(client)
    assert user is not None and user_roles(user) == []
    home = client.get(reverse("portal:home"))
    assert home["Location"] == reverse("portal:no_access")
    page = client.get(reverse("portal:no_access"))
    assert page.status_code == 200
    assert b"Ask your Microsoft Entra administrator" in page.content


def test_delegate_without_a_role_lands_on_their_delegations(client, msal_login, sim):
    from delegation.models import Delegation, DirectoryUser

    now = timezone.now()
    people = {
        who: DirectoryUser.objects.create(
            object_id=sim.get(f"users/{who}@contoso.test")["id"], first_seen=now, updated_at=now
        )
        for who in ("boss", "assistant")
    }
    Delegation.objects.create(
        delegator=people["boss"],
        delegate=people["assistant"],
        make_calls=True,
        first_seen=now,
        last_changed=now,
    )
    msal_login(client, "assistant@contoso.test")
    assert client.get(reverse("portal:home"))["Location"] == reverse("delegation:mine")


def test_a_role_removed_in_entra_is_gone_at_the_next_sign_in(client, msal_login, sim):
    msal_login(client, "manager@contoso.test")
    user = signed_in_user(client)
    assert user_roles(user) == ["manager"]
    sim.post("tenant", {"users": {"update": [{"id": user.object_id, "roles": ["helpdesk"]}]}})
    msal_login(Client(), "manager@contoso.test")
    assert user_roles(user) == ["helpdesk"]
    change = AuditEvent.objects.filter(action="role.change").first()
    assert change.detail == {"added": ["helpdesk"], "removed": ["manager"]}


def test_group_ids_in_settings_grant_roles_and_take_them_away(client, msal_login, sim, settings):
    boss = sim.get("users/boss@contoso.test")
    settings.MS_GROUP_ROLES = {boss["groups"][0]: "manager"}
    msal_login(client, "boss@contoso.test")
    user = signed_in_user(client)
    assert user_roles(user) == ["manager"]
    sim.post("tenant", {"users": {"update": [{"id": boss["id"], "groups": []}]}})
    msal_login(Client(), "boss@contoso.test")
    assert user_roles(user) == []


def test_name_and_upn_are_refreshed_at_each_sign_in(client, msal_login, sim):
    msal_login(client, "deputy@contoso.test")
    user = signed_in_user(client)
    sim.post(
        "tenant",
        {"users": {"update": [{"id": user.object_id, "displayName": "Dev Renamed"}]}},
    )
    msal_login(Client(), "deputy@contoso.test")
    user.refresh_from_db()
    assert user.display_name == "Dev Renamed"
    assert User.objects.filter(object_id=user.object_id).count() == 1


def test_next_is_honoured_for_a_path_of_this_site(client, msal_login):
    resp = msal_login(client, "admin@contoso.test", next_url="/admin-tools/audit?page=2")
    assert resp["Location"] == "/admin-tools/audit?page=2"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/x", "/\\evil.example"]
)
def test_next_to_another_site_is_ignored(client, msal_login, next_url):
    resp = msal_login(client, "admin@contoso.test", next_url=next_url)
    assert resp["Location"] == reverse("portal:home")


def test_the_session_key_changes_at_sign_in(client, msal_login, graphsim):
    authorize_url = start_login(client, "helpdesk@contoso.test")
    before = client.session.session_key
    follow_to_callback(client, callback_location(graphsim, authorize_url))
    assert client.session.session_key != before
    assert signed_in_user(client) is not None


def test_two_tabs_signing_in_at_once_both_succeed(client, graph_settings, graphsim):
    first = start_login(client, "helpdesk@contoso.test")
    second = start_login(client, "helpdesk@contoso.test")
    assert follow_to_callback(client, callback_location(graphsim, second)).status_code == 302
    assert follow_to_callback(client, callback_location(graphsim, first)).status_code == 302


def test_the_authorize_request_uses_pkce_nonce_and_query_response_mode(client, graph_settings):
    query = parse_qs(urlsplit(start_login(client, "admin@contoso.test")).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["response_mode"] == ["query"]
    assert query["nonce"] and query["state"]
    assert query["redirect_uri"] == ["http://localhost/auth/callback"]


def test_the_token_cache_is_stored_encrypted_and_gives_a_delegated_token(client, msal_login):
    msal_login(client, "helpdesk@contoso.test")
    user = signed_in_user(client)
    stored = bytes(TokenCache.objects.get(user=user).ciphertext)
    assert b"refresh_token" not in stored and b"RefreshToken" not in stored
    assert "token" not in str(dict(client.session)).lower()
    provider = token_store.user_token_provider(user, ["User.Read"])
    assert provider is not None and provider().count(".") == 2


def test_someone_who_never_signed_in_has_no_delegated_token(make_user):
    assert token_store.user_token_provider(make_user("helpdesk"), ["User.Read"]) is None


def test_sign_out_forgets_tokens_and_session_and_goes_to_the_authority(client, msal_login, sim):
    msal_login(client, "manager@contoso.test")
    user = signed_in_user(client)
    resp = client.post(reverse("portal:logout"), **LOOPBACK)
    assert resp.status_code == 200  # a page that moves on to the authority (CSP form-action)
    logout_url = resp.context["logout_url"]
    assert f'content="0; url={logout_url.replace("&", "&amp;")}"'.encode() in resp.content
    target = urlsplit(logout_url)
    assert logout_url.startswith(sim.info["authority"] + "/oauth2/v2.0/logout")
    back = parse_qs(target.query)["post_logout_redirect_uri"]
    assert back == ["http://localhost/auth/login?signed_out=1"]
    assert signed_in_user(client) is None
    assert not TokenCache.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="signout", actor=user).exists()
    assert client.get(reverse("portal:home"))["Location"].startswith(reverse("portal:login"))


def test_sign_out_works_while_the_authority_is_down(client, msal_login, graph_settings):
    msal_login(client, "manager@contoso.test")
    graph_settings.MS_AUTHORITY = "https://127.0.0.1:9/contoso"
    resp = client.post(reverse("portal:logout"), **LOOPBACK)
    assert resp.status_code == 200
    assert resp.context["logout_url"].startswith("https://127.0.0.1:9/contoso/oauth2/v2.0/logout?")
    assert signed_in_user(client) is None


def test_sign_out_is_post_only(client, msal_login):
    msal_login(client, "manager@contoso.test")
    assert client.get(reverse("portal:logout")).status_code == 405
    assert signed_in_user(client) is not None


def test_anonymous_visitors_are_sent_to_the_sign_in_page(client):
    resp = client.get(reverse("portal:audit"))
    assert resp.status_code == 302
    assert resp["Location"] == f"{reverse('portal:login')}?next=/admin-tools/audit"


def test_the_sign_in_page_offers_the_microsoft_button(client):
    page = client.get(reverse("portal:login"), {"next": "/admin-tools/audit"})
    assert page.status_code == 200
    assert b"Sign in with Microsoft" in page.content
    assert b'href="/auth/login?start=1&amp;next=%2Fadmin-tools%2Faudit"' in page.content
