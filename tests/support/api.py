"""The automation API as a client sees it: tokens from graphsim's second app registration (the
automation client) over HTTPS, app-only by client credentials or a person's through the
auth-code flow (real MSAL), and calls with that bearer token through Django's test client."""

from __future__ import annotations

import uuid

import msal
import pytest
import requests

from tests.support.graphsim import GraphSim, session_for


def client_credentials_token(graphsim: dict, scope: str | None = None, client: str = "api_") -> str:
    """A client-credentials token: the automation client's (`api_`) or the portal's (`""`)."""
    with requests.Session() as session:
        session.trust_env = False
        answer = session.post(
            graphsim["authority"] + "/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": graphsim[f"{client}client_id"],
                "client_secret": graphsim[f"{client}client_secret"],
                "scope": scope or graphsim["api_scope"],
            },
            verify=graphsim["ca"],
            timeout=30,
        )
    answer.raise_for_status()
    return answer.json()["access_token"]


def automation_client(graphsim: dict) -> msal.ConfidentialClientApplication:
    """The automation client as MSAL knows it (what a script or a ticketing tool would run)."""
    return msal.ConfidentialClientApplication(
        graphsim["api_client_id"],
        client_credential=graphsim["api_client_secret"],
        authority=graphsim["authority"],
        instance_discovery=False,
        http_client=session_for(graphsim["ca"]),
    )


def msal_app_token(graphsim: dict) -> str:
    """An app-only token for our API acquired by MSAL with client credentials."""
    result = automation_client(graphsim).acquire_token_for_client([graphsim["api_scope"]])
    assert "access_token" in result, result
    return result["access_token"]


def person_token(graphsim: dict, upn: str, scopes: list[str] | None = None) -> str:
    """`upn`'s delegated token for our API, held by the automation client (auth-code flow with
    MSAL, the person picked at graphsim's sign-in by login_hint)."""
    wanted = scopes or [graphsim["api_user_scope"]]
    return GraphSim(graphsim).login(upn, wanted, app=automation_client(graphsim))["access_token"]


def idempotency_key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def api_token(graph_settings, graphsim) -> str:
    """A real app-only token for our API; the portal's settings point at graphsim."""
    return client_credentials_token(graphsim)


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
