"""Calls against graphsim over real HTTPS (real MSAL app token, real requests), with graphsim's
signed callbacks reaching the portal under `live_server`."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from calls.models import Call, CallAction
from portal.models import AuditEvent
from tests.support.factories import load_demo_directory
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tenant(sim, graph_settings, live_server, settings):
    """The demo tenant in the local cache; callbacks go to this test's live server."""
    settings.CALLS_CALLBACK_BASE_URL = live_server.url
    people = load_demo_directory(sim.get("truth"))
    yield people
    sim.post("reset", {"calls": True, "config": True})


@pytest.fixture
def signed_in(client, make_user, tenant):
    """Sign the test client in as one of the demo people (no MSAL: see test_calls_live_check)."""

    def sign_in(upn_prefix: str, role: str | None = None):
        person = tenant[upn_prefix]
        user = make_user(role, upn=person.upn, object_id=person.object_id)
        client.force_login(user)
        return user

    return sign_in


def form_key(client, url: str) -> str:
    html = client.get(url).content.decode()
    return re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)


def graph_call_requests(sim) -> int:
    """How many requests graphsim has had that place or steer calls (anything but reads)."""
    routes = sim.get("stats")["routes"]
    return sum(
        sum(by_status.values())
        for route, by_status in routes.items()
        if "communications/calls" in route and not route.startswith("GET")
    )


def start_call(client, tenant, *, to="nobody", on_behalf_of="", phone="", key=None):
    key = key or form_key(client, reverse("calls:start"))
    data = {"idempotency_key": key, "person": tenant[to].object_id if to else "", "phone": phone}
    if on_behalf_of:
        data["on_behalf_of"] = tenant[on_behalf_of].object_id
    return client.post(reverse("calls:start"), data)


def the_call(**filters) -> Call:
    return Call.objects.get(**filters) if filters else Call.objects.get()


def state_of(call: Call) -> str:
    call.refresh_from_db()
    return call.state


def wait_state(call: Call, state: str, timeout: float = 15.0) -> Call:
    wait_for(lambda: state_of(call) == state, timeout=timeout)
    return call


def act(client, call: Call, name: str, **data):
    key = form_key(client, reverse("calls:detail", args=[call.pk]))
    return client.post(reverse(f"calls:{name}", args=[call.pk]), {"idempotency_key": key, **data})


def page_text(client, url: str) -> str:
    return client.get(url).content.decode()


def test_delegate_starts_a_call_on_behalf_of_their_delegator_and_sees_it_connected(
    client, signed_in, tenant, sim
):
    signed_in("assistant")
    resp = start_call(client, tenant, to="nobody", on_behalf_of="boss")
    call = the_call()
    assert resp.status_code == 302 and resp["Location"] == reverse("calls:detail", args=[call.pk])
    assert call.on_behalf_of == tenant["boss"] and call.graph_id
    wait_state(call, "established")
    placed = [c for c in sim.get("calls")["value"] if c["id"] == call.graph_id][0]
    assert placed["subject"] == "On behalf of Bea Boss"
    assert placed["callbackUri"].endswith(f"/calls/callback?call={call.idempotency_key}")
    page = page_text(client, reverse("calls:live", args=[call.pk]))
    assert "Connected" in page and "Ringing" in page  # the timeline holds both notifications
    started = AuditEvent.objects.get(action="call.start")
    assert started.outcome == "success" and started.request_id == call.graph_request_id != ""


def test_late_and_repeated_notifications_do_not_move_the_call_back(client, signed_in, tenant, sim):
    sim.post("config", {"callback_disorder": "both"})  # establishing arrives late, all twice
    signed_in("helpdesk", "helpdesk")
    start_call(client, tenant, to="nobody")
    call = wait_state(the_call(), "established")
    wait_for(lambda: call.events.filter(state="establishing").exists())
    assert state_of(call) == "established"
    assert call.events.filter(state="establishing", applied=False).exists()
    notes = [c for c in sim.get("calls")["value"] if c["id"] == call.graph_id][0]["notifications"]
    assert len(notes) > call.events.count()  # the duplicates were delivered, and stored once


