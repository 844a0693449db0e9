"""Contract §2, §3, §5: bearer checks, error shape, users, delta, call delegation."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support.graphsim import assert_graph_error

DELEG = ["CallDelegation.Read"]


pytestmark = pytest.mark.filterwarnings("ignore:response_mode:UserWarning")


# ------------------------------------------------------------------ auth and error shape
def test_401_without_or_with_bad_token(sim):
    crid = str(uuid.uuid4())
    r = sim.get("/v1.0/users", headers={"client-request-id": crid})
    e = assert_graph_error(r, 401, "InvalidAuthenticationToken")
    assert r.headers["client-request-id"] == crid
    assert e["innerError"]["client-request-id"] == crid
    assert_graph_error(
        sim.get("/v1.0/users", token="abc.def.ghi"), 401, "InvalidAuthenticationToken"
    )
    assert_graph_error(
        sim.get("/beta/me/communications/callSettings/delegates"), 401, "InvalidAuthenticationToken"
    )


def test_expired_token_is_401(sim):
    sim.faults(token_lifetime_s=-10)
    tok = sim.app_token()
    sim.hook("reset", {"config": True})
    assert_graph_error(sim.get("/v1.0/users", token=tok), 401, "InvalidAuthenticationToken")


def test_403_when_permission_missing(sim, app_token):
    only_me = sim.user_token("nobody@contoso.test", ["User.Read"])
    assert sim.get("/v1.0/me", token=only_me).status_code == 200
    assert_graph_error(sim.get("/v1.0/users", token=only_me), 403, "Authorization_RequestDenied")
    assert_graph_error(
        sim.get("/beta/me/communications/callSettings/delegates", token=only_me), 403, "Forbidden"
    )
    # app-only: delegation only when the switch is on
    boss = sim.user("boss@contoso.test")["id"]
    path = f"/beta/users/{boss}/communications/callSettings/delegates"
    assert_graph_error(sim.get(path, token=app_token), 403, "Forbidden")
    sim.faults(app_delegation_read=True)
    tok = sim.app_token()
    assert sim.get(path, token=tok).status_code == 200
    sim.faults(app_delegation_read=False)
    assert_graph_error(sim.get(path, token=tok), 403, "Forbidden")
    # calls need the application role
    user = sim.user_token("boss@contoso.test")
    assert_graph_error(
        sim.post("/v1.0/communications/calls", token=user, json={}), 403, "Forbidden"
    )


def test_me_with_app_token_is_rejected(sim, app_token):
    r = sim.get("/v1.0/me", token=app_token)
    assert r.status_code == 400


def test_unknown_segment(sim, app_token):
    assert_graph_error(sim.get("/v1.0/nothing", token=app_token), 400, "BadRequest")
    # delegation is beta only
    r = sim.get("/v1.0/me/communications/callSettings/delegates", token=app_token)
    assert r.status_code in (400, 404)


# ------------------------------------------------------------------ users
def test_users_paging_select_and_top_bounds(sim, app_token):
    truth = sim.truth()
    seen = []
    url = "/v1.0/users?$select=id,displayName,accountEnabled,department&$top=37"
    pages = 0
    while url:
        r = sim.get(url, token=app_token)
        assert r.status_code == 200, r.text
        body = r.json()
        for u in body["value"]:
            assert set(u) == {"id", "displayName", "accountEnabled", "department"}
        seen.extend(u["id"] for u in body["value"])
        url = body.get("@odata.nextLink")
        if url:
            assert url.startswith(sim.graph + "/v1.0/users?")
            assert "$skiptoken=" in url
        pages += 1
    assert pages == -(-len(truth["users"]) // 37)
    assert sorted(seen) == sorted(u["id"] for u in truth["users"])
    assert len(set(seen)) == len(seen)
    # default page size 100 and default properties (no accountEnabled)
    body = sim.get("/v1.0/users", token=app_token).json()
    assert len(body["value"]) == 100 and "accountEnabled" not in body["value"][0]
    assert "userPrincipalName" in body["value"][0]
    for bad in ("0", "1000", "x"):
        assert_graph_error(sim.get(f"/v1.0/users?$top={bad}", token=app_token), 400, "BadRequest")
    assert len(sim.get("/v1.0/users?$top=999", token=app_token).json()["value"]) == 300
    assert_graph_error(sim.get("/v1.0/users?$select=nope", token=app_token), 400, "BadRequest")
    r = sim.get("/v1.0/users?$skiptoken=forged", token=app_token)
    assert r.status_code == 400


def test_users_filter_basics(sim, app_token):
    r = sim.get("/v1.0/users?$filter=startswith(displayName,'bea')", token=app_token)
    assert [u["userPrincipalName"] for u in r.json()["value"]] == ["boss@contoso.test"]
    r = sim.get(
        "/v1.0/users?$filter=accountEnabled eq false&$select=id,accountEnabled&$top=999",
        token=app_token,
    )
    disabled = sim.user("disabled@contoso.test")["id"]
    assert disabled in {u["id"] for u in r.json()["value"]}
    assert all(u["accountEnabled"] is False for u in r.json()["value"])
    r = sim.get("/v1.0/users?$filter=startswith(surname,'O''Brien')", token=app_token)
    assert r.status_code == 200 and len(r.json()["value"]) == 1
    r = sim.get(
        "/v1.0/users?$filter=accountEnabled eq true and department eq 'sales'&$top=2",
        token=app_token,
    )
    body = r.json()
    assert len(body["value"]) == 2 and "$filter=" in body["@odata.nextLink"]
    nxt = sim.get(body["@odata.nextLink"], token=app_token).json()["value"]
    assert {u["id"] for u in nxt}.isdisjoint({u["id"] for u in body["value"]})
    assert sim.get("/v1.0/users?$filter=bogus(", token=app_token).status_code == 400


def test_get_user_and_404(sim, app_token):
    boss = sim.user("boss@contoso.test")
    r = sim.get(f"/v1.0/users/{boss['id']}", token=app_token)
    assert r.status_code == 200 and r.json()["displayName"] == "Bea Boss"
    r = sim.get("/v1.0/users/boss@contoso.test?$select=id,accountEnabled", token=app_token)
    assert r.json()["accountEnabled"] is True
    assert_graph_error(
        sim.get(f"/v1.0/users/{uuid.uuid4()}", token=app_token), 404, "Request_ResourceNotFound"
    )


def test_me(sim):
    tok = sim.user_token("assistant@contoso.test")
    r = sim.get("/v1.0/me?$select=id,displayName,userPrincipalName", token=tok)
    assert r.json()["userPrincipalName"] == "assistant@contoso.test"


def test_tenant_has_the_hard_cases(sim):
    truth = sim.truth()
    names = [u["displayName"] for u in truth["users"]]
    assert any("Zoë" in n for n in names)
    assert any("<script>" in n for n in names)
    assert any(any("\u0590" <= ch <= "\u06ff" for ch in n) for n in names)
    ids = {u["id"] for u in truth["users"]}
    combos = {
        tuple(sorted(k for k, v in d["allowedActions"].items() if v)) for d in truth["delegations"]
    }
    assert len(combos) == 32
    assert any(not d["isActive"] for d in truth["delegations"])
    assert any(d["delegate"] not in ids for d in truth["delegations"])  # orphan
    per = {}
    for d in truth["delegations"]:
        per[d["delegator"]] = per.get(d["delegator"], 0) + 1
    assert max(per.values()) == 25
    disabled = next(u for u in truth["users"] if u["userPrincipalName"] == "disabled@contoso.test")
    assert disabled["accountEnabled"] is False
    assert any(d["delegate"] == disabled["id"] for d in truth["delegations"])


# ------------------------------------------------------------------ delta
def _delta_round(sim, token, url):
    items = []
    while True:
        r = sim.get(url, token=token)
        assert r.status_code == 200, r.text
        body = r.json()
        items.extend(body["value"])
        if "@odata.nextLink" in body:
            assert "@odata.deltaLink" not in body
            url = body["@odata.nextLink"]
            continue
        return items, body["@odata.deltaLink"]


def test_delta_rounds_removed_and_sync_state(fresh_tenant, app_token):
    sim = fresh_tenant
    items, link = _delta_round(sim, app_token, "/v1.0/users/delta?$select=id,displayName")
    assert len(items) == 300
    items, link = _delta_round(sim, app_token, link)
    assert items == []
    nobody = sim.user("nobody@contoso.test")["id"]
    former = sim.user("former@contoso.test")["id"]
    r = sim.hook(
        "tenant",
        {
            "users": {
                "add": [{"userPrincipalName": "newbie@contoso.test", "displayName": "Nia Newbie"}],
                "update": [{"userPrincipalName": "nobody@contoso.test", "displayName": "Nils N."}],
                "remove": ["former@contoso.test"],
            }
        },
    )
    assert r.status_code == 200, r.text
    items, link2 = _delta_round(sim, app_token, link)
    by_id = {i["id"]: i for i in items}
    assert by_id[nobody]["displayName"] == "Nils N."
    assert by_id[former] == {"id": former, "@removed": {"reason": "deleted"}}
    assert any(i.get("displayName") == "Nia Newbie" for i in items)
    assert set(by_id[nobody]) == {"id", "displayName"}  # $select kept in the links
    sim.hook("delta/expire")
    r = sim.get(link2, token=app_token)
    assert_graph_error(r, 400, "syncStateNotFound")
    r = sim.get("/v1.0/users/delta?$deltatoken=bogus", token=app_token)
    assert_graph_error(r, 400, "syncStateNotFound")


def test_delta_soft_delete_reason(fresh_tenant, app_token):
    sim = fresh_tenant
    _, link = _delta_round(sim, app_token, "/v1.0/users/delta")
    uid = sim.user("deputy@contoso.test")["id"]
    sim.hook("tenant", {"users": {"remove": [{"id": uid, "reason": "changed"}]}})
    items, _ = _delta_round(sim, app_token, link)
    assert items == [{"id": uid, "@removed": {"reason": "changed"}}]


def test_delta_latest_keeps_select(fresh_tenant, app_token):
    sim = fresh_tenant
    r = sim.get("/v1.0/users/delta?$select=id,accountEnabled&$deltatoken=latest", token=app_token)
    assert r.status_code == 200 and r.json()["value"] == []
    link = r.json()["@odata.deltaLink"]
    sim.hook(
        "tenant",
        {
            "users": {
                "update": [{"userPrincipalName": "nobody@contoso.test", "accountEnabled": False}]
            }
        },
    )
    items, _ = _delta_round(sim, app_token, link)
    assert items == [{"id": sim.user("nobody@contoso.test")["id"], "accountEnabled": False}]


# ------------------------------------------------------------------ delegation
def test_delegates_of_boss(sim):
    tok = sim.user_token("boss@contoso.test")
    r = sim.get("/beta/me/communications/callSettings/delegates", token=tok)
    assert r.status_code == 200
    value = r.json()["value"]
    assert len(value) == 4
    ids = {u: sim.user(f"{u}@contoso.test")["id"] for u in ("assistant", "deputy", "former")}
    by_id = {v["id"]: v for v in value}
    a = by_id[ids["assistant"]]
    assert a["@odata.type"] == "#microsoft.graph.delegationSettings"
    assert a["isActive"] is True
    assert a["allowedActions"] == {
        "makeCalls": True,
        "receiveCalls": True,
        "manageCallAndDelegateSettings": False,
        "pickUpHeldCalls": True,
        "joinActiveCalls": False,
    }
    assert a["createdDateTime"].endswith("Z")
    assert by_id[ids["deputy"]]["allowedActions"]["makeCalls"] is False
    assert by_id[ids["former"]]["isActive"] is False
    orphan = set(by_id) - set(ids.values())
    assert len(orphan) == 1
    r = sim.get(f"/v1.0/users/{orphan.pop()}", token=sim.app_token())
    assert r.status_code == 404


def test_delegators_get_one_and_404(sim):
    tok = sim.user_token("assistant@contoso.test")
    boss = sim.user("boss@contoso.test")["id"]
    r = sim.get("/beta/me/communications/callSettings/delegators", token=tok)
    assert [v["id"] for v in r.json()["value"]] == [boss]
    r = sim.get(f"/beta/me/communications/callSettings/delegators/{boss}", token=tok)
    assert r.status_code == 200 and r.json()["id"] == boss and "value" not in r.json()
    r = sim.get(
        f"/beta/users/{boss}/communications/callSettings/delegates/{uuid.uuid4()}", token=tok
    )
    assert r.status_code == 404 and r.json()["error"]["code"]
    r = sim.get(f"/beta/users/{uuid.uuid4()}/communications/callSettings/delegates", token=tok)
    assert_graph_error(r, 404, "Request_ResourceNotFound")


@pytest.mark.parametrize("param", ["$filter", "filter"])
def test_filter_and_count(sim, param):
    tok = sim.user_token("boss@contoso.test")
    boss = sim.user("boss@contoso.test")["id"]
    r = sim.get(
        f"/beta/users/{boss}/communications/callSettings/delegates?"
        f"{param}=allowedActions/makeCalls eq true&$count=true",
        token=tok,
    )
    body = r.json()
    assert r.status_code == 200
    assert body["@odata.count"] == len(body["value"]) == 2
    assert all(v["allowedActions"]["makeCalls"] for v in body["value"])
    r = sim.get(
        f"/beta/users/{boss}/communications/callSettings/delegates?$filter=bogus", token=tok
    )
    assert r.status_code == 400


def test_delegation_writes_refused_when_rejecting(sim):
    # writes are accepted by default (test_delegation_writes.py); this is the refusing tenant
    sim.faults(delegation_writes="reject")
    tok = sim.user_token("boss@contoso.test", ["CallDelegation.ReadWrite"])
    r = sim.post("/beta/me/communications/callSettings/delegates", token=tok, json={})
    assert r.status_code in (405, 501)
    sim.faults(delegation_write_status=501)
    r = sim.post("/beta/me/communications/callSettings/delegates", token=tok, json={})
    assert r.status_code == 501


def test_delegation_paging_and_grant_id_switches(sim):
    tok = sim.user_token("boss@contoso.test")
    sim.faults(delegation_page_size=3)
    r = sim.get("/beta/me/communications/callSettings/delegates?$count=true", token=tok).json()
    assert len(r["value"]) == 3 and r["@odata.count"] == 4
    nxt = r["@odata.nextLink"]
    assert "$count=true" in nxt and dict(parse_qsl(urlsplit(nxt).query))["$skiptoken"]
    r2 = sim.get(nxt, token=tok).json()
    assert len(r2["value"]) == 1 and "@odata.nextLink" not in r2
    sim.faults(delegation_page_size=0, delegation_id_mode="grant")
    ids = {u["userPrincipalName"]: u["id"] for u in sim.truth()["users"]}
    v = sim.get("/beta/me/communications/callSettings/delegates", token=tok).json()["value"]
    assert not {x["id"] for x in v} & set(ids.values())
    one = sim.get(f"/beta/me/communications/callSettings/delegates/{v[0]['id']}", token=tok)
    assert one.status_code == 200
    boss = ids["boss@contoso.test"]
    grants = {d["grantId"] for d in sim.truth()["delegations"] if d["delegator"] == boss}
    assert grants == {x["id"] for x in v}


def test_tenant_change_delegations(fresh_tenant):
    sim = fresh_tenant
    tok = sim.user_token("nobody@contoso.test")
    r = sim.hook(
        "tenant",
        {
            "delegations": {
                "set": [
                    {
                        "delegator": "nobody@contoso.test",
                        "delegate": "deputy@contoso.test",
                        "allowedActions": {"makeCalls": True, "joinActiveCalls": True},
                    }
                ]
            }
        },
    )
    assert r.status_code == 200, r.text
    v = sim.get("/beta/me/communications/callSettings/delegates", token=tok).json()["value"]
    assert len(v) == 1 and v[0]["allowedActions"]["makeCalls"] is True
    assert v[0]["allowedActions"]["receiveCalls"] is True  # default grant
    sim.hook(
        "tenant",
        {
            "delegations": {
                "set": [
                    {
                        "delegator": "nobody@contoso.test",
                        "delegate": "deputy@contoso.test",
                        "isActive": False,
                        "allowedActions": {"makeCalls": False},
                    }
                ]
            }
        },
    )
    v = sim.get("/beta/me/communications/callSettings/delegates", token=tok).json()["value"]
    assert v[0]["isActive"] is False and v[0]["allowedActions"]["makeCalls"] is False
    assert v[0]["allowedActions"]["joinActiveCalls"] is True
    truth = sim.truth()
    nobody = sim.user("nobody@contoso.test")["id"]
    assert sum(1 for d in truth["delegations"] if d["delegator"] == nobody) == 1
    sim.hook(
        "tenant",
        {
            "delegations": {
                "remove": [{"delegator": "nobody@contoso.test", "delegate": "deputy@contoso.test"}]
            }
        },
    )
    v = sim.get("/beta/me/communications/callSettings/delegates", token=tok).json()["value"]
    assert v == []
    # the 25 limit is enforced unless forced
    big = next(d for d, n in _counts(truth).items() if n == 25)
    r = sim.hook(
        "tenant", {"delegations": {"set": [{"delegator": big, "delegate": "nobody@contoso.test"}]}}
    )
    assert r.status_code == 400


def _counts(truth):
    c = {}
    for d in truth["delegations"]:
        c[d["delegator"]] = c.get(d["delegator"], 0) + 1
    return c
