"""A click-to-call in two legs, against graphsim: the portal rings the acting person's own
Teams; once they answer, it transfers them to the callee. Each leg's failures: the first leg
unanswered (the callee is never dialled), the callee unanswered, the transfer refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from calls.models import CallAction
from calls.services.send import put_through_if_answered
from portal.models import AuditEvent
from tests.support.calls import (
    act,
    behaves,
    call_left_on_the_line,
    in_graphsim,
    page_text,
    start_call,
    state_of,
    the_call,
    wait_leg,
    wait_state,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def helpdesk(calls_sign_in):
    return calls_sign_in("helpdesk", "helpdesk")


def transfers_sent(sim, call) -> int:
    """How many transfers Graph took for this call: each goes through `transferring`."""
    return in_graphsim(sim, call)["history"].count("transferring")


def test_both_legs_answered_puts_the_person_through_to_the_callee(
    client, helpdesk, calls_tenant, sim
):
    start_call(client, calls_tenant, to="nobody")
    call = the_call()
    assert call.rings_me_first and call.first_leg_object_id == calls_tenant["helpdesk"].object_id
    first_leg = in_graphsim(sim, call)
    assert first_leg["targets"][0]["identity"]["user"]["id"] == calls_tenant["helpdesk"].object_id
    wait_state(call, "terminated")
    assert (call.result_code, call.result_subcode) == ("0", "7015")
    assert call.callee_leg == "talking"
    assert call.answered_at <= call.callee_rang_at <= call.callee_answered_at <= call.ended_at
    assert transfers_sent(sim, call) == 1
    put_through = CallAction.objects.get(call=call, kind="handover")
    assert put_through.outcome == "completed" and put_through.graph_request_id
    assert put_through.targets == [
        {"id": calls_tenant["nobody"].object_id, "display": "Nils Nobody"}
    ]
    audited = AuditEvent.objects.get(action="call.put_through")
    assert audited.outcome == "success" and audited.request_id == put_through.graph_request_id
    page = page_text(client, reverse("calls:live", args=[call.pk]))
    assert "Hugo Helpdesk was put through to Nils Nobody" in page
    assert "handed over to Teams" in page


def test_the_first_leg_unanswered_never_dials_the_callee(client, helpdesk, calls_tenant, sim):
    behaves(sim, "helpdesk", "noanswer")
    start_call(client, calls_tenant, to="nobody")
    call = wait_state(the_call(), "terminated")
    assert call.result_label == "no answer" and call.callee_leg == "not_dialled"
    assert call.callee_rang_at is None and transfers_sent(sim, call) == 0
    assert not CallAction.objects.exists()
    page = page_text(client, reverse("calls:live", args=[call.pk]))
    assert "Nils Nobody was never dialled" in page


@pytest.mark.parametrize(
    "mode, why",
    [
        ("generic", 'transfer failed: Microsoft said "The transfer target did not answer."'),
        ("reason", "no answer"),
    ],
)
def test_the_callee_unanswered_brings_the_person_back_says_why_and_offers_to_end(
    client, helpdesk, calls_tenant, sim, mode, why
):
    sim.post("config", {"transfer_failure_result": mode})
    call = call_left_on_the_line(client, calls_tenant, sim)
    assert state_of(call) == "established" and call.callee_leg_reason == why
    put_through = CallAction.objects.get(kind="handover")
    wait_for(lambda: CallAction.objects.get(pk=put_through.pk).outcome == "failed")
    detail = page_text(client, reverse("calls:detail", args=[call.pk]))
    assert "Not put through" in detail and why.replace('"', "&quot;") in detail
    assert 'id="end-form"' in detail
    act(client, call, "end")
    wait_state(call, "terminated")
    call.refresh_from_db()
    assert call.callee_leg == "failed"  # ending it keeps why the callee was not reached


def test_a_refused_transfer_leaves_the_person_on_the_line_and_says_why(
    client, helpdesk, calls_tenant, sim
):
    behaves(sim, "nobody", "transferrefuse")
    start_call(client, calls_tenant, to="nobody")
    call = wait_leg(the_call(), "failed")
    assert state_of(call) == "established"
    assert call.callee_leg_reason.startswith("Microsoft refused the transfer")
    put_through = CallAction.objects.get(kind="handover")
    assert put_through.outcome == "failed" and put_through.graph_request_id
    assert AuditEvent.objects.get(action="call.put_through").outcome == "failure"
    assert transfers_sent(sim, call) == 0


def test_the_transfer_is_sent_once_however_often_and_in_whatever_order_the_answer_comes(
    client, helpdesk, calls_tenant, sim
):
    sim.post("config", {"callback_disorder": "both"})  # established first, and twice
    start_call(client, calls_tenant, to="nobody")
    call = wait_state(the_call(), "terminated")
    wait_for(lambda: call.events.filter(state="establishing").exists())
    assert call.events.filter(state="established", applied=False).exists()  # the repeat
    assert put_through_if_answered(call.pk) is None  # a late claim finds it taken
    assert transfers_sent(sim, call) == 1
    assert CallAction.objects.filter(kind="handover").count() == 1
    assert call.callee_leg == "talking"


def test_a_phone_number_is_reached_through_the_resource_account(
    client, helpdesk, calls_tenant, sim, settings
):
    settings.CALLS_APP_INSTANCE_ID = "6f0c7b1e-0000-4000-8000-00000000a11e"
    start_call(client, calls_tenant, to=None, phone="0044 20 7946 0958")
    call = wait_state(the_call(), "terminated")
    assert call.target_phone == "+442079460958" and call.callee_leg == "talking"
    first_leg = in_graphsim(sim, call)
    assert first_leg["targets"][0]["identity"]["user"]["id"] == calls_tenant["helpdesk"].object_id
    source = first_leg["source"]["identity"]["applicationInstance"]["id"]
    assert source == settings.CALLS_APP_INSTANCE_ID  # else Graph refuses a transfer to a number
    put_through = CallAction.objects.get(kind="handover")
    assert put_through.targets == [{"phone": "+442079460958", "display": "+442079460958"}]
    assert put_through.outcome == "completed"


def test_a_delegation_revoked_while_the_delegate_rang_stops_the_put_through(
    client, calls_sign_in, calls_tenant, sim
):
    from delegation.models import Delegation

    sim.post("config", {"answer_ms": 1500})
    calls_sign_in("assistant")
    start_call(client, calls_tenant, to="nobody", on_behalf_of="boss")
    Delegation.objects.filter(delegate=calls_tenant["assistant"]).update(make_calls=False)
    call = wait_leg(the_call(), "failed")
    assert "does not allow you to make calls" in call.callee_leg_reason
    assert transfers_sent(sim, call) == 0
    assert AuditEvent.objects.get(action="call.put_through").outcome == "denied"