def test_a_double_submit_starts_one_call(client, signed_in, tenant, sim):
    signed_in("assistant")
    key = form_key(client, reverse("calls:start"))
    before = graph_call_requests(sim)
    first = start_call(client, tenant, on_behalf_of="boss", key=key)
    second = start_call(client, tenant, on_behalf_of="boss", key=key)
    assert Call.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert graph_call_requests(sim) - before == 1
    assert "already" in page_text(client, second["Location"])


def test_helpdesk_calls_a_phone_number_normalised_to_e164(client, signed_in, tenant, sim, settings):
    settings.CALLS_APP_INSTANCE_ID = "6f0c7b1e-0000-4000-8000-00000000a11e"
    signed_in("helpdesk", "helpdesk")
    start_call(client, tenant, to=None, phone="(425) 555-0100")
    call = wait_state(the_call(), "established")
    assert call.target_phone == "+14255550100" and call.on_behalf_of is None
    placed = [c for c in sim.get("calls")["value"] if c["id"] == call.graph_id][0]
    assert placed["targets"][0]["identity"]["phone"]["id"] == "+14255550100"
    assert (
        placed["source"]["identity"]["applicationInstance"]["id"] == settings.CALLS_APP_INSTANCE_ID
    )


@pytest.mark.parametrize(
    "callee, words", [("noanswer", "no answer"), ("unreachable", "unreachable")]
)
def test_a_call_nobody_answers_ends_and_says_why(client, signed_in, tenant, callee, words):
    signed_in("helpdesk", "helpdesk")
    start_call(client, tenant, to=callee)
    call = wait_state(the_call(), "terminated")
    assert call.result_label == words
    assert words in page_text(client, reverse("calls:live", args=[call.pk]))


def test_transfer_to_a_delegate_who_may_receive_the_delegators_calls_completes(
    client, signed_in, tenant
):
    signed_in("assistant")
    start_call(client, tenant, to="nobody", on_behalf_of="boss")
    call = wait_state(the_call(), "established")
    detail = page_text(client, reverse("calls:detail", args=[call.pk]))
    assert tenant["deputy"].object_id in detail  # suggested: deputy may receive boss's calls
    act(client, call, "transfer", target=tenant["deputy"].object_id)
    wait_state(call, "terminated")
    assert call.result_label == "transfer completed"
    transfer = CallAction.objects.get(kind="transfer")
    assert transfer.outcome == "accepted" and transfer.graph_request_id
    audited = AuditEvent.objects.get(action="call.transfer")
    assert audited.outcome == "success" and audited.request_id == transfer.graph_request_id


def test_a_failed_transfer_brings_the_call_back_and_says_so(client, signed_in, tenant):
    signed_in("helpdesk", "helpdesk")
    start_call(client, tenant, to="nobody")
    call = wait_state(the_call(), "established")
    act(client, call, "transfer", target=tenant["transferfail"].object_id)
    wait_for(lambda: state_of(call) == "established" and call.result_label == "transfer failed")
    # ... and it can be transferred again, this time to someone who answers.
    act(client, call, "transfer", target=tenant["manager"].object_id)
    wait_state(call, "terminated")
    assert call.result_label == "transfer completed"


def test_a_transfer_on_behalf_to_someone_who_may_not_receive_the_calls_sends_nothing(
    client, signed_in, tenant, sim
):
    signed_in("assistant")
    start_call(client, tenant, to="nobody", on_behalf_of="boss")
    call = wait_state(the_call(), "established")
    before = graph_call_requests(sim)
    for refused in ("former", "nobody"):  # former's grant is inactive; nobody is no delegate
        resp = act(client, call, "transfer", target=tenant[refused].object_id)
        assert "not" in page_text(client, resp["Location"])
    assert graph_call_requests(sim) == before
    assert not CallAction.objects.exists()
    assert AuditEvent.objects.filter(action="call.transfer", outcome="denied").count() == 2


