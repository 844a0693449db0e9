"""Contract §1: discovery, authorize, token (auth code + PKCE + nonce, refresh, client
credentials), JWKS, logout, token hooks — with real MSAL."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import pytest

from tests.support.graphsim import DELEGATED, REDIRECT

pytestmark = pytest.mark.filterwarnings("ignore:response_mode:UserWarning")


def _discovery(sim):
    r = sim.http.get(sim.info["authority"] + "/v2.0/.well-known/openid-configuration", timeout=10)
    assert r.status_code == 200
    return r.json()


def _authorize(sim, query: dict):
    """The authorize endpoint as a browser meets it, its redirect not followed."""
    url = sim.info["authority"] + "/oauth2/v2.0/authorize?" + urlencode(query)
    return sim.http.get(url, allow_redirects=False, timeout=10)


def _code_query(sim, **fields) -> dict:
    """An authorize query for a code for the portal's app (openid, to its redirect URI), with
    `fields` changed or added."""
    return {
        "client_id": sim.info["client_id"],
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid",
        **fields,
    }


def _verify(sim, token: str, aud: str) -> dict:
    jwks = sim.http.get(_discovery(sim)["jwks_uri"], timeout=10).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    return jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=aud)


def test_discovery_document(sim):
    d = _discovery(sim)
    a = sim.info["authority"]
    assert d["issuer"] == a + "/v2.0"
    assert d["authorization_endpoint"] == a + "/oauth2/v2.0/authorize"
    assert d["token_endpoint"] == a + "/oauth2/v2.0/token"
    assert d["end_session_endpoint"] == a + "/oauth2/v2.0/logout"
    keys = sim.http.get(d["jwks_uri"], timeout=10).json()["keys"]
    assert keys and keys[0]["kty"] == "RSA" and keys[0]["kid"]


def test_info_line_is_deterministic_from_seed(sim):
    info = sim.info
    assert info["graph"].startswith("https://127.0.0.1:")
    assert info["authority"] == f"{info['graph']}/{info['tenant']}"
    assert info["sim"] == info["graph"] + "/_sim"
    # same seed in /_sim/info, and the state dir copy is the same line
    with open(info["_state_dir"] + "/graphsim.json") as f:
        saved = json.load(f)
    assert saved["client_secret"] == info["client_secret"]
    assert saved["tenant"] == info["tenant"]


def test_msal_auth_code_flow_nonce_roles_and_client_info(sim):
    app = sim.msal_app()
    flow = app.initiate_auth_code_flow(
        DELEGATED, redirect_uri=REDIRECT, login_hint="admin@contoso.test"
    )
    sent = dict(parse_qsl(urlsplit(flow["auth_uri"]).query))
    assert sent["code_challenge_method"] == "S256"
    r = sim.http.get(flow["auth_uri"], allow_redirects=False, timeout=10)
    assert r.status_code == 302
    back = dict(parse_qsl(urlsplit(r.headers["location"]).query))
    assert back["state"] == flow["state"] and back["code"]
    result = app.acquire_token_by_auth_code_flow(flow, back)
    assert "access_token" in result, result
    claims = _verify(sim, result["id_token"], sim.info["client_id"])
    assert claims["nonce"] == sent["nonce"]
    assert claims["tid"] == sim.info["tenant"]
    assert claims["preferred_username"] == "admin@contoso.test"
    assert claims["name"] == "Adele Admin"
    assert claims["roles"] == ["admin"]
    assert claims["iss"] == sim.info["authority"] + "/v2.0"
    assert claims["exp"] > claims["iat"] >= claims["nbf"]
    ci = json.loads(base64.urlsafe_b64decode(result["client_info"] + "=="))
    assert ci == {"uid": claims["oid"], "utid": sim.info["tenant"]}
    at = _verify(sim, result["access_token"], "https://graph.microsoft.com")
    assert set(at["scp"].split()) >= {"User.Read", "User.Read.All", "CallDelegation.Read"}
    assert at["oid"] == claims["oid"]
    assert result["expires_in"] >= 3600 - 5
    assert "refresh_token" in result


def test_person_without_role_has_no_roles_claim(sim):
    result = sim.login("nobody@contoso.test")
    assert "roles" not in result["id_token_claims"]


def _raw_code(sim, upn="helpdesk@contoso.test", verifier=None):
    verifier = verifier or secrets.token_urlsafe(40)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    q = _code_query(
        sim,
        scope="openid profile offline_access User.Read",
        state="s1",
        nonce="n-1",
        code_challenge=challenge.rstrip(b"=").decode(),
        code_challenge_method="S256",
        login_hint=upn,
    )
    r = _authorize(sim, q)
    assert r.status_code == 302, r.text
    return dict(parse_qsl(urlsplit(r.headers["location"]).query))["code"], verifier


def _redeem(sim, code, verifier, **extra):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": sim.info["client_id"],
        "client_secret": sim.info["client_secret"],
        "code_verifier": verifier,
        "scope": "openid profile offline_access User.Read",
    }
    data.update(extra)
    return sim.http.post(sim.info["authority"] + "/oauth2/v2.0/token", data=data, timeout=10)


def _oauth_error_shape(r, error):
    body = r.json()
    assert body["error"] == error, body
    for k in ("error_description", "error_codes", "timestamp", "trace_id", "correlation_id"):
        assert k in body
    assert body["error_description"].startswith("AADSTS")


def test_pkce_bad_verifier_rejected_and_code_single_use(sim):
    code, verifier = _raw_code(sim)
    r = _redeem(sim, code, "wrong-" + verifier)
    assert r.status_code == 400
    _oauth_error_shape(r, "invalid_grant")
    code, verifier = _raw_code(sim)
    r = _redeem(sim, code, verifier)
    assert r.status_code == 200, r.text
    assert r.json()["id_token"]
    r = _redeem(sim, code, verifier)
    assert r.status_code == 400
    _oauth_error_shape(r, "invalid_grant")
    assert r.json()["error_codes"] == [54005]


def test_code_expires(sim):
    code, verifier = _raw_code(sim)
    sim.hook("tokens", {"expire_codes": True})
    r = _redeem(sim, code, verifier)
    assert r.status_code == 400
    assert r.json()["error_codes"] == [70008]


def test_client_secret_checked_post_and_basic(sim):
    code, verifier = _raw_code(sim)
    r = _redeem(sim, code, verifier, client_secret="nope")
    assert r.status_code == 401
    _oauth_error_shape(r, "invalid_client")
    r = sim.http.post(
        sim.info["authority"] + "/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"},
        auth=(sim.info["client_id"], sim.info["client_secret"]),
        timeout=10,
    )
    assert r.status_code == 200, r.text


def test_refresh_and_revocation_with_msal(sim):
    app = sim.msal_app()
    sim.login("deputy@contoso.test", app=app)
    account = app.get_accounts(username="deputy@contoso.test")[0]
    r = app.acquire_token_silent_with_error(DELEGATED, account, force_refresh=True)
    assert r and "access_token" in r, r
    assert sim.hook("tokens", {"revoke": "deputy@contoso.test"}).json()["revoked"] >= 1
    r = app.acquire_token_silent_with_error(DELEGATED, account, force_refresh=True)
    assert r["error"] == "invalid_grant"
    assert "AADSTS50173" in r["error_description"]


def test_expire_all_refresh_tokens(sim):
    app = sim.msal_app()
    sim.login("manager@contoso.test", app=app)
    account = app.get_accounts()[0]
    sim.hook("tokens", {"expire_all_refresh": True})
    r = app.acquire_token_silent_with_error(DELEGATED, account, force_refresh=True)
    assert r["error"] == "invalid_grant"


def test_client_credentials_with_msal(sim):
    r = sim.msal_app().acquire_token_for_client(["https://graph.microsoft.com/.default"])
    claims = _verify(sim, r["access_token"], "https://graph.microsoft.com")
    assert "Calls.Initiate.All" in claims["roles"] and "User.Read.All" in claims["roles"]
    assert "CallDelegation.Read.All" not in claims["roles"]
    assert "scp" not in claims
    bad = sim.client_credentials("User.Read")
    assert bad.status_code == 400
    _oauth_error_shape(bad, "invalid_scope")


def test_app_delegation_role_switch(sim):
    sim.faults(app_delegation_read=True)
    claims = jwt.decode(sim.app_token(), options={"verify_signature": False})
    assert "CallDelegation.Read.All" in claims["roles"]


def test_authorize_page_cancel_and_unknown_hint(sim):
    q = _code_query(sim, state="st<>")
    url = sim.info["authority"] + "/oauth2/v2.0/authorize?" + urlencode(q)
    page = sim.http.get(url, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "boss@contoso.test" in page.text and "Cancel" in page.text
    assert "<script>alert" not in page.text  # everything escaped
    assert "st&lt;&gt;" in page.text
    r = sim.http.post(url, data={**q, "cancel": "1"}, allow_redirects=False, timeout=10)
    assert r.status_code == 302
    back = dict(parse_qsl(urlsplit(r.headers["location"]).query))
    assert back["error"] == "access_denied" and back["state"] == "st<>"
    assert back["error_description"]
    r = sim.http.get(url + "&login_hint=ghost%40contoso.test", timeout=10)
    assert r.status_code == 200 and "does not exist" in r.text
    r = sim.http.post(
        url, data={**q, "login_hint": "nobody@contoso.test"}, allow_redirects=False, timeout=10
    )
    assert r.status_code == 302 and "code=" in r.headers["location"]
    r = sim.http.get(url + "&login_hint=nobody%40contoso.test&prompt=login", timeout=10)
    assert r.status_code == 200 and "<form" in r.text


def test_authorize_rejects_foreign_redirect_uri(sim):
    q = _code_query(sim, redirect_uri="https://evil.example/cb", login_hint="nobody@contoso.test")
    r = _authorize(sim, q)
    assert r.status_code == 400 and "AADSTS50011" in r.text


def test_logout_redirects(sim):
    end = _discovery(sim)["end_session_endpoint"]
    r = sim.http.get(
        end + "?" + urlencode({"post_logout_redirect_uri": "http://localhost:8000/"}),
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302 and r.headers["location"] == "http://localhost:8000/"
    r = sim.http.get(end, timeout=10)
    assert r.status_code == 200 and "signed out" in r.text


def test_token_endpoint_fail_and_slow_hooks(sim):
    sim.hook("tokens", {"fail_next": 1})
    r = sim.client_credentials()
    assert r.status_code == 500
    assert sim.app_token()
    sim.hook("tokens", {"slow_next": 1, "slow_ms": 400})
    import time

    t0 = time.monotonic()
    sim.app_token()
    assert time.monotonic() - t0 >= 0.35


@pytest.mark.parametrize("upn", ["disabled@contoso.test"])
def test_disabled_account_cannot_sign_in(sim, upn):
    q = _code_query(sim, login_hint=upn)
    r = _authorize(sim, q)
    assert r.status_code == 200 and "AADSTS50057" in r.text
