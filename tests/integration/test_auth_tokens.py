"""App-only tokens through real MSAL against graphsim."""

from __future__ import annotations

import jwt
import pytest

from portal.graph import tokens
from portal.graph.errors import NotConfigured, TokenUnavailable

pytestmark = pytest.mark.django_db


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_app_token_is_an_app_only_graph_token(graph_settings, graphsim):
    token = tokens.app_token_provider()()
    claims = _claims(token)
    assert claims["idtyp"] == "app"
    assert claims["appid"] == graphsim["client_id"]


def test_app_token_is_served_from_msal_cache_the_second_time(graph_settings, sim):
    provider = tokens.app_token_provider()
    first = provider()
    # The first token may itself come from this process's MSAL cache (an earlier test asked for
    # one), and then graphsim has issued none since its counters were reset.
    issued = sim.get("stats")["tokens_issued"].get("app", 0)
    assert provider() == first
    assert sim.get("stats")["tokens_issued"].get("app", 0) == issued


def test_force_refresh_gets_a_new_app_token(graph_settings, sim):
    provider = tokens.app_token_provider()
    first = provider()
    assert provider(force_refresh=True) != first


def test_app_token_without_client_secret_is_not_configured(graph_settings):
    graph_settings.MS_CLIENT_SECRET = ""
    with pytest.raises(NotConfigured, match="MS_CLIENT_SECRET"):
        tokens.app_token_provider()()


def test_app_token_from_an_authority_that_is_down_is_unavailable(graph_settings):
    graph_settings.MS_AUTHORITY = "https://127.0.0.1:9/tenant"
    with pytest.raises(TokenUnavailable):
        tokens.app_token_provider()()
