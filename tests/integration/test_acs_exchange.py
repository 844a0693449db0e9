"""The portal's ACS token exchange (portal/graph/acs.py) through the real
`azure-communication-identity` client against graphsim, and each refusal in typed errors."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from portal.graph.acs import AcsToken, exchange_teams_token, parse_expiry
from portal.graph.errors import GraphError, GraphUnavailable, NotConfigured
from tests.support.acs_tokens import teams_calling_token


@pytest.fixture
def acs_settings(graph_settings, graphsim):
    graph_settings.ACS_CONNECTION_STRING = graphsim["acs_connection_string"]
    return graph_settings


@pytest.fixture(scope="module")
def ari(graphsim):
    """Ari Assistant's Entra token for Teams.ManageCalls, and its claims."""
    return teams_calling_token(graphsim, "assistant@contoso.test")


def test_exchange_returns_an_acs_token_that_ends_with_the_entra_token(acs_settings, graphsim, ari):
    token, claims = ari
    acs = exchange_teams_token(token, graphsim["client_id"], claims["oid"])
    assert isinstance(acs, AcsToken) and acs.token.count(".") == 2
    assert acs.expires_on == datetime.fromtimestamp(claims["exp"], UTC)
    assert acs.token not in repr(acs)


def test_exchange_uses_the_graph_ca_bundle_setting(acs_settings, graphsim, ari):
    acs_settings.GRAPH_CA_BUNDLE = ""  # the system store does not know graphsim's CA
    token, claims = ari
    with pytest.raises(GraphUnavailable) as caught:
        exchange_teams_token(token, graphsim["client_id"], claims["oid"])
    assert not caught.value.permanent


def test_a_wrong_access_key_is_refused_in_words_for_the_admin(acs_settings, graphsim, ari):
    key = base64.b64encode(b"x" * 64).decode()
    acs_settings.ACS_CONNECTION_STRING = f"endpoint={graphsim['acs_endpoint']}/;accesskey={key}"
    token, claims = ari
    with pytest.raises(GraphError) as caught:
        exchange_teams_token(token, graphsim["client_id"], claims["oid"])
    err = caught.value
    assert (err.status, err.code, err.permanent) == (401, "Denied", True)
    assert "ACS_CONNECTION_STRING" in err.message


def test_another_persons_object_id_is_refused(acs_settings, graphsim, ari):
    token, _ = ari
    boss_token, boss = teams_calling_token(graphsim, "boss@contoso.test")
    with pytest.raises(GraphError) as caught:
        exchange_teams_token(token, graphsim["client_id"], boss["oid"])
    assert (caught.value.status, caught.value.code) == (401, "InvalidAccessToken")
    assert "Sign in again" in caught.value.message


def test_a_token_for_another_app_is_refused(acs_settings, graphsim, ari):
    token, claims = ari
    with pytest.raises(GraphError) as caught:
        exchange_teams_token(token, "00000000-1111-4222-8333-444444444444", claims["oid"])
    assert caught.value.code == "InvalidAccessToken"


def test_a_graph_token_is_not_enough(acs_settings, graphsim):
    token, claims = teams_calling_token(graphsim, "assistant@contoso.test", scope="User.Read")
    with pytest.raises(GraphError) as caught:
        exchange_teams_token(token, graphsim["client_id"], claims["oid"])
    assert caught.value.code == "InvalidAccessToken"


def test_without_a_connection_string_the_phone_is_off(settings):
    settings.ACS_CONNECTION_STRING = ""
    with pytest.raises(NotConfigured, match="ACS_CONNECTION_STRING"):
        exchange_teams_token("t", "c", "u")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2025-06-01T10:20:30.1234567+00:00", datetime(2025, 6, 1, 10, 20, 30, 123456, UTC)),
        ("2025-06-01T10:20:30Z", datetime(2025, 6, 1, 10, 20, 30, tzinfo=UTC)),
        (datetime(2025, 6, 1, 10, 20, 30), datetime(2025, 6, 1, 10, 20, 30, tzinfo=UTC)),
    ],
)
def test_expiry_strings_from_the_client_become_aware_datetimes(given, expected):
    assert parse_expiry(given) == expected
