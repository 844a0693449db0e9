"""Contract §11: the automation client, a second app registration, gets app-only tokens for the
portal's own API by client credentials (with real MSAL), and nothing else."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import jwt
import msal

API_ROLES = {"Delegation.Read.All", "Delegation.ReadWrite.All", "Calls.Initiate"}


def _automation_client(sim, secret=None) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        sim.info["api_client_id"],
        client_credential=secret or sim.info["api_client_secret"],
        authority=sim.info["authority"],
        instance_discovery=False,
        http_client=sim.http,
    )


def _keys(sim) -> dict:
    config = sim.http.get(sim.info["authority"] + "/v2.0/.well-known/openid-configuration").json()
    return {k["kid"]: k for k in sim.http.get(config["jwks_uri"]).json()["keys"]}, config


def test_automation_client_gets_a_signed_token_for_our_api_with_its_app_roles(sim):
    assert sim.info["api_client_id"] != sim.info["client_id"]
    app_id_uri = f"api://{sim.info['client_id']}"
    assert sim.info["api_scope"] == f"{app_id_uri}/.default"
    result = _automation_client(sim).acquire_token_for_client([sim.info["api_scope"]])
    token = result["access_token"]
    keys, config = _keys(sim)
    key = jwt.PyJWK(keys[jwt.get_unverified_header(token)["kid"]]).key
    claims = jwt.decode(
        token, key, algorithms=["RS256"], audience=app_id_uri, issuer=config["issuer"]
    )
    assert set(claims["roles"]) == API_ROLES and claims["idtyp"] == "app"
    assert claims["azp"] == sim.info["api_client_id"] and claims["tid"] == sim.info["tenant"]
    assert "scp" not in claims


def test_automation_client_with_a_wrong_secret_or_for_graph_is_refused(sim):
    wrong = _automation_client(sim, secret="not-the-secret")
    assert wrong.acquire_token_for_client([sim.info["api_scope"]])["error"] == "invalid_client"
    graph = _automation_client(sim).acquire_token_for_client(
        ["https://graph.microsoft.com/.default"]
    )
    assert graph["error"] == "invalid_scope"


def test_the_portals_own_registration_gets_no_api_roles(sim):
    result = sim.msal_app().acquire_token_for_client([sim.info["api_scope"]])
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["roles"] == [] and claims["aud"] == f"api://{sim.info['client_id']}"


def _as_person(sim, upn: str, scopes: list[str]) -> dict:
    """The automation client's auth-code flow (real MSAL) for `upn`: MSAL's whole answer."""
    return sim.login(upn, scopes, app=_automation_client(sim))


def test_a_person_lets_the_automation_client_call_our_api_as_them(sim):
    assert sim.info["api_user_scope"] == f"api://{sim.info['client_id']}/access_as_user"
    result = _as_person(sim, "helpdesk@contoso.test", [sim.info["api_user_scope"]])
    token = result["access_token"]
    keys, config = _keys(sim)
    key = jwt.PyJWK(keys[jwt.get_unverified_header(token)["kid"]]).key
    claims = jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=f"api://{sim.info['client_id']}",
        issuer=config["issuer"],
    )
    person = sim.get("/v1.0/users/helpdesk@contoso.test", sim.app_token()).json()
    assert claims["oid"] == person["id"] and claims["scp"] == "access_as_user"
    assert claims["azp"] == sim.info["api_client_id"] and "idtyp" not in claims
    assert result["id_token_claims"]["aud"] == sim.info["api_client_id"]
    # The refresh token gives the same kind of token again.
    refreshed = sim.http.post(
        sim.info["authority"] + "/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "client_id": sim.info["api_client_id"],
            "client_secret": sim.info["api_client_secret"],
            "refresh_token": result["refresh_token"],
            "scope": sim.info["api_user_scope"],
        },
        timeout=10,
    ).json()
    again = jwt.decode(refreshed["access_token"], options={"verify_signature": False})
    assert (again["oid"], again["scp"], again["aud"]) == (
        claims["oid"],
        "access_as_user",
        claims["aud"],
    )


def test_the_automation_client_gets_no_graph_token_for_a_person_and_no_unknown_api_scope(sim):
    app = _automation_client(sim)
    for scopes in (["User.Read"], [f"api://{sim.info['client_id']}/Nothing.Here"]):
        flow = app.initiate_auth_code_flow(
            scopes, redirect_uri="http://localhost:8765/cb", login_hint="boss@contoso.test"
        )
        answer = sim.http.get(flow["auth_uri"], allow_redirects=False, timeout=10)
        back = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
        result = app.acquire_token_by_auth_code_flow(flow, back)
        assert result["error"] == "invalid_scope", result


def test_the_automation_client_holds_the_app_roles_an_admin_granted_it(sim):
    sim.faults(api_client_roles=["Calls.Initiate"])
    result = _automation_client(sim).acquire_token_for_client([sim.info["api_scope"]])
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["roles"] == ["Calls.Initiate"]
    sim.faults(api_client_roles=[])
    result = _automation_client(sim).acquire_token_for_client([sim.info["api_scope"]])
    assert jwt.decode(result["access_token"], options={"verify_signature": False})["roles"] == []
