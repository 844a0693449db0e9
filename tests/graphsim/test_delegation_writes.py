"""Contract §9: adding, changing and removing delegates (accepted by default), their refusals,
the reject switch, and a write that is applied but answered with a failure."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
import requests

from tests.support.graphsim import GraphSim, assert_graph_error
from tests.support.processes import launch_graphsim, stop_graphsim

pytestmark = pytest.mark.filterwarnings("ignore:response_mode:UserWarning")

WRITE = ["CallDelegation.ReadWrite"]
READ = ["CallDelegation.Read"]
MINE = "/beta/me/communications/callSettings/delegates"
NONE_ALLOWED = dict.fromkeys(
    [
        "makeCalls",
        "receiveCalls",
        "manageCallAndDelegateSettings",
        "pickUpHeldCalls",
        "joinActiveCalls",
    ],
    False,
)


def delegates_of(person_id: str) -> str:
    return f"/beta/users/{person_id}/communications/callSettings/delegates"


def write(sim, method: str, path: str, token: str, **kw) -> requests.Response:
    headers = {"Authorization": "Bearer " + token, **kw.pop("headers", {})}
    return sim.http.request(method, sim.graph + path, headers=headers, timeout=10, **kw)


def ids(sim, *locals_: str) -> list[str]:
    return [sim.user(f"{local}@contoso.test")["id"] for local in locals_]


@pytest.fixture
def boss_writes(fresh_tenant):
    """Boss's token with CallDelegation.ReadWrite; the tenant is rebuilt afterwards."""
    return fresh_tenant.user_token("boss@contoso.test", WRITE)


