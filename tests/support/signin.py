"""Signing a Django test client in through the REAL flow: our login view, graphsim's authorize
endpoint (over HTTPS, with `requests`), our callback."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

# graphsim accepts any loopback redirect URI; the test client's default host is "testserver".
LOOPBACK = {"SERVER_NAME": "localhost"}


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


def msal_login(graphsim: dict, client, upn: str, next_url: str | None = None):
    """Sign `client` in as `upn` through real MSAL and graphsim; returns the callback response."""
    authorize_url = start_login(client, upn, next_url)
    return follow_to_callback(client, callback_location(graphsim, authorize_url))
