"""The callback receiver: only notifications Graph (graphsim) signed for our app and tenant change
anything. Keys come over real HTTPS from graphsim's OpenID configuration; the valid and forged
tokens are minted here with graphsim's own callback key (read from its state directory)."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from django.urls import reverse

from calls.models import Call, CallEvent
from portal.graph.callback_auth import forget_keys

pytestmark = pytest.mark.django_db

URL = reverse("calls:callback")


@pytest.fixture(scope="module")
def graph_key(graphsim):
    pem = Path(graphsim["_state_dir"], "callbacks.key.pem").read_bytes()
    with requests.Session() as s:
        s.trust_env = False
        config = s.get(graphsim["callback_openid_config"], verify=graphsim["ca"], timeout=10).json()
        kid = s.get(config["jwks_uri"], verify=graphsim["ca"], timeout=10).json()["keys"][0]["kid"]
    return serialization.load_pem_private_key(pem, None), kid


@pytest.fixture
def receiver(graph_settings):
    forget_keys()
    yield graph_settings
    forget_keys()


@pytest.fixture
def live_call(db):
    return Call.objects.create(
        idempotency_key="k" * 32, graph_id="4a1b0c5e-known-call", state="established", state_rank=20
    )


def token(graph_key, settings, *, key=None, **overrides):
    private, kid = graph_key
    now = int(time.time())
    claims = {
        "iss": "https://graph.microsoft.com",
        "aud": settings.MS_CLIENT_ID,
        "tid": settings.MS_TENANT_ID,
        "iat": now,
        "nbf": now - 60,
        "exp": now + 600,
        **overrides,
    }
    return jwt.encode(claims, key or private, algorithm="RS256", headers={"kid": kid})


def notification(graph_id, state="terminated", *, legacy=False, **result):
    item = {
        "changeType": "deleted" if state == "terminated" else "updated",
        "resource" if legacy else "resourceUrl": f"/communications/calls/{graph_id}",
        "resourceData": {"@odata.type": "#microsoft.graph.call", "id": graph_id, "state": state},
    }
    if result:
        item["resourceData"]["resultInfo"] = result
    return {"@odata.type": "#microsoft.graph.commsNotifications", "value": [item]}


def deliver(client, body, bearer):
    return client.post(
        URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {bearer}"
    )


def deliver_for_key(client, key, body, bearer):
    """As Graph does to the callbackUri of a call we placed: it names our call's key."""
    return client.post(
        f"{URL}?call={key}",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {bearer}",
    )


def test_a_notification_graph_signed_moves_the_call(client, receiver, graph_key, live_call):
    body = notification(live_call.graph_id, code=200, subcode=5001)
    resp = deliver(client, body, token(graph_key, receiver))
    assert resp.status_code == 202
    live_call.refresh_from_db()
    assert live_call.state == "terminated" and live_call.result_label == "hung up"
    assert CallEvent.objects.get().raw["resourceData"]["state"] == "terminated"


def test_legacy_resource_and_string_subcode_are_understood(client, receiver, graph_key, live_call):
    body = notification(live_call.graph_id, legacy=True, code="408", subCode="10057")
    assert deliver(client, body, token(graph_key, receiver)).status_code == 202
    live_call.refresh_from_db()
    assert live_call.result_label == "no answer"


def test_the_same_notification_twice_is_stored_once(client, receiver, graph_key, live_call):
    body = notification(live_call.graph_id, state="hold")
    for _ in range(2):
        assert deliver(client, body, token(graph_key, receiver)).status_code == 202
    assert CallEvent.objects.count() == 1


