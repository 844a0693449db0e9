"""Calls against graphsim over real HTTPS (real MSAL app token, real requests), with graphsim's
signed callbacks reaching the portal under `live_server`: starting, bad input, acting on a call
(transfer, end, redirect). The two legs of a click-to-call: test_calls_two_legs.py."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from calls.models import Call, CallAction
from calls.services.start import call_start
from portal.models import AuditEvent
from tests.support.calls import (
    act,
    behaves,
    call_left_on_the_line,
    form_key,
    graph_call_requests,
    in_graphsim,
    page_text,
    placed_calls,
    start_call,
    state_of,
    the_call,
    wait_state,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def direct_call(user, calls_tenant, to="nobody", on_behalf_of=None) -> Call:
    """A call the application places straight to the callee (older calls, and what a manual
    transfer acts on): nobody from our side is on the line."""
    key = f"{to}{user.pk}".ljust(32, "0")[:32]
    result = call_start(
        user=user,
        idempotency_key=key,
        person=calls_tenant[to],
        on_behalf_of=calls_tenant[on_behalf_of] if on_behalf_of else None,
        ring_me_first=False,
    )
    return wait_state(result.call, "established")


def assert_transfers_refused_before_graph(sim, before, refused: int) -> None:
    """`refused` transfers were audited as denied; none was recorded or reached Graph."""
    assert graph_call_requests(sim) == before
    assert not CallAction.objects.exists()
    assert AuditEvent.objects.filter(action="call.transfer", outcome="denied").count() == refused


def test_a_call_on_behalf_rings_the_delegate_first_from_the_portal_with_the_subject(
    client, calls_sign_in, calls_tenant, sim
):
    calls_sign_in("assistant")
    resp = start_call(client, calls_tenant, to="nobody", on_behalf_of="boss")
    call = the_call()
    assert resp.status_code == 302 and resp["Location"] == reverse("calls:detail", args=[call.pk])
    assert call.on_behalf_of == calls_tenant["boss"] and call.graph_id and call.sent_at
    placed = in_graphsim(sim, call)
    assert placed["targets"][0]["identity"]["user"]["id"] == calls_tenant["assistant"].object_id
    assert placed["subject"] == "On behalf of Bea Boss"
    assert placed["callbackUri"].endswith(f"/calls/callback?call={call.idempotency_key}")
    wait_state(call, "terminated")
    requested = AuditEvent.objects.get(action="call.start.requested")
    assert requested.outcome == "success" and requested.ip  # the person's request, with its IP
    started = AuditEvent.objects.get(action="call.start")
    assert started.outcome == "success" and started.request_id == call.graph_request_id != ""


def test_a_double_submit_starts_one_call(client, calls_sign_in, calls_tenant, sim):
    calls_sign_in("assistant")
    key = form_key(client, reverse("calls:start"))
    before = placed_calls(sim)
    first = start_call(client, calls_tenant, on_behalf_of="boss", key=key)
    second = start_call(client, calls_tenant, on_behalf_of="boss", key=key)
    assert Call.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert placed_calls(sim) - before == 1
    assert "already" in page_text(client, second["Location"])


def test_a_call_task_delivered_twice_places_the_call_once(client, calls_sign_in, calls_tenant, sim):
    from calls.services.start import place_call

    calls_sign_in("helpdesk", "helpdesk")
    start_call(client, calls_tenant, to="nobody")
    call = the_call()
    before = placed_calls(sim)
    place_call(call.pk)  # the broker redelivers the task: the claim lets nothing through
    assert placed_calls(sim) == before


@pytest.mark.parametrize(
    "callee, words", [("noanswer", "no answer"), ("unreachable", "unreachable")]
)
def test_a_direct_call_nobody_answers_ends_and_says_why(calls_sign_in, calls_tenant, callee, words):
    user = calls_sign_in("helpdesk", "helpdesk")
    result = call_start(
        user=user, idempotency_key="d" * 32, person=calls_tenant[callee], ring_me_first=False
    )
    call = wait_state(result.call, "terminated")
    assert call.result_label == words


def test_transfer_to_a_delegate_who_may_receive_the_delegators_calls_completes(
    client, calls_sign_in, calls_tenant
):
    user = calls_sign_in("assistant")
    call = direct_call(user, calls_tenant, on_behalf_of="boss")
    detail = page_text(client, reverse("calls:detail", args=[call.pk]))
    assert calls_tenant["deputy"].object_id in detail  # suggested: deputy may receive boss's calls
    act(client, call, "transfer", target=calls_tenant["deputy"].object_id)
    wait_state(call, "terminated")
    assert call.result_label == "transfer completed"
    transfer = CallAction.objects.get(kind="transfer")
    assert transfer.outcome == "completed" and transfer.graph_request_id
    audited = AuditEvent.objects.get(action="call.transfer")
    assert audited.outcome == "success" and audited.request_id == transfer.graph_request_id


def test_a_failed_transfer_brings_the_call_back_and_says_why(client, calls_sign_in, calls_tenant):
    user = calls_sign_in("helpdesk", "helpdesk")
    call = direct_call(user, calls_tenant)
    act(client, call, "transfer", target=calls_tenant["transferfail"].object_id)
    wait_for(lambda: state_of(call) == "established" and call.result_label == "transfer failed")
    failed = CallAction.objects.get(kind="transfer")
    wait_for(lambda: CallAction.objects.get(pk=failed.pk).outcome == "failed")
    failed.refresh_from_db()
    assert "Microsoft said" in failed.message  # never "accepted" beside "transfer failed"
    page = page_text(client, reverse("calls:live", args=[call.pk]))
    assert "Accepted" not in page and "the transfer failed" in page
    # ... and it can be transferred again, this time to someone who answers.
    act(client, call, "transfer", target=calls_tenant["manager"].object_id)
    wait_state(call, "terminated")
    assert call.result_label == "transfer completed"


def test_a_transfer_on_behalf_to_someone_who_may_not_receive_the_calls_sends_nothing(
    client, calls_sign_in, calls_tenant, sim
):
    user = calls_sign_in("assistant")
    call = direct_call(user, calls_tenant, on_behalf_of="boss")
    before = graph_call_requests(sim)
    for refused in ("former", "nobody"):  # former's grant is inactive; nobody is no delegate
        resp = act(client, call, "transfer", target=calls_tenant[refused].object_id)
        assert "not" in page_text(client, resp["Location"])
    assert_transfers_refused_before_graph(sim, before, refused=2)


def test_a_call_that_rang_me_first_is_not_transferred_by_hand(
    client, calls_sign_in, calls_tenant, sim
):
    calls_sign_in("helpdesk", "helpdesk")
    call = call_left_on_the_line(client, calls_tenant, sim)
    assert 'id="transfer-form"' not in page_text(client, reverse("calls:detail", args=[call.pk]))
    resp = act(client, call, "transfer", target=calls_tenant["deputy"].object_id)
    assert "end it instead" in page_text(client, resp["Location"])


def test_ending_a_call_ends_it_and_a_stale_end_form_is_refused(
    client, calls_sign_in, calls_tenant, sim
):
    calls_sign_in("assistant")
    call = call_left_on_the_line(client, calls_tenant, sim, on_behalf_of="boss")
    assert state_of(call) == "established"
    stale_key = form_key(client, reverse("calls:detail", args=[call.pk]))
    act(client, call, "end")
    wait_state(call, "terminated")
    assert call.result_label == "hung up"
    end = CallAction.objects.get(kind="end")
    wait_for(lambda: CallAction.objects.get(pk=end.pk).outcome == "completed")
    before = graph_call_requests(sim)
    resp = client.post(reverse("calls:end", args=[call.pk]), {"idempotency_key": stale_key})
    assert "already ended" in page_text(client, resp["Location"])
    assert graph_call_requests(sim) == before


def test_someone_without_helpdesk_cannot_redirect_or_see_incoming_calls(
    client, calls_sign_in, calls_tenant, sim, live_server
):
    calls_sign_in("manager", "manager")
    sim.post("incoming-call", {"callbackUri": live_server.url + reverse("calls:callback")})
    call = wait_for(lambda: Call.objects.filter(direction="incoming").first())
    assert client.get(reverse("calls:detail", args=[call.pk])).status_code == 404
    resp = client.post(reverse("calls:redirect", args=[call.pk]), {})
    assert resp.status_code == 403


def test_the_concurrent_call_limit_is_a_plain_message_not_an_error_page(
    client, calls_sign_in, calls_tenant, sim
):
    sim.post("config", {"max_concurrent_calls": 0})
    calls_sign_in("helpdesk", "helpdesk")
    resp = start_call(client, calls_tenant, to="nobody")
    call = the_call()
    assert resp.status_code == 302 and call.state == "failed"
    assert call.callee_leg == "not_dialled"
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
    "a number with an extension": (
        "helpdesk",
        {"person": "", "phone": "+1 425 555 0100 ext 5"},
        "cannot dial extension 5",
    ),
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
    "a delegate calling as their own": ("assistant", {}, "only call on someone"),
}


@pytest.mark.parametrize("case", BAD_STARTS)
def test_bad_input_gets_a_clear_message_and_sends_nothing(
    client, calls_sign_in, calls_tenant, sim, settings, case
):
    who, overrides, message = BAD_STARTS[case]
    overrides = {"person": "@manager", **overrides}
    settings.CALLS_APP_INSTANCE_ID = "" if overrides.pop("no_app", "") else "app-instance-1"
    calls_sign_in(who, "helpdesk" if who == "helpdesk" else None)
    # Someone offered no form may still post one (an old tab, a forged request).
    data = {"idempotency_key": uuid.uuid4().hex}
    for field, value in overrides.items():
        data[field] = calls_tenant[value[1:]].object_id if value.startswith("@") else value
    before = graph_call_requests(sim)
    resp = client.post(reverse("calls:start"), data)
    # Someone who may place no call at all is told why (403), without the form.
    assert resp.status_code == (403 if who in ("deputy", "nobody") else 200)
    assert message in resp.content.decode()
    assert not Call.objects.exists()
    assert graph_call_requests(sim) == before


def test_a_delegate_whose_grant_is_revoked_mid_call_cannot_transfer_it(
    client, calls_sign_in, calls_tenant, sim
):
    from delegation.models import Delegation

    user = calls_sign_in("assistant")
    call = direct_call(user, calls_tenant, on_behalf_of="boss")
    Delegation.objects.filter(delegate=calls_tenant["assistant"]).delete()  # the sync saw it go
    before = graph_call_requests(sim)
    resp = act(client, call, "transfer", target=calls_tenant["deputy"].object_id)
    assert "no longer active" in page_text(client, resp["Location"])
    assert_transfers_refused_before_graph(sim, before, refused=1)


def test_a_grant_revoked_since_the_form_was_shown_is_refused(
    client, calls_sign_in, calls_tenant, sim
):
    from delegation.models import Delegation

    calls_sign_in("assistant")
    key = form_key(
        client, reverse("calls:start") + f"?on_behalf_of={calls_tenant['boss'].object_id}"
    )
    Delegation.objects.filter(delegate=calls_tenant["assistant"]).update(is_active=False)
    before = graph_call_requests(sim)
    resp = start_call(client, calls_tenant, on_behalf_of="boss", key=key)
    assert "does not let you make calls" in resp.content.decode()
    assert graph_call_requests(sim) == before


def test_someone_elses_call_is_not_there_for_them(
    client, calls_sign_in, calls_tenant, sim, make_user
):
    calls_sign_in("assistant")
    call = call_left_on_the_line(client, calls_tenant, sim, on_behalf_of="boss")
    client.force_login(make_user(None))
    before = graph_call_requests(sim)
    for name in ("detail", "live"):
        assert client.get(reverse(f"calls:{name}", args=[call.pk])).status_code == 404
    for name in ("end", "transfer"):
        assert client.post(reverse(f"calls:{name}", args=[call.pk]), {}).status_code == 404
    assert graph_call_requests(sim) == before
    assert state_of(call) == "established"


def test_a_consultative_transfer_names_the_consultation_call(client, calls_sign_in, calls_tenant):
    user = calls_sign_in("helpdesk", "helpdesk")
    first = direct_call(user, calls_tenant, to="nobody")
    consultation = direct_call(user, calls_tenant, to="manager")
    detail = page_text(client, reverse("calls:detail", args=[first.pk]))
    assert "Call to Mona Manager" in detail  # offered as the call to replace
    act(
        client,
        first,
        "transfer",
        target=calls_tenant["manager"].object_id,
        replaces=consultation.pk,
    )
    transfer = CallAction.objects.get(kind="transfer")
    assert transfer.replaces_call == consultation
    wait_state(first, "terminated")
    assert first.result_label == "transfer completed"


def test_a_live_fragment_of_an_ended_call_reloads_the_page_once(
    client, calls_sign_in, calls_tenant, sim
):
    behaves(sim, "helpdesk", "noanswer")
    calls_sign_in("helpdesk", "helpdesk")
    start_call(client, calls_tenant, to="nobody")
    call = wait_state(the_call(), "terminated")
    live = client.get(reverse("calls:live", args=[call.pk]), HTTP_HX_REQUEST="true")
    assert live["HX-Refresh"] == "true"
    assert b"hx-trigger" not in live.content  # polling stops
