"""graphsim's managers: the listing's $expand=manager (100 to a page, as Graph), one user's,
and users/delta's manager@delta when `manager` is selected; the demo's managers follow
departments."""

from __future__ import annotations

from tests.support.graphsim import assert_graph_error

EXPAND = "/v1.0/users?$select=id,department&$expand=manager($select=id)&$top=999"
REF = "#microsoft.graph.user"


def _everyone(sim, token, url):
    items, pages = [], 0
    while url:
        body = sim.get(url, token=token).json()
        items += body["value"]
        url, pages = body.get("@odata.nextLink"), pages + 1
    return items, pages


def test_the_listing_expands_the_manager_100_people_a_page(sim, app_token):
    truth = {u["id"]: u for u in sim.truth()["users"]}
    items, pages = _everyone(sim, app_token, EXPAND)
    assert pages == -(-len(truth) // 100) and len(items) == len(truth)
    for item in items:
        manager = truth[item["id"]]["manager"]
        if manager:
            assert item["manager"] == {"@odata.type": REF, "id": manager}
        else:
            assert "manager" not in item
    boss = sim.user("boss@contoso.test")["id"]
    mona = sim.user("manager@contoso.test")["id"]
    assert truth[mona]["manager"] == boss and truth[boss]["manager"] is None
    # Managers follow departments: a generated person's manager is in their department.
    generated = [u for u in truth.values() if u["manager"] and u["manager"] != boss]
    assert generated and all(
        truth[u["manager"]]["department"] == u["department"] for u in generated
    )
    one = sim.get(f"/v1.0/users/{mona}?$expand=manager", token=app_token).json()
    assert one["manager"]["id"] == boss
    r = sim.get("/v1.0/users?$expand=directReports", token=app_token)
    assert_graph_error(r, 400, "BadRequest")


def test_delta_reports_a_new_manager_and_one_taken_away(fresh_tenant, app_token):
    sim = fresh_tenant
    url = "/v1.0/users/delta?$select=id,displayName,manager&$deltatoken=latest"
    link = sim.get(url, token=app_token).json()["@odata.deltaLink"]
    nils = sim.user("nobody@contoso.test")["id"]
    mona = sim.user("manager@contoso.test")["id"]
    sim.hook("tenant", {"users": {"update": [{"id": nils, "manager": mona}]}})
    body = sim.get(link, token=app_token).json()
    [item] = body["value"]
    assert item["manager@delta"] == [{"@odata.type": REF, "id": mona}]
    sim.hook("tenant", {"users": {"update": [{"id": nils, "manager": None}]}})
    [item] = sim.get(body["@odata.deltaLink"], token=app_token).json()["value"]
    assert item["manager@delta"] == [
        {"@odata.type": REF, "id": mona, "@removed": {"reason": "deleted"}}
    ]