def test_add_delegate_answers_201_and_the_delegate_sees_the_delegator(sim, boss_writes):
    boss, nobody = ids(sim, "boss", "nobody")
    body = {
        "@odata.type": "#microsoft.graph.delegationSettings",
        "id": nobody,
        "allowedActions": {"makeCalls": True, "receiveCalls": True},
        "isActive": True,
        "someFutureProperty": {"ignored": True},
    }
    r = write(sim, "POST", MINE, boss_writes, json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["@odata.type"] == "#microsoft.graph.delegationSettings"
    assert made["id"] == nobody and made["isActive"] is True
    assert made["allowedActions"] == {**NONE_ALLOWED, "makeCalls": True, "receiveCalls": True}
    created = datetime.fromisoformat(made["createdDateTime"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60
    assert r.headers["Location"] == sim.graph + delegates_of(boss) + "/" + nobody
    assert r.headers["request-id"]
    # at once on the delegate's side, and in every later read
    seen = sim.get(
        "/beta/me/communications/callSettings/delegators",
        token=sim.user_token("nobody@contoso.test"),
    ).json()["value"]
    assert [(d["id"], d["allowedActions"]) for d in seen] == [(boss, made["allowedActions"])]
    one = sim.get(r.headers["Location"], token=boss_writes)
    assert one.status_code == 200 and one.json()["createdDateTime"] == made["createdDateTime"]
    assert nobody in {d["delegate"] for d in sim.user("boss@contoso.test")["delegates"]}
    routes = sim.hook("stats", method="GET").json()["routes"]
    assert routes["POST /beta/{who}/communications/callSettings/{kind}"]["201"] >= 1


def test_missing_actions_mean_false_and_is_active_may_be_false(sim, boss_writes):
    boss, nobody = ids(sim, "boss", "nobody")
    body = {"id": nobody, "allowedActions": {"receiveCalls": True}, "isActive": False}
    r = write(sim, "POST", delegates_of(boss), boss_writes, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["isActive"] is False
    assert r.json()["allowedActions"] == {**NONE_ALLOWED, "receiveCalls": True}
    r = write(sim, "POST", delegates_of(boss), boss_writes, json={"id": ids(sim, "admin")[0]})
    assert r.status_code == 201 and r.json()["allowedActions"] == NONE_ALLOWED
    assert r.json()["isActive"] is True


def test_a_delegate_already_present_is_409(sim, boss_writes):
    (assistant,) = ids(sim, "assistant")
    r = write(sim, "POST", MINE, boss_writes, json={"id": assistant})
    assert_graph_error(r, 409, "delegateAlreadyExists")


def test_patch_replaces_only_the_named_actions_and_answers_204(sim, boss_writes):
    (assistant,) = ids(sim, "assistant")
    item = f"{MINE}/{assistant}"
    body = {"allowedActions": {"makeCalls": False, "joinActiveCalls": True}}
    r = write(sim, "PATCH", item, boss_writes, json=body)
    assert r.status_code == 204 and r.content == b""
    now = sim.get(item, token=boss_writes).json()
    assert now["allowedActions"] == {
        **NONE_ALLOWED,
        "receiveCalls": True,  # untouched, as pickUpHeldCalls
        "pickUpHeldCalls": True,
        "joinActiveCalls": True,
    }
    assert now["isActive"] is True
    assert write(sim, "PATCH", item, boss_writes, json={"isActive": False}).status_code == 204
    theirs = sim.get(
        "/beta/me/communications/callSettings/delegators",
        token=sim.user_token("assistant@contoso.test"),
    ).json()["value"]
    assert theirs[0]["isActive"] is False and theirs[0]["allowedActions"] == now["allowedActions"]


def test_delete_removes_the_delegate_on_both_sides(sim, boss_writes):
    (deputy,) = ids(sim, "deputy")
    r = write(sim, "DELETE", f"{MINE}/{deputy}", boss_writes, headers={"If-Match": 'W/"1"'})
    assert r.status_code == 204 and r.content == b""
    assert sim.get(f"{MINE}/{deputy}", token=boss_writes).status_code == 404
    assert sim.user("deputy@contoso.test")["delegators"] == []


def test_unknown_delegate_on_patch_or_delete_is_404(sim, boss_writes):
    item = f"{MINE}/{uuid.uuid4()}"
    assert_graph_error(write(sim, "PATCH", item, boss_writes, json={}), 404, "itemNotFound")
    assert_graph_error(write(sim, "DELETE", item, boss_writes), 404, "itemNotFound")


def test_unknown_people_are_404(sim, boss_writes):
    (nobody,) = ids(sim, "nobody")
    r = write(sim, "POST", delegates_of(str(uuid.uuid4())), boss_writes, json={"id": nobody})
    assert_graph_error(r, 404, "Request_ResourceNotFound")
    r = write(sim, "POST", MINE, boss_writes, json={"id": str(uuid.uuid4())})
    assert_graph_error(r, 404, "Request_ResourceNotFound")


def test_self_delegation_is_400(sim, boss_writes):
    (boss,) = ids(sim, "boss")
    assert_graph_error(write(sim, "POST", MINE, boss_writes, json={"id": boss}), 400, "BadRequest")


def test_the_26th_delegate_is_400(sim, boss_writes):
    truth = sim.truth()
    per_delegator = {}
    for d in truth["delegations"]:
        per_delegator.setdefault(d["delegator"], set()).add(d["delegate"])
    full = next(who for who, theirs in per_delegator.items() if len(theirs) == 25)
    (nobody,) = ids(sim, "nobody")
    assert nobody not in per_delegator[full]
    r = write(sim, "POST", delegates_of(full), boss_writes, json={"id": nobody})
    e = assert_graph_error(r, 400, "delegatesLimitReached")
    assert "25 delegates" in e["message"]


def test_the_26th_delegator_is_400(sim, boss_writes):
    nobody, boss = ids(sim, "nobody", "boss")
    others = [u["id"] for u in sim.truth()["users"] if u["id"] not in (nobody, boss)][:25]
    rows = [{"delegator": who, "delegate": nobody, "force": True} for who in others]
    assert sim.hook("tenant", {"delegations": {"set": rows}}).status_code == 200
    r = write(sim, "POST", MINE, boss_writes, json={"id": nobody})
    e = assert_graph_error(r, 400, "delegatorsLimitReached")
    assert "25 people" in e["message"]


def test_token_without_read_write_is_403(sim, fresh_tenant, app_token):
    (assistant,) = ids(sim, "assistant")
    read_only = sim.user_token("boss@contoso.test", READ)
    for method, path, body in (
        ("POST", MINE, {"id": sim.user("nobody@contoso.test")["id"]}),
        ("PATCH", f"{MINE}/{assistant}", {"isActive": False}),
        ("DELETE", f"{MINE}/{assistant}", None),
    ):
        e = assert_graph_error(write(sim, method, path, read_only, json=body), 403, "Forbidden")
        assert "CallDelegation.ReadWrite" in e["message"]
    (boss,) = ids(sim, "boss")
    r = write(sim, "DELETE", f"{delegates_of(boss)}/{assistant}", app_token)
    assert_graph_error(r, 403, "Forbidden")
    assert len(sim.user("boss@contoso.test")["delegates"]) == 4  # nothing changed


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        [{"id": "x"}],
        {"allowedActions": {"makeCalls": True}},
        {"id": "nobody@contoso.test"},
        {"id": "0000"},
        "ACTIONS",
        {"isActive": "true"},
        {"allowedActions": ["makeCalls"]},
    ],
)
def test_bad_bodies_are_400(sim, boss_writes, body):
    nobody = sim.user("nobody@contoso.test")["id"]
    if body == "ACTIONS":
        body = {"id": nobody, "allowedActions": {"makeCalls": "yes"}}
    elif isinstance(body, dict) and "isActive" in body:
        body = {"id": nobody, **body}
    if isinstance(body, str):
        r = write(
            sim, "POST", MINE, boss_writes, data=body, headers={"Content-Type": "application/json"}
        )
    else:
        r = write(sim, "POST", MINE, boss_writes, json=body)
    assert_graph_error(r, 400, "BadRequest")
    assert len(sim.user("boss@contoso.test")["delegates"]) == 4


def test_patch_with_a_non_boolean_action_is_400(sim, boss_writes):
    (assistant,) = ids(sim, "assistant")
    body = {"allowedActions": {"receiveCalls": 1}}
    assert_graph_error(
        write(sim, "PATCH", f"{MINE}/{assistant}", boss_writes, json=body), 400, "BadRequest"
    )


def test_writes_inside_a_batch(sim, boss_writes):
    boss, nobody, deputy, former = ids(sim, "boss", "nobody", "deputy", "former")
    path = f"/users/{boss}/communications/callSettings/delegates"
    json_header = {"Content-Type": "application/json"}
    items = [
        {
            "id": "add",
            "method": "POST",
            "url": path,
            "headers": json_header,
            "body": {"id": nobody},
        },
        {
            "id": "change",
            "method": "PATCH",
            "url": f"{path}/{deputy}",
            "headers": json_header,
            "body": {"allowedActions": {"makeCalls": True}},
        },
        {"id": "remove", "method": "DELETE", "url": f"{path}/{former}"},
        {"id": "read", "method": "GET", "url": path, "dependsOn": ["add", "change", "remove"]},
    ]
    r = sim.post("/beta/$batch", token=boss_writes, json={"requests": items})
    by = {x["id"]: x for x in r.json()["responses"]}
    assert (by["add"]["status"], by["change"]["status"], by["remove"]["status"]) == (201, 204, 204)
    listed = {d["id"]: d for d in by["read"]["body"]["value"]}
    assert nobody in listed and former not in listed
    assert listed[deputy]["allowedActions"]["makeCalls"] is True
    assert {d["delegate"] for d in sim.user("boss@contoso.test")["delegates"]} == set(listed)


def test_the_reject_switch_answers_405_to_every_write(sim, boss_writes):
    assert sim.info["delegation_writes"] == "accept"
    (assistant,) = ids(sim, "assistant")
    sim.faults(delegation_writes="reject")
    for method, path, body in (
        ("POST", MINE, {"id": sim.user("nobody@contoso.test")["id"]}),
        ("PATCH", f"{MINE}/{assistant}", {"isActive": False}),
        ("DELETE", f"{MINE}/{assistant}", None),
    ):
        assert_graph_error(
            write(sim, method, path, boss_writes, json=body), 405, "Request_BadRequest"
        )
    assert len(sim.user("boss@contoso.test")["delegates"]) == 4
    assert sim.hook("faults", method="GET").json()["delegation_writes"] == "reject"


def test_the_reject_flag_on_the_command_line():
    proc, info = launch_graphsim("--seed", "7", "--users", "20", "--delegation-writes", "reject")
    try:
        assert info["delegation_writes"] == "reject"
        other = GraphSim(info)
        token = other.user_token("boss@contoso.test", WRITE)
        r = other.post(MINE, token=token, json={"id": other.user("nobody@contoso.test")["id"]})
        assert_graph_error(r, 405, "Request_BadRequest")
        other.hook("reset", {"config": True})
        assert other.hook("faults", method="GET").json()["delegation_writes"] == "reject"
    finally:
        stop_graphsim(proc, info["_state_dir"])


def test_a_write_applied_then_answered_504(sim, boss_writes):
    (nobody,) = ids(sim, "nobody")
    sim.faults(
        fail_next=[{"status": 504, "after_apply": True, "path_contains": "/callSettings/delegates"}]
    )
    r = write(sim, "POST", MINE, boss_writes, json={"id": nobody})
    assert_graph_error(r, 504, "gatewayTimeout")
    assert nobody in {d["delegate"] for d in sim.user("boss@contoso.test")["delegates"]}
    again = write(sim, "POST", MINE, boss_writes, json={"id": nobody})
    assert_graph_error(again, 409, "delegateAlreadyExists")


def test_a_write_applied_then_its_connection_dropped(sim, boss_writes):
    (deputy,) = ids(sim, "deputy")
    sim.faults(fail_next=[{"status": "drop", "after_apply": True}])
    with pytest.raises(requests.ConnectionError):
        write(sim, "DELETE", f"{MINE}/{deputy}", boss_writes)
    assert sim.user("deputy@contoso.test")["delegators"] == []


def test_after_apply_must_be_a_boolean(sim):
    r = sim.hook("faults", {"fail_next": [{"status": 504, "after_apply": "yes"}]})
    assert r.status_code == 400


def test_faults_and_throttling_apply_to_writes(sim, boss_writes):
    nobody, assistant = ids(sim, "nobody", "assistant")
    sim.faults(fail_next=[{"status": 429, "retry_after": "2"}])
    r = write(sim, "POST", MINE, boss_writes, json={"id": nobody})
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    assert nobody not in {d["delegate"] for d in sim.user("boss@contoso.test")["delegates"]}
    sim.faults(throttle_rps=1)
    time.sleep(1.1)
    codes = [
        write(sim, "PATCH", f"{MINE}/{assistant}", boss_writes, json={"isActive": True}).status_code
        for _ in range(4)
    ]
    assert 429 in codes
