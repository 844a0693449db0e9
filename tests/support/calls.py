"""Helpers of the calls tests against graphsim: start a call through the form, act on it, wait
for a state or a leg, and read what graphsim saw."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.support.waiting import wait_for


def behaves(sim, upn_prefix: str, behaviour: str | None) -> None:
    """How a demo person takes calls in graphsim: None picks up, `noanswer`, `unreachable`,
    `transferfail`, `transferrefuse` (the sim fixture rebuilds the tenant afterwards)."""
    change = {"userPrincipalName": f"{upn_prefix}@contoso.test", "callBehavior": behaviour}
    sim.post("tenant", {"users": {"update": [change]}})


def form_key(client, url: str) -> str:
    html = client.get(url).content.decode()
    return re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)


def placed_calls(sim) -> int:
    """How many calls graphsim was asked to place (POST /communications/calls)."""
    return sim.requests_where(lambda route: route.endswith("communications/calls"))


def graph_call_requests(sim) -> int:
    """How many requests graphsim has had that place or steer calls (anything but reads)."""
    return sim.requests_where(
        lambda route: "communications/calls" in route and not route.startswith("GET")
    )


def in_graphsim(sim, call) -> dict:
    return next(c for c in sim.get("calls")["value"] if c["id"] == call.graph_id)


def start_call(client, tenant, *, to="nobody", on_behalf_of="", phone="", key=None):
    key = key or form_key(client, reverse("calls:start"))
    data = {"idempotency_key": key, "person": tenant[to].object_id if to else "", "phone": phone}
    if on_behalf_of:
        data["on_behalf_of"] = tenant[on_behalf_of].object_id
    return client.post(reverse("calls:start"), data)


def call_left_on_the_line(client, tenant, sim, *, on_behalf_of=""):
    """Start a call to nobody, who does not answer: the put-through fails and the caller stays on
    the line (the call established, the callee's leg failed)."""
    behaves(sim, "nobody", "noanswer")
    start_call(client, tenant, to="nobody", on_behalf_of=on_behalf_of)
    return wait_leg(the_call(), "failed")


def the_call(**filters):
    from calls.models import Call  # Django is set up once the tests run, not when this loads

    return Call.objects.get(**filters) if filters else Call.objects.get()


def state_of(call) -> str:
    call.refresh_from_db()
    return call.state


def wait_state(call, state: str, timeout: float = 15.0):
    wait_for(lambda: state_of(call) == state, timeout=timeout)
    return call


def wait_leg(call, leg: str, timeout: float = 15.0):
    def reached():
        call.refresh_from_db()
        return call.callee_leg == leg

    wait_for(reached, timeout=timeout)
    return call


def act(client, call, name: str, **data):
    key = form_key(client, reverse("calls:detail", args=[call.pk]))
    return client.post(reverse(f"calls:{name}", args=[call.pk]), {"idempotency_key": key, **data})


def page_text(client, url: str) -> str:
    return client.get(url).content.decode()
