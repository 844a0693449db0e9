"""An Entra token for the ACS scope from graphsim, the way the phone page's consent would get
one: authorize with a login_hint, then redeem the code. Shared by the portal and browser tests."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import jwt
import requests

ACS_SCOPE = "https://auth.msft.communication.azure.com/Teams.ManageCalls"
REDIRECT = "http://localhost:8765/auth/callback"  # graphsim accepts any loopback redirect


def teams_calling_token(graphsim: dict, upn: str, scope: str = ACS_SCOPE) -> tuple[str, dict]:
    """(access token, its claims) for `upn` and `scope`, from graphsim's real endpoints."""
    with requests.Session() as http:
        http.trust_env = False
        http.verify = graphsim["ca"]
        answer = http.get(
            graphsim["authority"] + "/oauth2/v2.0/authorize",
            params={
                "client_id": graphsim["client_id"],
                "response_type": "code",
                "redirect_uri": REDIRECT,
                "scope": f"{scope} openid profile",
                "login_hint": upn,
            },
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302, answer.text[:300]
        code = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))["code"]
        token = http.post(
            graphsim["authority"] + "/oauth2/v2.0/token",
            data={
                "grant_type": "authorization_code",
                "client_id": graphsim["client_id"],
                "client_secret": graphsim["client_secret"],
                "code": code,
                "redirect_uri": REDIRECT,
                "scope": scope,
            },
            timeout=30,
        )
        assert token.status_code == 200, token.text[:300]
    access = token.json()["access_token"]
    return access, jwt.decode(access, options={"verify_signature": False})
