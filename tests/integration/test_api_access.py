"""Who may call each API operation: every operation of the served schema (so a new one cannot be
forgotten) x each caller, with real tokens from graphsim: the automation client granted no app
role or exactly one (client credentials), and a person's delegated token for each portal role.
The same table is in docs/api.md. Reads of one thing a caller may not see answer 404, as the
pages do; writes the services refuse answer 403."""

from __future__ import annotations

import jwt
import pytest

from calls.models import Call
from portal.models import User
from tests.support.api import bearer, client_credentials_token, idempotency_key, person_token
from tests.support.changes import CALLS, made
from tests.support.factories import load_demo_directory, make_user
from tests.support.graphsim import GraphSim
from tests.support.reviews import campaign

pytestmark = pytest.mark.django_db
APP_ROLES = ("Delegation.Read.All", "Delegation.ReadWrite.All", "Calls.Initiate")
# The columns: the automation client with no app role, then with each one alone; then a
# person's delegated token, by portal role ("person": none; its UPN has no role in graphsim).
CALLERS = ("app", *APP_ROLES, "person", "helpdesk", "manager", "admin")
PEOPLE = (403, 200, 200, 403, 403, 200, 200, 200)
ALL = (200,) * 8
ACT_ON_CALL = (403, 403, 403, 202, 404, 202, 404, 202)
CAMPAIGNS = (403, 200, 200, 403, 403, 403, 200, 200)
EXPECTED = {
    ("get", "/api/people"): PEOPLE,
    ("get", "/api/people/{object_id}"): PEOPLE,
    ("get", "/api/people/{object_id}/delegates"): PEOPLE,
    ("get", "/api/people/{object_id}/delegators"): PEOPLE,
    ("get", "/api/grants"): (403, 200, 200, 403, 403, 403, 200, 200),
    ("get", "/api/sync-runs"): (403, 200, 200, 403, 403, 403, 403, 200),
    ("post", "/api/sync-runs"): (403, 403, 202, 403, 403, 403, 403, 202),
    ("get", "/api/change-requests"): ALL,
    ("post", "/api/change-requests"): (403, 403, 201, 403, 403, 201, 403, 201),
    ("get", "/api/change-requests/{request_id}"): (404, 200, 200, 404, 404, 200, 200, 200),
    ("post", "/api/change-requests/{request_id}/approve"): (403, 403, 200, 403, 403, 403, 200, 200),
    ("get", "/api/calls"): ALL,
    ("post", "/api/calls"): (403, 403, 403, 201, 403, 201, 403, 201),
    ("get", "/api/calls/{call_id}"): (404, 404, 404, 200, 404, 200, 404, 200),
    ("post", "/api/calls/{call_id}/transfer"): ACT_ON_CALL,
    ("post", "/api/calls/{call_id}/end"): ACT_ON_CALL,
    ("get", "/api/review-campaigns"): CAMPAIGNS,
    ("get", "/api/review-campaigns/{campaign_id}"): CAMPAIGNS,
}


def served_operations() -> set[tuple[str, str]]:
    from django.test import Client

    paths = Client().get("/api/schema").json()["paths"]
    return {(method, path) for path, methods in paths.items() for method in methods}


@pytest.mark.django_db
def test_every_served_operation_has_a_row_and_every_row_is_served():
    assert served_operations() == set(EXPECTED)


@pytest.fixture(scope="module")
def tokens(graphsim) -> dict[str, str]:
    """A token per caller. graphsim's `api_client_roles` is what an admin granted the client."""
    sim = GraphSim(graphsim)
    found = {}
    try:
        for caller in CALLERS[:4]:
            sim.post("config", {"api_client_roles": [] if caller == "app" else [caller]})
            found[caller] = client_credentials_token(graphsim)
    finally:
        sim.post("reset", {"config": True})
    for caller in CALLERS[4:]:
        upn = "nobody@contoso.test" if caller == "person" else f"{caller}@contoso.test"
        found[caller] = person_token(graphsim, upn)
    return found


@pytest.fixture(scope="module")
def truth(graphsim) -> dict:
    return GraphSim(graphsim).get("truth")


@pytest.fixture
def world(graph_settings, settings, truth) -> dict:
    """The demo directory in the cache, a change request awaiting approval and a connected call
    that nobody calling here started; the values of the paths' parameters."""
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    settings.CALLS_CALLBACK_BASE_URL = "https://portal.example"
    people = load_demo_directory(truth)
    waiting = made(people["boss"], people["deputy"], CALLS, status="awaiting_approval")
    call = Call.objects.create(
        idempotency_key=idempotency_key(),
        graph_id="graph-call-1",
        target_kind=Call.TargetKind.PERSON,
        target_object_id=people["deputy"].object_id,
        target_display="Dev Deputy",
        state="established",
        state_rank=20,
    )
    a_campaign = campaign(make_user("manager"))
    return {
        "people": people,
        "params": {
            "campaign_id": a_campaign.pk,
            "object_id": people["boss"].object_id,
            "request_id": waiting.pk,
            "call_id": call.pk,
        },
    }


def bodies(people) -> dict[str, dict]:
    return {
        "/api/change-requests": {
            "delegator_object_id": people["boss"].object_id,
            "delegate_object_id": people["noanswer"].object_id,
            "after": {"make_calls": True},
        },
        "/api/calls": {"person_object_id": people["deputy"].object_id},
        "/api/calls/{call_id}/transfer": {"target_object_id": people["assistant"].object_id},
    }


def signed_in_before(caller: str, token: str) -> None:
    """A person's portal user and role, as their last sign-in left them."""
    if caller in CALLERS[4:]:
        claims = jwt.decode(token, options={"verify_signature": False})
        role = None if caller == "person" else caller
        user = make_user(role, upn=claims["preferred_username"], object_id=claims["oid"])
        User.objects.filter(pk=user.pk).update(tenant_id=claims["tid"])


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
@pytest.mark.parametrize("caller", CALLERS)
def test_the_access_table(client, tokens, world, method, path, caller):
    signed_in_before(caller, tokens[caller])
    url = path.format(**world["params"]) + ("?q=Bea" if path == "/api/people" else "")
    headers = {**bearer(tokens[caller]), "HTTP_IDEMPOTENCY_KEY": idempotency_key()}
    if method == "get":
        answer = client.get(url, **headers)
    else:
        body = bodies(world["people"]).get(path, {})
        answer = client.post(url, body, "application/json", **headers)
    expected = EXPECTED[(method, path)][CALLERS.index(caller)]
    assert answer.status_code == expected, answer.content[:300]
