"""A person's delegated token for the API (the automation client acting as them, auth-code flow
with real MSAL against graphsim): honoured with that person's portal role as set at their last
sign-in, and for their own line the self-service rules; refused for someone who never signed
in, and without the API's scope."""

from __future__ import annotations

import pytest

from delegation.changes.models import ChangeRequest
from portal.models import AuditEvent
from tests.support.api import bearer, idempotency_key, person_token
from tests.support.factories import load_demo_directory

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory(sim, graph_settings):
    return load_demo_directory(sim.get("truth"))


def change(client, token: str, delegator, delegate):
    body = {
        "delegator_object_id": delegator.object_id,
        "delegate_object_id": delegate.object_id,
        "after": {"make_calls": True},
    }
    headers = {**bearer(token), "HTTP_IDEMPOTENCY_KEY": idempotency_key()}
    return client.post("/api/change-requests", body, "application/json", **headers)


def test_a_helpdesk_persons_token_reads_people_but_not_the_organisation(
    client, graphsim, directory, signed_in_client
):
    signed_in_client("helpdesk@contoso.test")
    token = bearer(person_token(graphsim, "helpdesk@contoso.test"))
    found = client.get("/api/people?q=Bea", **token)
    assert found.status_code == 200 and "Bea Boss" in [
        p["display_name"] for p in found.json()["items"]
    ]
    refused = client.get("/api/grants", **token)
    assert refused.status_code == 403 and refused.json()["codes"] == ["not_allowed"]
    assert client.get("/api/sync-runs", **token).status_code == 403


def test_a_manager_reads_the_organisation_and_an_admin_the_sync_runs(
    client, graphsim, directory, signed_in_client
):
    signed_in_client("manager@contoso.test")
    signed_in_client("admin@contoso.test")
    manager = bearer(person_token(graphsim, "manager@contoso.test"))
    admin = bearer(person_token(graphsim, "admin@contoso.test"))
    assert client.get("/api/grants?action=make_calls", **manager).status_code == 200
    assert client.get("/api/sync-runs", **manager).status_code == 403
    assert client.get("/api/sync-runs", **admin).status_code == 200


def test_a_person_without_a_role_changes_their_own_line_only(
    client, graphsim, directory, signed_in_client, change_tasks
):
    signed_in_client("boss@contoso.test")
    token = person_token(graphsim, "boss@contoso.test")
    own = change(client, token, directory["boss"], directory["nobody"])
    assert own.status_code == 201, own.content
    made = ChangeRequest.objects.get(pk=own.json()["id"])
    assert made.acting_as == "self" and made.requested_by.upn == "boss@contoso.test"
    assert AuditEvent.objects.get(action="change.request").actor_label == "Bea Boss"
    theirs = change(client, token, directory["assistant"], directory["nobody"])
    assert theirs.status_code == 403 and "not_allowed" in theirs.json()["codes"]
    assert ChangeRequest.objects.count() == 1


def test_someone_who_never_signed_in_or_a_token_without_the_apis_scope_is_refused(
    client, graphsim, directory, signed_in_client, settings
):
    never = client.get("/api/people?q=Bea", **bearer(person_token(graphsim, "deputy@contoso.test")))
    assert never.status_code == 403 and never.json()["codes"] == ["unknown_person"]
    signed_in_client("helpdesk@contoso.test")
    token = bearer(person_token(graphsim, "helpdesk@contoso.test"))
    settings.API_DELEGATED_SCOPE = "Another.Scope"
    lacking = client.get("/api/people?q=Bea", **token)
    assert lacking.status_code == 401 and "Another.Scope" in lacking.json()["detail"]
