"""The call endpoints against graphsim over real HTTPS: an application with the app role
Calls.Initiate places a call straight to the callee, transfers it and ends another, each once
per Idempotency-Key and audited with its app id; without the role it may not write; the calls
pages' rules decide the rest (no call on behalf of someone without their grant)."""

from __future__ import annotations

import pytest

from calls.models import Call, CallAction
from portal.models import AuditEvent
from tests.support import api as api_support
from tests.support.api import bearer, idempotency_key, person_token
from tests.support.calls import in_graphsim, placed_calls, wait_state
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
api_token = api_support.api_token  # a fixture


def post(client, token: str, url: str, body: dict | None = None, key: str | None = None):
    headers = {**bearer(token), "HTTP_IDEMPOTENCY_KEY": key or idempotency_key()}
    return client.post(url, body or {}, "application/json", **headers)


def start(client, token, tenant, to="nobody", key=None, **body):
    return post(
        client, token, "/api/calls", {"person_object_id": tenant[to].object_id, **body}, key
    )


def established(answer) -> Call:
    assert answer.status_code == 201, answer.content
    return wait_state(Call.objects.get(pk=answer.json()["id"]), "established")


def test_an_application_places_a_call_once_per_key_and_transfers_it(
    client, api_token, calls_tenant, sim, graphsim
):
    key = idempotency_key()
    first = start(client, api_token, calls_tenant, key=key)
    call = established(first)
    assert first.json()["mode"] == "direct" and first.json()["target_object_id"] == (
        calls_tenant["nobody"].object_id
    )
    again = start(client, api_token, calls_tenant, key=key)
    assert again.status_code == 201 and again.json()["id"] == call.pk
    assert placed_calls(sim) == 1 and Call.objects.count() == 1
    requested = AuditEvent.objects.get(action="call.start.requested")
    assert graphsim["api_client_id"] in requested.actor_label

    target = {"target_object_id": calls_tenant["manager"].object_id}
    moved = post(client, api_token, f"/api/calls/{call.pk}/transfer", target)
    assert moved.status_code == 202, moved.content
    assert moved.json()["kind"] == "transfer" and moved.json()["call"]["id"] == call.pk
    wait_state(call, "terminated")
    assert call.result_label == "transfer completed"
    shown = client.get(f"/api/calls/{call.pk}", **bearer(api_token)).json()
    assert shown["state"] == "terminated" and shown["result"] == "transfer completed"
    transfer = AuditEvent.objects.get(action="call.transfer.requested")
    assert graphsim["api_client_id"] in transfer.actor_label


def test_an_application_ends_a_call_and_a_second_end_is_refused(
    client, api_token, calls_tenant, sim
):
    call = established(start(client, api_token, calls_tenant))
    key = idempotency_key()
    ended = post(client, api_token, f"/api/calls/{call.pk}/end", key=key)
    assert ended.status_code == 202, ended.content
    wait_state(call, "terminated")
    assert call.result_label == "hung up"
    end = CallAction.objects.get(kind="end")
    wait_for(lambda: CallAction.objects.get(pk=end.pk).outcome == "completed")
    repeat = post(client, api_token, f"/api/calls/{call.pk}/end", key=key)
    assert repeat.status_code == 202 and repeat.json()["id"] == end.pk
    refused = post(client, api_token, f"/api/calls/{call.pk}/end")
    assert refused.status_code == 403 and "already ended" in refused.json()["detail"]
    assert CallAction.objects.count() == 1
    listed = client.get("/api/calls", **bearer(api_token)).json()
    assert [c["id"] for c in listed["items"]] == [call.pk]


def test_an_application_may_not_call_on_someones_behalf_nor_reuse_a_key(
    client, api_token, calls_tenant, sim, make_user
):
    refused = start(
        client, api_token, calls_tenant, on_behalf_of_object_id=(calls_tenant["boss"].object_id)
    )
    assert refused.status_code == 403 and refused.json()["codes"] == ["call_refused"]
    ring_first = start(client, api_token, calls_tenant, ring_me_first=True)
    assert ring_first.status_code == 422
    both = post(
        client,
        api_token,
        "/api/calls",
        {"phone": "+14255550100", "person_object_id": (calls_tenant["nobody"].object_id)},
    )
    assert both.status_code == 422
    assert placed_calls(sim) == 0 and not Call.objects.exists()
    theirs = Call.objects.create(idempotency_key=idempotency_key(), started_by=make_user(None))
    reused = start(client, api_token, calls_tenant, key=theirs.idempotency_key)
    assert reused.status_code == 409 and reused.json()["codes"] == ["key_reused"]


def test_without_the_app_role_calls_initiate_an_application_writes_no_call(
    client, calls_tenant, graphsim, sim
):
    # The portal's own registration holds none of the API's app roles.
    token = api_support.client_credentials_token(graphsim, client="")
    answer = start(client, token, calls_tenant)
    assert answer.status_code == 403 and answer.json()["codes"] == ["not_allowed"]
    assert client.get("/api/calls", **bearer(token)).json()["items"] == []
    assert placed_calls(sim) == 0


def test_a_delegate_calls_on_behalf_of_their_delegator_with_their_own_token(
    client, calls_tenant, graphsim, sim, signed_in_client
):
    signed_in_client("assistant@contoso.test")  # the portal holds their Microsoft token
    token = person_token(graphsim, "assistant@contoso.test")
    boss = calls_tenant["boss"].object_id
    answer = start(client, token, calls_tenant, on_behalf_of_object_id=boss)
    assert answer.status_code == 201, answer.content
    made = answer.json()
    assert (made["mode"], made["on_behalf_of_object_id"]) == ("ring_me_first", boss)
    assert made["note"] == ""  # the grant was confirmed live with their own token
    call = Call.objects.get(pk=made["id"])
    wait_for(lambda: Call.objects.get(pk=call.pk).graph_id != "")
    placed = in_graphsim(sim, Call.objects.get(pk=call.pk))
    assert placed["targets"][0]["identity"]["user"]["id"] == calls_tenant["assistant"].object_id
    assert placed["subject"] == "On behalf of Bea Boss"


def test_a_person_whose_delegator_does_not_let_them_call_is_refused(
    client, calls_tenant, graphsim, sim, signed_in_client
):
    signed_in_client("nobody@contoso.test")
    token = person_token(graphsim, "nobody@contoso.test")
    boss = calls_tenant["boss"].object_id
    for body in ({"on_behalf_of_object_id": boss}, {}):
        answer = start(client, token, calls_tenant, to="deputy", **body)
        assert answer.status_code == 403 and answer.json()["codes"] == ["call_refused"]
    assert placed_calls(sim) == 0 and not Call.objects.exists()
