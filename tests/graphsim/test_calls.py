"""Contract §6 and §7: calls, validation, states, signed callbacks, incoming calls."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.support.graphsim import assert_graph_error
from tests.support.receiver import Receiver

FAST = {
    "establish_ms": 30,
    "answer_ms": 80,
    "transfer_ms": 40,
    "callback_disorder": "off",
    "callback_backoff_ms": 50,
}


def call_body(sim, receiver_url, *upns, phone=None, app_instance=False):
    targets = []
    for upn in upns:
        u = sim.user(upn)
        targets.append(
            {
                "@odata.type": "#microsoft.graph.invitationParticipantInfo",
                "identity": {"user": {"id": u["id"], "displayName": u["displayName"]}},
            }
        )
    if phone:
        targets.append({"identity": {"phone": {"id": phone}}})
    body = {
        "@odata.type": "#microsoft.graph.call",
        "callbackUri": receiver_url,
        "requestedModalities": ["audio"],
        "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
        "targets": targets,
        "tenantId": sim.info["tenant"],
    }
    if app_instance:
        body["source"] = {
            "identity": {
                "applicationInstance": {
                    "id": "11111111-2222-3333-4444-555555555555",
                    "displayName": "Main line",
                }
            }
        }
    return body


@pytest.fixture
def fast(sim):
    sim.faults(**FAST)
    yield sim
    sim.hook("reset", {"config": True, "calls": True})


def make_call(sim, token, body):
    r = sim.post("/v1.0/communications/calls", token=token, json=body)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["state"] == "establishing" and c["direction"] == "outgoing"
    assert r.headers["Location"].endswith("/communications/calls/" + c["id"])
    return c["id"]


def verify_callback(sim, event):
    """Verify the notification JWT with the keys published through callback_openid_config."""
    auth = event["headers"]["Authorization"]
    assert auth.startswith("Bearer ")
    token = auth[7:]
    conf = sim.http.get(sim.info["callback_openid_config"], timeout=10).json()
    keys = sim.http.get(conf["jwks_uri"], timeout=10).json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys if k["kid"] == kid)
    claims = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=sim.info["client_id"],
        issuer=["https://graph.microsoft.com", "https://api.botframework.com"],
    )
    assert claims["tid"] == sim.info["tenant"]
    assert claims["exp"] > time.time() >= claims["nbf"]
    # and a token signed by the identity key (a different key) is not accepted
    ident = sim.http.get(sim.info["authority"] + "/discovery/v2.0/keys", timeout=10).json()
    assert kid not in {k["kid"] for k in ident["keys"]}
    return claims


def test_call_established_then_deleted(fast, app_token, receiver):
    sim = fast
    cid = make_call(sim, app_token, call_body(sim, receiver.url, "assistant@contoso.test"))
    receiver.wait_for(lambda: "established" in receiver.states(cid))
    assert receiver.states(cid) == ["establishing", "established"]
    ev = receiver.events[0]
    verify_callback(sim, ev)
    body = ev["body"]
    assert body["@odata.type"] == "#microsoft.graph.commsNotifications"
    n = body["value"][0]
    assert n["resourceUrl"] == f"/communications/calls/{cid}"
    assert n["changeType"] == "updated"
    r = sim.get(f"/v1.0/communications/calls/{cid}", token=app_token)
    assert r.json()["state"] == "established"
    parts = sim.get(f"/v1.0/communications/calls/{cid}/participants", token=app_token).json()
    assert len(parts["value"]) == 2
    assert (
        sim.post(f"/v1.0/communications/calls/{cid}/keepAlive", token=app_token).status_code == 200
    )
    r = sim.http.delete(
        f"{sim.graph}/v1.0/communications/calls/{cid}",
        headers={"Authorization": "Bearer " + app_token},
        timeout=10,
    )
    assert r.status_code == 204
    receiver.wait_for(lambda: "terminated" in receiver.states(cid))
    assert receiver.states(cid)[-2:] == ["terminating", "terminated"]
    last = receiver.events[-1]["body"]["value"][0]
    assert last["changeType"] == "deleted"
    ri = last["resourceData"]["resultInfo"]
    assert (ri["code"], ri["subcode"]) == (200, 5001)


@pytest.mark.parametrize(
    "upn,code,sub",
    [("noanswer@contoso.test", 408, 10057), ("unreachable@contoso.test", 480, 10076)],
)
def test_call_endings(fast, app_token, receiver, upn, code, sub):
    sim = fast
    cid = make_call(sim, app_token, call_body(sim, receiver.url, upn))
    receiver.wait_for(lambda: "terminated" in receiver.states(cid))
    ri = receiver.events[-1]["body"]["value"][0]["resourceData"]["resultInfo"]
    assert (ri["code"], ri["subcode"]) == (code, sub)
    calls = {c["id"]: c for c in sim.hook("calls", method="GET").json()["value"]}
    assert calls[cid]["state"] == "terminated"


def test_transfer_success_and_failure(fast, app_token, receiver):
    sim = fast
    cid = make_call(sim, app_token, call_body(sim, receiver.url, "nobody@contoso.test"))
    receiver.wait_for(lambda: "established" in receiver.states(cid))
    fail = sim.user("transferfail@contoso.test")["id"]
    r = sim.post(
        f"/v1.0/communications/calls/{cid}/transfer",
        token=app_token,
        json={"transferTarget": {"endpointType": "default", "identity": {"user": {"id": fail}}}},
    )
    assert r.status_code == 202, r.text
    receiver.wait_for(lambda: receiver.states(cid).count("established") == 2)
    ev = receiver.events[-1]["body"]["value"][0]["resourceData"]
    assert ev["state"] == "established"
    assert (ev["resultInfo"]["code"], ev["resultInfo"]["subcode"]) == (500, 7000)
    ok = sim.user("deputy@contoso.test")["id"]
    r = sim.post(
        f"/v1.0/communications/calls/{cid}/transfer",
        token=app_token,
        json={"transferTarget": {"identity": {"user": {"id": ok}}}},
    )
    assert r.status_code == 202
    receiver.wait_for(lambda: "terminated" in receiver.states(cid))
    assert receiver.states(cid)[-3:] == ["transferring", "transferAccepted", "terminated"]
    ri = receiver.events[-1]["body"]["value"][0]["resourceData"]["resultInfo"]
    assert (ri["code"], ri["subcode"]) == (0, 7015)
    # a terminated call cannot transfer
    r = sim.post(
        f"/v1.0/communications/calls/{cid}/transfer",
        token=app_token,
        json={"transferTarget": {"identity": {"user": {"id": ok}}}},
    )
    assert r.status_code == 400


def test_call_validation(fast, app_token, receiver):
    sim = fast
    url = "/v1.0/communications/calls"

    def bad(body, status=400):
        r = sim.post(url, token=app_token, json=body)
        assert_graph_error(r, status, "BadRequest" if status == 400 else "Forbidden")

    b = call_body(sim, "http://example.com/cb", "nobody@contoso.test")
    bad(b)  # http is only for loopback
    b = call_body(sim, receiver.url, "nobody@contoso.test")
    del b["callbackUri"]
    bad(b)
    bad(call_body(sim, receiver.url))  # no targets
    six = ["nobody", "boss", "deputy", "assistant", "manager", "helpdesk"]
    bad(call_body(sim, receiver.url, *[f"{u}@contoso.test" for u in six]))
    bad(call_body(sim, receiver.url, phone="+14255550100"))  # no applicationInstance
    bad(call_body(sim, receiver.url, phone="0425555", app_instance=True))  # not E.164
    r = sim.post(
        url,
        token=app_token,
        json=call_body(sim, receiver.url, phone="+14255550100", app_instance=True),
    )
    assert r.status_code == 201
    sim.faults(strict_callbacks=True)
    bad(call_body(sim, receiver.url, "nobody@contoso.test"))
    sim.faults(strict_callbacks=False, max_concurrent_calls=1)
    bad(call_body(sim, receiver.url, "nobody@contoso.test"), 403)
    assert sim.get("/v1.0/communications/calls/nope", token=app_token).status_code == 404


def test_callbacks_out_of_order_and_duplicated(fast, app_token, receiver):
    sim = fast
    sim.faults(callback_disorder="swap")
    cid = make_call(sim, app_token, call_body(sim, receiver.url, "deputy@contoso.test"))
    receiver.wait_for(lambda: len(receiver.states(cid)) >= 2)
    assert receiver.states(cid) == ["established", "establishing"]
    sim.faults(callback_disorder="duplicate")
    cid = make_call(sim, app_token, call_body(sim, receiver.url, "deputy@contoso.test"))
    receiver.wait_for(lambda: len(receiver.states(cid)) >= 4)
    assert receiver.states(cid) == ["establishing", "establishing", "established", "established"]


def test_keepalive_timeout_ends_call(fast, app_token, receiver):
    sim = fast
    sim.faults(keepalive_timeout_s=0.6)
    cid = make_call(sim, app_token, call_body(sim, receiver.url, "deputy@contoso.test"))
    receiver.wait_for(lambda: "terminated" in receiver.states(cid), timeout=5)
    ri = receiver.events[-1]["body"]["value"][0]["resourceData"]["resultInfo"]
    assert (ri["code"], ri["subcode"]) == (408, 8537)


def test_delivery_retries_when_receiver_fails(fast, app_token):
    sim = fast
    rec = Receiver(status=503)
    sim.faults(callback_backoff_ms=200)  # tries at 0, 0.2, 0.6, 1.4 and 3 s
    try:
        cid = make_call(sim, app_token, call_body(sim, rec.url, "deputy@contoso.test"))
        rec.wait_for(lambda: len(rec.events) >= 2)
        rec.status = 202
        rec.wait_for(lambda: "established" in rec.states(cid))
        assert rec.states(cid) == ["establishing", "established"]
    finally:
        rec.close()


def test_incoming_call_redirect(fast, app_token, receiver):
    sim = fast
    r = sim.hook("incoming-call", {"callbackUri": receiver.url, "caller": "boss@contoso.test"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    receiver.wait_for(lambda: receiver.states(cid) == ["incoming"])
    n = receiver.events[-1]["body"]["value"][0]
    assert n["changeType"] == "created"
    assert n["resourceData"]["direction"] == "incoming"
    verify_callback(sim, receiver.events[-1])
    url = f"/v1.0/communications/calls/{cid}/redirect"
    tgt = {"identity": {"user": {"id": sim.user("deputy@contoso.test")["id"]}}}
    assert sim.post(url, token=app_token, json={"targets": []}).status_code == 400
    assert sim.post(url, token=app_token, json={"targets": [tgt] * 26}).status_code == 400
    assert sim.post(url, token=app_token, json={"targets": [tgt], "timeout": 5}).status_code == 400
    r = sim.post(url, token=app_token, json={"targets": [tgt], "timeout": 30})
    assert r.status_code == 202, r.text
    receiver.wait_for(lambda: "terminated" in receiver.states(cid))
    assert receiver.states(cid) == ["incoming", "redirecting", "terminated"]
    # an outgoing call cannot be redirected
    cid2 = make_call(sim, app_token, call_body(sim, receiver.url, "deputy@contoso.test"))
    r = sim.post(
        f"/v1.0/communications/calls/{cid2}/redirect", token=app_token, json={"targets": [tgt]}
    )
    assert r.status_code == 400


def test_incoming_call_window(fast, app_token, receiver):
    sim = fast
    r = sim.hook(
        "incoming-call",
        {"callbackUri": receiver.url, "caller": "+14255550199", "redirect_window_s": 0.3},
    )
    cid = r.json()["id"]
    receiver.wait_for(lambda: "terminated" in receiver.states(cid), timeout=5)
    tgt = {"identity": {"user": {"id": sim.user("deputy@contoso.test")["id"]}}}
    r = sim.post(
        f"/v1.0/communications/calls/{cid}/redirect", token=app_token, json={"targets": [tgt]}
    )
    assert r.status_code == 400


def test_callback_legacy_resource_field_and_issuer(fast, app_token, receiver):
    sim = fast
    sim.faults(callback_resource_field="resource", callback_issuer="https://api.botframework.com")
    cid = make_call(sim, app_token, call_body(sim, receiver.url, "deputy@contoso.test"))
    receiver.wait_for(lambda: "established" in receiver.states(cid))
    n = receiver.events[0]["body"]["value"][0]
    assert n["resource"] == f"/communications/calls/{cid}" and "resourceUrl" not in n
    assert verify_callback(sim, receiver.events[0])["iss"] == "https://api.botframework.com"


def test_group_call_and_transfer_needs_transferee(fast, app_token, receiver):
    sim = fast
    body = call_body(sim, receiver.url, "deputy@contoso.test", "assistant@contoso.test")
    cid = make_call(sim, app_token, body)
    receiver.wait_for(lambda: "established" in receiver.states(cid))
    tgt = {"identity": {"user": {"id": sim.user("nobody@contoso.test")["id"]}}}
    url = f"/v1.0/communications/calls/{cid}/transfer"
    assert sim.post(url, token=app_token, json={"transferTarget": tgt}).status_code == 400
    r = sim.post(url, token=app_token, json={"transferTarget": tgt, "transferee": tgt})
    assert r.status_code == 202


def set_behaviour(sim, upn: str, behaviour: str | None) -> str:
    r = sim.hook(
        "tenant", {"users": {"update": [{"userPrincipalName": upn, "callBehavior": behaviour}]}}
    )
    assert r.status_code == 200, r.text
    return sim.user(upn)["id"]


def transfer(sim, app_token, cid: str, target: dict):
    return sim.post(
        f"/v1.0/communications/calls/{cid}/transfer",
        token=app_token,
        json={"transferTarget": {"endpointType": "default", **target}},
    )


@pytest.mark.parametrize(
    "mode, behaviour, code, sub",
    [
        ("generic", "noanswer", 500, 7000),
        ("generic", "unreachable", 500, 7000),
        ("reason", "noanswer", 408, 10057),
        ("reason", "unreachable", 480, 10076),
    ],
)
def test_a_transfer_to_someone_who_does_not_pick_up_comes_back_with_why(
    fast, app_token, receiver, fresh_tenant, mode, behaviour, code, sub
):
    sim = fast
    sim.faults(transfer_failure_result=mode)
    callee = set_behaviour(sim, "manager@contoso.test", behaviour)
    cid = make_call(sim, app_token, call_body(sim, receiver.url, "helpdesk@contoso.test"))
    receiver.wait_for(lambda: "established" in receiver.states(cid))
    assert transfer(sim, app_token, cid, {"identity": {"user": {"id": callee}}}).status_code == 202
    receiver.wait_for(lambda: receiver.states(cid).count("established") == 2)
    assert receiver.states(cid)[-2:] == ["transferring", "established"]
    ri = receiver.events[-1]["body"]["value"][0]["resourceData"]["resultInfo"]
    assert (ri["code"], ri["subcode"]) == (code, sub)
    assert "did not answer" in ri["message"] or "could not be reached" in ri["message"]


def test_a_transfer_to_someone_who_refuses_transfers_is_refused_at_once(
    fast, app_token, receiver, fresh_tenant
):
    sim = fast
    callee = set_behaviour(sim, "manager@contoso.test", "transferrefuse")
    cid = make_call(sim, app_token, call_body(sim, receiver.url, "helpdesk@contoso.test"))
    receiver.wait_for(lambda: "established" in receiver.states(cid))
    r = transfer(sim, app_token, cid, {"identity": {"user": {"id": callee}}})
    assert_graph_error(r, 403, "Forbidden")
    assert sim.get(f"/v1.0/communications/calls/{cid}", token=app_token).json()["state"] == (
        "established"
    )


def test_the_first_leg_of_a_click_to_call_rings_the_acting_person_who_may_not_answer(
    fast, app_token, receiver, fresh_tenant
):
    sim = fast
    set_behaviour(sim, "helpdesk@contoso.test", "noanswer")
    cid = make_call(sim, app_token, call_body(sim, receiver.url, "helpdesk@contoso.test"))
    receiver.wait_for(lambda: "terminated" in receiver.states(cid))
    ri = receiver.events[-1]["body"]["value"][0]["resourceData"]["resultInfo"]
    assert (ri["code"], ri["subcode"]) == (408, 10057)


def test_a_call_from_the_resource_account_transfers_to_a_phone_number(fast, app_token, receiver):
    sim = fast
    plain = make_call(sim, app_token, call_body(sim, receiver.url, "helpdesk@contoso.test"))
    body = call_body(sim, receiver.url, "helpdesk@contoso.test", app_instance=True)
    from_line = make_call(sim, app_token, body)
    receiver.wait_for(lambda: "established" in receiver.states(from_line))
    receiver.wait_for(lambda: "established" in receiver.states(plain))
    phone = {"identity": {"phone": {"id": "+14255550100"}}}
    assert transfer(sim, app_token, plain, phone).status_code == 400
    assert transfer(sim, app_token, from_line, phone).status_code == 202
    receiver.wait_for(lambda: "terminated" in receiver.states(from_line))
    ri = receiver.events[-1]["body"]["value"][0]["resourceData"]["resultInfo"]
    assert (ri["code"], ri["subcode"]) == (0, 7015)


def test_an_incoming_call_names_the_person_the_caller_dialled(fast, receiver):
    sim = fast
    r = sim.hook(
        "incoming-call",
        {
            "callbackUri": receiver.url,
            "caller": "nobody@contoso.test",
            "called": "boss@contoso.test",
        },
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    receiver.wait_for(lambda: receiver.states(cid) == ["incoming"])
    data = receiver.events[-1]["body"]["value"][0]["resourceData"]
    called = data["incomingContext"]["onBehalfOf"]["user"]
    assert called["id"] == sim.user("boss@contoso.test")["id"]
    assert called["displayName"] == "Bea Boss"
    bad = sim.hook("incoming-call", {"callbackUri": receiver.url, "called": "ghost@contoso.test"})
    assert bad.status_code == 400
