"""The API end to end, as a ticketing tool would drive it: an app-only token acquired with MSAL
(client credentials, graphsim's automation client), a change request through the API, applied
through Graph by the task (run in-process at commit, as the worker would) and verified by
re-reading Teams, then found in the organisation's grants with the table's filters; and a request
awaiting approval, which the application may not approve itself, approved with a manager's
delegated token and then applied."""

from __future__ import annotations

import pytest

from delegation.changes import states
from tests.support.api import bearer, idempotency_key, msal_app_token, person_token
from tests.support.changes import CALLS

pytestmark = pytest.mark.django_db
NILS_RECEIVING = "/api/grants?person=Nils&action=receive_calls&limit=200"


def pairs(answer) -> set[tuple[str, str]]:
    assert answer.status_code == 200, answer.content
    items = answer.json()["items"]
    return {(g["delegator"]["object_id"], g["delegate"]["object_id"]) for g in items}


def test_a_client_credentials_client_adds_a_delegate_verified_in_teams_and_listed(
    client, teams, graphsim, tasks_inline, django_capture_on_commit_callbacks
):
    token = bearer(msal_app_token(graphsim))
    boss, nobody = teams.id("boss"), teams.id("nobody")
    assert (boss, nobody) not in pairs(client.get(NILS_RECEIVING, **token))
    body = {
        "delegator_object_id": boss,
        "delegate_object_id": nobody,
        "after": {"make_calls": True, "receive_calls": True},
        "reason": "Ticket INC-1234",
    }
    headers = {**token, "HTTP_IDEMPOTENCY_KEY": idempotency_key()}
    with django_capture_on_commit_callbacks(execute=True):
        made = client.post("/api/change-requests", body, "application/json", **headers)
    assert made.status_code == 201, made.content
    shown = client.get(f"/api/change-requests/{made.json()['id']}", **token).json()
    assert (shown["status"], shown["method"]) == (states.VERIFIED, "graph"), shown["failure"]
    assert shown["requested_by_name"] == f"API client {graphsim['api_client_id']}"
    assert teams.grant("boss", "nobody") == CALLS and teams.writes("POST") == 1
    assert (boss, nobody) in pairs(client.get(NILS_RECEIVING, **token))
    assert (boss, nobody) not in pairs(client.get(NILS_RECEIVING + "&active=no", **token))


def test_a_request_awaiting_approval_is_approved_by_a_managers_token_then_applied(
    client,
    teams,
    graphsim,
    settings,
    signed_in_client,
    tasks_inline,
    django_capture_on_commit_callbacks,
):
    settings.DELEGATION_APPROVAL_POLICY = "all"
    app = bearer(msal_app_token(graphsim))
    body = {
        "delegator_object_id": teams.id("boss"),
        "delegate_object_id": teams.id("nobody"),
        "after": {"make_calls": True, "receive_calls": True},
    }
    with django_capture_on_commit_callbacks(execute=True):
        made = client.post(
            "/api/change-requests",
            body,
            "application/json",
            **app,
            HTTP_IDEMPOTENCY_KEY=idempotency_key(),
        )
    assert made.json()["status"] == states.AWAITING_APPROVAL and teams.writes("POST") == 0
    url = f"/api/change-requests/{made.json()['id']}/approve"
    own = client.post(url, **app, HTTP_IDEMPOTENCY_KEY=idempotency_key())
    assert own.status_code == 403 and own.json()["codes"] == ["own_request"]
    signed_in_client("manager@contoso.test")
    manager = bearer(person_token(graphsim, "manager@contoso.test"))
    with django_capture_on_commit_callbacks(execute=True):
        approved = client.post(url, **manager, HTTP_IDEMPOTENCY_KEY=idempotency_key())
    assert approved.status_code == 200, approved.content
    shown = client.get(f"/api/change-requests/{made.json()['id']}", **app).json()
    assert shown["status"] == states.VERIFIED, shown["failure"]
    assert teams.grant("boss", "nobody") == CALLS and teams.writes("POST") == 1
