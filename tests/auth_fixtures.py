"""Sign-in fixtures shared by every test package.

- `make_user(role=None, upn=..., object_id=...)`: a portal user in a role group, without MSAL, for
  fast view tests with `client.force_login(user)`.
- `msal_login(client, upn, next_url=None)`: signs a Django test client in through the REAL flow:
  our login view, graphsim's authorize endpoint (over HTTPS, with `requests`), our callback.
- `signed_in_client(upn)`: a new test client signed in through `msal_login`.
"""

from __future__ import annotations

import html
import re
import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest

# graphsim accepts any loopback redirect URI; the test client's default host is "testserver".
LOOPBACK = {"SERVER_NAME": "localhost"}
TEST_TENANT = "00000000-0000-4000-8000-00000000c0de"


@pytest.fixture
def make_user(db):
    from django.contrib.auth.models import Group

    from portal.models import User
    from portal.permissions import sync_role_groups
    from portal.roles import ROLES

    def make(role: str | None = None, upn: str | None = None, object_id: str | None = None):
        if role is not None and role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        object_id = object_id or str(uuid.uuid4())
        upn = upn or f"{role or 'norole'}-{object_id[:8]}@contoso.test"
        user = User.objects.create(
            username=f"{object_id}@{TEST_TENANT}",
            tenant_id=TEST_TENANT,
            object_id=object_id,
            upn=upn,
            display_name=upn.split("@")[0].title(),
        )
        if role:
            if not Group.objects.filter(name=role).exists():
                sync_role_groups()  # a flushed transactional database lost them
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


def authorize(graphsim: dict, authorize_url: str):
    """GET graphsim's authorize URL like a browser would, without following the redirect."""
    import requests

    with requests.Session() as session:
        session.trust_env = False
        return session.get(authorize_url, verify=graphsim["ca"], allow_redirects=False, timeout=30)


def start_login(client, upn: str, next_url: str | None = None) -> str:
    """Our login view with a login_hint; returns the authority URL it redirects to."""
    from django.urls import reverse

    params = {"login_hint": upn, **({"next": next_url} if next_url else {})}
    resp = client.get(reverse("portal:login"), params, **LOOPBACK)
    assert resp.status_code == 302, f"login did not redirect: {resp.status_code}"
    return resp["Location"]


def follow_to_callback(client, location: str):
    """Deliver the authority's redirect (our callback URL) to the Django test client."""
    parts = urlsplit(location)
    return client.get(parts.path, dict(parse_qsl(parts.query)), **LOOPBACK)


def authority_link(page) -> str:
    """The authority URL a "continuing to Microsoft" page moves on to (its fallback link)."""
    found = re.search(r'id="authority-continue" href="([^"]+)"', page.content.decode())
    assert found, "the page does not move on to the authority"
    return html.unescape(found.group(1))


def callback_location(graphsim: dict, authorize_url: str) -> str:
    answer = authorize(graphsim, authorize_url)
    assert answer.status_code == 302, f"graphsim did not redirect back: {answer.text[:300]}"
    return answer.headers["Location"]


@pytest.fixture
def msal_login(graph_settings, graphsim, db):
    """Sign `client` in as `upn` through real MSAL and graphsim; returns the callback response."""

    def login(client, upn: str, next_url: str | None = None):
        authorize_url = start_login(client, upn, next_url)
        return follow_to_callback(client, callback_location(graphsim, authorize_url))

    return login


@pytest.fixture
def signed_in_client(msal_login):
    """Factory: a new Django test client signed in as `upn` through the real flow."""
    from django.test import Client

    def make(upn: str) -> Client:
        client = Client()
        resp = msal_login(client, upn)
        assert resp.status_code == 302, f"sign-in as {upn} failed: {resp.status_code}"
        return client

    return make
