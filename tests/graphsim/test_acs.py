"""Contract §8: graphsim's ACS identity endpoint, through the real `azure-communication-identity`
client over HTTPS, and the refusals (wrong key, wrong user, stale date, another app's token)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

import jwt
import pytest
from azure.communication.identity import CommunicationIdentityClient
from azure.core.exceptions import HttpResponseError

ACS_SCOPE = "https://auth.msft.communication.azure.com/Teams.ManageCalls"
PATH = "/teamsUser/:exchangeAccessToken?api-version=2023-10-01"


def acs_client(sim, connection_string: str | None = None) -> CommunicationIdentityClient:
    return CommunicationIdentityClient.from_connection_string(
        connection_string or sim.info["acs_connection_string"],
        connection_verify=sim.ca,
        use_env_settings=False,
        retry_total=0,
    )


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture(scope="module")
def teams_token(sim) -> str:
    """Ari Assistant's Entra token for the ACS resource, through MSAL's auth-code flow."""
    return sim.user_token("assistant@contoso.test", [ACS_SCOPE])


def signed_post(sim, body: dict, *, key: str | None = None, signed_at: datetime | None = None):
    """The request the SDK makes, signed by hand: to send what the SDK never would."""
    conn = dict(part.split("=", 1) for part in sim.info["acs_connection_string"].split(";"))
    key = key or conn["accesskey"]
    host = urlsplit(sim.info["acs_endpoint"]).netloc
    raw = json.dumps(body).encode()
    date = format_datetime(signed_at or datetime.now(UTC), usegmt=True)
    content_hash = base64.b64encode(hashlib.sha256(raw).digest()).decode()
    to_sign = f"POST\n{PATH}\n{date};{host};{content_hash}".encode()
    mac = hmac.new(base64.b64decode(key), to_sign, hashlib.sha256).digest()
    headers = {
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Content-Type": "application/json",
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
        f"&Signature={base64.b64encode(mac).decode()}",
    }
    return sim.http.post(sim.info["acs_endpoint"] + PATH, data=raw, headers=headers, timeout=10)


def test_ready_line_names_the_acs_endpoint_and_its_connection_string(sim):
    endpoint = sim.info["acs_endpoint"]
    assert endpoint == sim.info["graph"]
    conn = sim.info["acs_connection_string"]
    assert conn.startswith(f"endpoint={endpoint}/;accesskey=")
    assert len(base64.b64decode(conn.split("accesskey=", 1)[1])) == 64


def test_entra_token_for_acs_scope_has_acs_audience_and_teams_scope(teams_token):
    claims = claims_of(teams_token)
    assert claims["aud"] == "https://auth.msft.communication.azure.com"
    assert claims["scp"].split() == ["Teams.ManageCalls"]


def test_real_client_exchanges_a_teams_users_token_for_an_acs_token(sim, teams_token):
    entra = claims_of(teams_token)
    result = acs_client(sim).get_token_for_teams_user(
        teams_token, sim.info["client_id"], entra["oid"]
    )
    acs = claims_of(result.token)
    assert acs["skypeid"] == f"orgid:{entra['oid']}"
    assert acs["acsScope"] == "voip"
    assert acs["tid"] == sim.info["tenant"]
    # It ends when the Entra token does; the client hands back the expiry as it came.
    assert acs["exp"] == entra["exp"]
    assert datetime.fromisoformat(str(result.expires_on)).timestamp() == entra["exp"]


def refusal(call) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as caught:
        call()
    return caught.value


def test_a_wrong_access_key_is_denied(sim, teams_token):
    wrong_key = base64.b64encode(b"k" * 64).decode()
    conn = f"endpoint={sim.info['acs_endpoint']}/;accesskey={wrong_key}"
    entra = claims_of(teams_token)
    err = refusal(
        lambda: acs_client(sim, conn).get_token_for_teams_user(
            teams_token, sim.info["client_id"], entra["oid"]
        )
    )
    assert (err.status_code, err.error.code) == (401, "Denied")


def test_another_users_object_id_is_refused(sim, teams_token):
    other = sim.user("boss@contoso.test")["id"]
    err = refusal(
        lambda: acs_client(sim).get_token_for_teams_user(teams_token, sim.info["client_id"], other)
    )
    assert (err.status_code, err.error.code) == (401, "InvalidAccessToken")


def test_a_token_named_for_another_app_is_refused(sim, teams_token):
    entra = claims_of(teams_token)
    err = refusal(
        lambda: acs_client(sim).get_token_for_teams_user(
            teams_token, "11111111-2222-4333-8444-555555555555", entra["oid"]
        )
    )
    assert (err.status_code, err.error.code) == (401, "InvalidAccessToken")


def test_a_graph_token_is_not_a_token_for_acs(sim):
    graph_token = sim.user_token("assistant@contoso.test")
    oid = claims_of(graph_token)["oid"]
    err = refusal(
        lambda: acs_client(sim).get_token_for_teams_user(graph_token, sim.info["client_id"], oid)
    )
    assert (err.status_code, err.error.code) == (401, "InvalidAccessToken")


def test_a_signature_older_than_15_minutes_is_denied(sim, teams_token):
    entra = claims_of(teams_token)
    body = {"token": teams_token, "appId": sim.info["client_id"], "userId": entra["oid"]}
    fresh = signed_post(sim, body, signed_at=datetime.now(UTC) - timedelta(minutes=14))
    assert fresh.status_code == 200, fresh.text
    stale = signed_post(sim, body, signed_at=datetime.now(UTC) - timedelta(minutes=16))
    assert stale.status_code == 401
    assert stale.json()["error"]["code"] == "Denied"


def test_an_unsigned_or_tampered_request_is_denied(sim, teams_token):
    url = sim.info["acs_endpoint"] + PATH
    unsigned = sim.http.post(url, json={"token": teams_token}, timeout=10)
    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (401, "Denied")
    good = signed_post(sim, {"token": teams_token, "appId": "a", "userId": "b"})
    assert good.json()["error"]["code"] == "InvalidAccessToken"  # signed well, refused later
    headers = {k: v for k, v in good.request.headers.items() if k.lower() != "content-length"}
    tampered = sim.http.post(
        url, data=b'{"token": "x", "appId": "a", "userId": "c"}', headers=headers
    )
    assert (tampered.status_code, tampered.json()["error"]["code"]) == (401, "Denied")
