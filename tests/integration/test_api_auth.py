"""The automation API's door: Entra ID bearer tokens from graphsim only (no session cookie), a
service user per client application holding its app roles' capabilities, problem+json errors,
429 with Retry-After per client."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.models import AuditEvent, User
from tests.support import api as api_support
from tests.support.api import bearer
from tests.support.factories import grant, person

pytestmark = pytest.mark.django_db
api_token = api_support.api_token  # a fixture
PEOPLE = "/api/people?q=Bea"


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"]
    return body


def test_no_token_is_401_problem_with_a_bearer_challenge(client, graph_settings):
    response = client.get(PEOPLE)
    problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_session_alone_is_not_enough(client, graph_settings, make_user):
    client.force_login(make_user("admin"))
    problem(client.get(PEOPLE), 401)


def test_an_app_token_reads_people_as_a_service_user_named_by_its_app_id(
    client, api_token, graphsim
):
    person("Bea Boss")
    response = client.get(PEOPLE, **bearer(api_token))
    assert response.status_code == 200, response.content
    assert [p["display_name"] for p in response.json()["items"]] == ["Bea Boss"]
    app = User.objects.get(username=f"app:{graphsim['api_client_id']}")
    assert graphsim["api_client_id"] in str(app) and not app.groups.exists()
    assert app.has_perm("portal.manage_delegations") and not app.has_perm("portal.view_audit")


def test_a_token_for_graph_not_for_our_api_is_refused(client, graph_settings, graphsim):
    graph_token = api_support.client_credentials_token(
        graphsim, "https://graph.microsoft.com/.default", client=""
    )
    assert "invalid_token" in problem(client.get(PEOPLE, **bearer(graph_token)), 401)["codes"]


def test_a_token_signed_by_anyone_else_is_refused(client, api_token):
    claims = jwt.decode(api_token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(api_token)["kid"]
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, forger, algorithm="RS256", headers={"kid": kid})
    problem(client.get(PEOPLE, **bearer(forged)), 401)


def test_an_expired_token_or_another_tenant_is_refused(client, api_token, settings):
    settings.MS_TENANT_ID = "11111111-1111-4111-8111-111111111111"
    problem(client.get(PEOPLE, **bearer(api_token)), 401)


def test_the_organisations_grants_filter_and_page_by_cursor(client, api_token):
    boss = person("Bea Boss")
    for i in range(3):
        grant(boss, person(f"Dee {i}"), make_calls=True)
    grant(person("Other"), person("Olly"), make_calls=False, manage_settings=True)
    url = "/api/grants?action=make_calls&sort=oldest&limit=2"
    first = client.get(url, **bearer(api_token)).json()
    assert [g["delegate"]["display_name"] for g in first["items"]] == ["Dee 0", "Dee 1"]
    second = client.get(f"{url}&cursor={first['next_cursor']}", **bearer(api_token)).json()
    assert [g["delegate"]["display_name"] for g in second["items"]] == ["Dee 2"]
    assert second["next_cursor"] is None
    other = client.get(f"/api/grants?cursor={first['next_cursor']}", **bearer(api_token))
    assert "bad_cursor" in problem(other, 400)["codes"]


def test_past_the_rate_limit_the_client_gets_429_with_retry_after(client, api_token, settings):
    from django.core.cache import cache

    cache.clear()  # earlier tests' requests fall in the same minute
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    answers = [client.get(PEOPLE, **bearer(api_token)) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    problem(answers[2], 429)
    assert 1 <= int(answers[2]["Retry-After"]) <= 60


def test_a_change_request_is_created_once_per_key_and_audited_with_the_app_id(
    client, api_token, graphsim, monkeypatch
):
    monkeypatch.setattr("delegation.changes.services.request.enqueue", lambda *a: None)
    boss, deputy = person("Bea Boss"), person("Dev Deputy")
    body = {
        "delegator_object_id": boss.object_id,
        "delegate_object_id": deputy.object_id,
        "after": {"make_calls": True},
    }
    headers = {**bearer(api_token), "HTTP_IDEMPOTENCY_KEY": "key-" + str(time.time_ns())}
    made = [
        client.post("/api/change-requests", body, "application/json", **headers) for _ in range(2)
    ]
    assert [m.status_code for m in made] == [201, 201]
    assert made[0].json()["id"] == made[1].json()["id"]
    assert made[0].json()["status"] in ("requested", "awaiting_approval")
    event = AuditEvent.objects.get(action="change.request")
    assert graphsim["api_client_id"] in event.actor_label
    shown = client.get(f"/api/change-requests/{made[0].json()['id']}", **bearer(api_token))
    assert shown.json()["delegate_object_id"] == deputy.object_id


def test_a_write_without_an_idempotency_key_is_refused(client, api_token):
    answer = client.post("/api/change-requests", {}, "application/json", **bearer(api_token))
    problem(answer, 422)


def test_an_unknown_query_parameter_is_a_400_problem_not_an_unfiltered_list(client, api_token):
    person("Bea Boss")
    answer = client.get("/api/grants?departmnet=Sales", **bearer(api_token))
    body = problem(answer, 400)
    assert body["codes"] == ["unknown_parameter"] and "departmnet" in body["detail"]
    assert client.get("/api/grants?department=Sales", **bearer(api_token)).status_code == 200


def test_a_path_or_method_the_api_does_not_have_is_a_problem_not_an_html_page(client, api_token):
    for path in ("/api/", "/api/nothing/here", "/api/people/not-an-id/extra"):
        assert problem(client.get(path, **bearer(api_token)), 404)["codes"] == ["not_found"]
    wrong = client.delete("/api/people?q=Bea", **bearer(api_token))
    assert problem(wrong, 405)["codes"] == ["method_not_allowed"]
    assert wrong["Allow"] == "GET"
