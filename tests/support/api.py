"""The automation API as a client sees it: a client-credentials token from graphsim's second app
registration (over HTTPS), and calls with that bearer token through Django's test client."""

from __future__ import annotations

import uuid

import pytest
import requests


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


def idempotency_key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def api_token(graph_settings, graphsim) -> str:
    """A real app-only token for our API; the portal's settings point at graphsim."""
    return client_credentials_token(graphsim)


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