def test_ending_a_call_ends_it_and_a_stale_end_form_is_refused(client, signed_in, tenant, sim):
    signed_in("assistant")
    start_call(client, tenant, to="nobody", on_behalf_of="boss")
    call = wait_state(the_call(), "established")
    stale_key = form_key(client, reverse("calls:detail", args=[call.pk]))
    act(client, call, "end")
    wait_state(call, "terminated")
    assert call.result_label == "ended"
    before = graph_call_requests(sim)
    resp = client.post(reverse("calls:end", args=[call.pk]), {"idempotency_key": stale_key})
    assert "already ended" in page_text(client, resp["Location"])
    assert graph_call_requests(sim) == before


def test_helpdesk_redirects_an_incoming_call_to_a_delegators_receivers(
    client, signed_in, tenant, sim, live_server
):
    signed_in("helpdesk", "helpdesk")
    callback = live_server.url + reverse("calls:callback")
    sim.post("incoming-call", {"callbackUri": callback, "caller": "nobody@contoso.test"})
    call = wait_for(lambda: Call.objects.filter(direction="incoming", state="incoming").first())
    assert call.caller_display == "Nils Nobody"
    assert "Nils Nobody" in page_text(client, reverse("calls:incoming"))
    act(client, call, "redirect", delegator=tenant["boss"].object_id)
    wait_state(call, "terminated")
    redirect = CallAction.objects.get(kind="redirect")
    rang = {t["id"] for t in redirect.targets}
    assert rang == {tenant["assistant"].object_id, tenant["deputy"].object_id}
    placed = [c for c in sim.get("calls")["value"] if c["id"] == call.graph_id]
    assert not placed or placed[0]["state"] == "terminated"


def test_someone_without_helpdesk_cannot_redirect_or_see_incoming_calls(
    client, signed_in, tenant, sim, live_server
):
    signed_in("manager", "manager")
    sim.post("incoming-call", {"callbackUri": live_server.url + reverse("calls:callback")})
    call = wait_for(lambda: Call.objects.filter(direction="incoming").first())
    assert client.get(reverse("calls:detail", args=[call.pk])).status_code == 404
    resp = client.post(reverse("calls:redirect", args=[call.pk]), {})
    assert resp.status_code == 403


def test_the_concurrent_call_limit_is_a_plain_message_not_an_error_page(
    client, signed_in, tenant, sim
):
    sim.post("config", {"max_concurrent_calls": 0})
    signed_in("helpdesk", "helpdesk")
    resp = start_call(client, tenant, to="nobody")
    call = the_call()
    assert resp.status_code == 302 and call.state == "failed"
    page = page_text(client, resp["Location"])
    assert "limit of 100 simultaneous calls" in page and "Not placed" in page
    assert AuditEvent.objects.get(action="call.start").outcome == "failure"


BAD_STARTS = {
    "an unknown person": (
        "assistant",
        {"person": "00000000-0000-0000-0000-00000000beef"},
        "not in the directory",
    ),
    "a disabled account": ("helpdesk", {"person": "@disabled"}, "cannot be called"),
    "an invalid number": ("helpdesk", {"person": "", "phone": "12"}, "number is not valid"),
    "a number without a resource account": (
        "helpdesk",
        {"person": "", "phone": "+14255550100", "no_app": "yes"},
        "CALLS_APP_INSTANCE_ID",
    ),
    "a delegator who does not allow it": (
        "deputy",
        {"on_behalf_of": "@boss"},
        "does not let you make calls",
    ),
    "no delegator and no helpdesk": ("nobody", {}, "Nobody has made you a delegate"),
    "nobody to call": ("helpdesk", {"person": ""}, "Choose a person"),
    "both a person and a number": ("helpdesk", {"phone": "+14255550100"}, "not both"),
}


@pytest.mark.parametrize("case", BAD_STARTS)
def test_bad_input_gets_a_clear_message_and_sends_nothing(
    client, signed_in, tenant, sim, settings, case
):
    who, overrides, message = BAD_STARTS[case]
    overrides = {"person": "@manager", **overrides}
    settings.CALLS_APP_INSTANCE_ID = "" if overrides.pop("no_app", "") else "app-instance-1"
    signed_in(who, "helpdesk" if who == "helpdesk" else None)
    data = {"idempotency_key": uuid.uuid4().hex}
    for field, value in overrides.items():
        data[field] = tenant[value[1:]].object_id if value.startswith("@") else value
    before = graph_call_requests(sim)
    resp = client.post(reverse("calls:start"), data)
    # Someone who may place no call at all is told why (403), without the form.
    assert resp.status_code == (403 if who in ("deputy", "nobody") else 200)
    assert message in resp.content.decode()
    assert not Call.objects.exists()
    assert graph_call_requests(sim) == before


