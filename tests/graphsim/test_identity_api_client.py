"""Contract §11: the automation client, a second app registration, gets app-only tokens for the
portal's own API by client credentials (with real MSAL), and nothing else."""

from __future__ import annotations

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