FORGERIES = {
    "bad signature": {"key": rsa.generate_private_key(public_exponent=65537, key_size=2048)},
    "wrong audience": {"aud": "00000000-0000-0000-0000-0000000000aa"},
    "wrong tenant": {"tid": "00000000-0000-0000-0000-0000000000bb"},
    "wrong issuer": {"iss": "https://login.evil.example"},
    "expired": {"exp": int(time.time()) - 3600, "nbf": int(time.time()) - 7200},
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_notification_is_refused_and_changes_nothing(
    client, receiver, graph_key, live_call, forgery
):
    body = notification(live_call.graph_id, code=200, subcode=5001)
    resp = deliver(client, body, token(graph_key, receiver, **FORGERIES[forgery]))
    assert resp.status_code == 401
    live_call.refresh_from_db()
    assert live_call.state == "established" and not CallEvent.objects.exists()


def test_a_notification_without_a_token_is_refused(client, receiver, live_call):
    resp = client.post(URL, notification(live_call.graph_id), content_type="application/json")
    assert resp.status_code == 401
    assert not CallEvent.objects.exists()


def test_a_notification_about_a_call_we_never_placed_changes_nothing(
    client, receiver, graph_key, live_call
):
    resp = deliver(client, notification("9f9f9f9f-unknown", code=200), token(graph_key, receiver))
    assert resp.status_code == 202
    assert list(Call.objects.values_list("graph_id", flat=True)) == [live_call.graph_id]
    assert not CallEvent.objects.exists()


def test_a_body_that_is_not_json_is_a_bad_request(client, receiver, graph_key):
    resp = client.post(
        URL,
        b"{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token(graph_key, receiver)}",
    )
    assert resp.status_code == 400


def test_the_receiver_takes_posts_only(client):
    assert client.get(URL).status_code == 405


def test_a_call_whose_answer_was_lost_is_found_by_the_key_in_its_callback_address(
    client, receiver, graph_key
):
    lost = Call.objects.create(
        idempotency_key="f" * 32,
        state="failed",
        state_rank=100,
        error="Microsoft could not be reached.",
    )
    body = notification("5e5e5e5e-placed-after-all", state="established")
    resp = deliver_for_key(client, lost.idempotency_key, body, token(graph_key, receiver))
    assert resp.status_code == 202
    lost.refresh_from_db()
    assert lost.graph_id == "5e5e5e5e-placed-after-all"
    assert lost.state == "established" and lost.error == "" and lost.ended_at is None


def test_a_key_in_the_callback_address_cannot_take_over_a_call_graph_already_named(
    client, receiver, graph_key, live_call
):
    body = notification("6d6d6d6d-another-call", state="terminated", code=200, subcode=5001)
    resp = deliver_for_key(client, live_call.idempotency_key, body, token(graph_key, receiver))
    assert resp.status_code == 202
    live_call.refresh_from_db()
    assert live_call.graph_id == "4a1b0c5e-known-call" and live_call.state == "established"


def test_the_receiver_is_exempt_from_csrf_even_with_csrf_checks_enforced(
    receiver, graph_key, live_call
):
    csrf_client = Client(enforce_csrf_checks=True)
    body = notification(live_call.graph_id, code=200, subcode=5001)
    assert deliver(csrf_client, body, token(graph_key, receiver)).status_code == 202
    live_call.refresh_from_db()
    assert live_call.state == "terminated"


def test_a_json_body_that_is_not_a_notification_envelope_is_a_bad_request(
    client, receiver, graph_key
):
    resp = deliver(client, {"value": "not a list"}, token(graph_key, receiver))
    assert resp.status_code == 400
    assert not CallEvent.objects.exists()


def test_an_incoming_call_records_whom_the_caller_dialled(client, receiver, graph_key):
    import json
    from pathlib import Path

    payload = Path(__file__).resolve().parent.parent / "payloads" / "graph"
    body = json.loads((payload / "incoming_call_for_someone.json").read_text())
    assert deliver(client, body, token(graph_key, receiver)).status_code == 202
    call = Call.objects.get(direction="incoming")
    assert (call.caller_display, call.called_display) == ("+14255550199", "Megan Bowen")
    assert call.called_object_id == "5e6f7a8b-2222-4c3d-8e9f-0a1b2c3d4e5f"
    assert call.state == "incoming"


def test_a_ring_me_first_call_placed_after_all_waits_again_for_its_first_leg(
    client, receiver, graph_key
):
    lost = Call.objects.create(
        idempotency_key="e" * 32,
        mode=Call.Mode.RING_ME_FIRST,
        state="failed",
        state_rank=100,
        callee_leg="not_dialled",
        error="Microsoft could not be reached.",
    )
    body = notification("5f5f5f5f-placed-after-all", state="establishing")
    resp = deliver_for_key(client, lost.idempotency_key, body, token(graph_key, receiver))
    assert resp.status_code == 202
    lost.refresh_from_db()
    assert (lost.state, lost.callee_leg) == ("establishing", "waiting")


# --- Hostile bodies from a correctly signed sender: 4xx, never 500 (issue 15) -----------------
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError in the JSON parser
        b'{"value": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
        b'{"value": [{"resourceUrl": "/communications/calls/x\\u0000y"}]}',  # no NUL in jsonb
        b'{"value": [{"resourceUrl": "/communications/calls/\\ud800"}]}',  # a lone surrogate
        b'{"value": [{"resourceData": {"resultInfo": {"code": NaN}}}]}',
        b'{"value": [{"resourceData": {"resultInfo": {"code": 1e999}}}]}',  # infinity
        b'{"value": [' + b'"' + b"x" * 300_000 + b'"]}',  # too large
        b"\xff\xfe{}",
    ],
    ids=["deep-array", "deep-object", "nul", "surrogate", "nan", "infinity", "large", "binary"],
)
def test_a_hostile_body_from_a_signed_sender_is_a_client_error(
    client, receiver, graph_key, live_call, body
):
    resp = client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token(graph_key, receiver)}",
    )
    assert 400 <= resp.status_code < 500
    assert not CallEvent.objects.exists()


def test_a_call_key_in_the_address_that_is_not_ours_is_not_looked_up(
    client, receiver, graph_key, live_call
):
    # PostgreSQL refuses a NUL in a text parameter: the lookup by key answered 500 there.
    resp = client.post(
        f"{URL}?call=a%00b",
        notification("unknown-call"),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token(graph_key, receiver)}",
    )
    assert resp.status_code == 202