def test_a_delegate_whose_grant_is_revoked_mid_call_cannot_transfer_it(
    client, signed_in, tenant, sim
):
    from delegation.models import Delegation

    signed_in("assistant")
    start_call(client, tenant, to="nobody", on_behalf_of="boss")
    call = wait_state(the_call(), "established")
    Delegation.objects.filter(delegate=tenant["assistant"]).delete()  # the sync saw it go
    before = graph_call_requests(sim)
    resp = act(client, call, "transfer", target=tenant["deputy"].object_id)
    assert "no longer active" in page_text(client, resp["Location"])
    assert graph_call_requests(sim) == before
    assert not CallAction.objects.exists()
    assert AuditEvent.objects.filter(action="call.transfer", outcome="denied").count() == 1


def test_a_grant_revoked_since_the_form_was_shown_is_refused(client, signed_in, tenant, sim):
    from delegation.models import Delegation

    signed_in("assistant")
    key = form_key(client, reverse("calls:start") + f"?on_behalf_of={tenant['boss'].object_id}")
    Delegation.objects.filter(delegate=tenant["assistant"]).update(is_active=False)
    before = graph_call_requests(sim)
    resp = start_call(client, tenant, on_behalf_of="boss", key=key)
    assert "does not let you make calls" in resp.content.decode()
    assert graph_call_requests(sim) == before


def test_someone_elses_call_is_not_there_for_them(client, signed_in, tenant, sim, make_user):
    signed_in("assistant")
    start_call(client, tenant, to="nobody", on_behalf_of="boss")
    call = wait_state(the_call(), "established")
    client.force_login(make_user(None))
    before = graph_call_requests(sim)
    for name in ("detail", "live"):
        assert client.get(reverse(f"calls:{name}", args=[call.pk])).status_code == 404
    for name in ("end", "transfer"):
        assert client.post(reverse(f"calls:{name}", args=[call.pk]), {}).status_code == 404
    assert graph_call_requests(sim) == before
    assert state_of(call) == "established"


def test_a_consultative_transfer_names_the_consultation_call(client, signed_in, tenant):
    signed_in("helpdesk", "helpdesk")
    start_call(client, tenant, to="nobody")
    start_call(client, tenant, to="manager")
    first, consultation = Call.objects.order_by("pk")
    wait_state(first, "established")
    wait_state(consultation, "established")
    detail = page_text(client, reverse("calls:detail", args=[first.pk]))
    assert "Call to Mona Manager" in detail  # offered as the call to replace
    act(client, first, "transfer", target=tenant["manager"].object_id, replaces=consultation.pk)
    transfer = CallAction.objects.get(kind="transfer")
    assert transfer.replaces_call == consultation and transfer.outcome == "accepted"
    wait_state(first, "terminated")
    assert first.result_label == "transfer completed"


def test_helpdesk_redirects_an_incoming_call_to_one_person(
    client, signed_in, tenant, sim, live_server
):
    signed_in("helpdesk", "helpdesk")
    sim.post("incoming-call", {"callbackUri": live_server.url + reverse("calls:callback")})
    call = wait_for(lambda: Call.objects.filter(direction="incoming", state="incoming").first())
    act(client, call, "redirect", person=tenant["noanswer"].object_id)
    wait_state(call, "terminated")
    assert CallAction.objects.get().targets[0]["id"] == tenant["noanswer"].object_id
    assert call.result_label == "no answer"


def test_a_live_fragment_of_an_ended_call_reloads_the_page_once(client, signed_in, tenant):
    signed_in("helpdesk", "helpdesk")
    start_call(client, tenant, to="unreachable")
    call = wait_state(the_call(), "terminated")
    live = client.get(reverse("calls:live", args=[call.pk]), HTTP_HX_REQUEST="true")
    assert live["HX-Refresh"] == "true"
    assert b"hx-trigger" not in live.content  # polling stops
