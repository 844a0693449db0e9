"""Licences in graphsim: assignedPlans per person (Teams Phone is the MCOEV service plan), the
share of people with Teams Phone, and the delegators who lost it but keep their grants."""

from __future__ import annotations

from tests.support.graphsim import session_for
from tests.support.processes import launch_graphsim, stop_graphsim

TEAMS_PHONE = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"  # MCOEV
COMMUNICATIONS = "MicrosoftCommunicationsOnline"


def teams_phone_status(plans: list[dict]) -> str | None:
    """capabilityStatus of the Teams Phone plan, or None when the person never had it."""
    for plan in plans:
        if plan["servicePlanId"] == TEAMS_PHONE:
            return plan["capabilityStatus"]
    return None


def everyone(sim, token: str, select: str) -> list[dict]:
    people, url = [], f"/v1.0/users?$select={select}&$top=999"
    while url:
        body = sim.get(url, token=token).json()
        people += body["value"]
        url = body.get("@odata.nextLink")
    return people


def test_assigned_plans_are_listed_only_when_selected(sim, app_token):
    plain = sim.get("/v1.0/users?$top=5", token=app_token).json()["value"]
    assert all("assignedPlans" not in person for person in plain)

    people = everyone(sim, app_token, "id,assignedPlans")

    boss = sim.user("boss@contoso.test")
    plans = next(p["assignedPlans"] for p in people if p["id"] == boss["id"])
    assert teams_phone_status(plans) == "Enabled"
    phone = next(plan for plan in plans if plan["servicePlanId"] == TEAMS_PHONE)
    assert phone["service"] == COMMUNICATIONS and phone["assignedDateTime"].endswith("Z")
    # Another plan under the same service: the service name alone does not mean Teams Phone.
    assert any(p["service"] == COMMUNICATIONS and p["servicePlanId"] != TEAMS_PHONE for p in plans)


def test_only_people_with_teams_phone_delegate_but_a_few_who_lost_it(sim):
    truth = sim.truth()
    status = {u["id"]: teams_phone_status(u["assignedPlans"]) for u in truth["users"]}
    delegators = {g["delegator"] for g in truth["delegations"]}

    lapsed = {person for person in delegators if status[person] != "Enabled"}

    assert lapsed and all(status[person] == "Deleted" for person in lapsed)
    assert len(lapsed) <= len(delegators) // 10
    voice = [person for person, s in status.items() if s == "Enabled"]
    assert 0.15 < len(voice) / len(status) < 0.4  # about a quarter by default


def test_the_voice_share_is_a_command_line_setting():
    proc, info = launch_graphsim("--seed", "5", "--users", "1000", "--voice-share", "0.6")
    try:
        http = session_for(info["ca"])
        truth = http.get(info["sim"] + "/truth", timeout=30).json()
    finally:
        stop_graphsim(proc, info["_state_dir"])
    voice = [u for u in truth["users"] if teams_phone_status(u["assignedPlans"]) == "Enabled"]
    assert 0.5 < len(voice) / len(truth["users"]) < 0.7


def test_a_licence_change_shows_in_the_next_delta_round(fresh_tenant, app_token):
    sim = fresh_tenant
    url = "/v1.0/users/delta?$select=id,assignedPlans"
    while url:
        body = sim.get(url, token=app_token).json()
        url = body.get("@odata.nextLink")
    link = body["@odata.deltaLink"]
    boss = sim.user("boss@contoso.test")
    removed = [
        {**plan, "capabilityStatus": "Deleted"} if plan["servicePlanId"] == TEAMS_PHONE else plan
        for plan in boss["assignedPlans"]
    ]

    sim.hook("tenant", {"users": {"update": [{"id": boss["id"], "assignedPlans": removed}]}})

    items = sim.get(link, token=app_token).json()["value"]
    assert [(i["id"], teams_phone_status(i["assignedPlans"])) for i in items] == [
        (boss["id"], "Deleted")
    ]
