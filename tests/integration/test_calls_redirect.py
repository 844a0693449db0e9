"""Redirecting an incoming call against graphsim: who calls whom, the called person's delegates
who may receive their calls suggested first, the one person search, and a countdown from the
time the call rang."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from calls.models import Call, CallAction
from tests.support.calls import act, page_text, wait_state
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ring(sim, live_server):
    def incoming(**body):
        callback = live_server.url + reverse("calls:callback")
        sim.post("incoming-call", {"callbackUri": callback, **body})
        return wait_for(lambda: Call.objects.filter(direction="incoming", state="incoming").first())

    return incoming


def test_the_called_persons_receivers_are_suggested_first_and_ring_together(
    client, calls_sign_in, calls_tenant, ring, settings
):
    settings.CALLS_REDIRECT_WINDOW_SECONDS = 15
    calls_sign_in("helpdesk", "helpdesk")
    call = ring(caller="nobody@contoso.test", called="boss@contoso.test")
    assert (call.caller_display, call.called_display) == ("Nils Nobody", "Bea Boss")
    assert call.called_object_id == calls_tenant["boss"].object_id
    detail = page_text(client, reverse("calls:detail", args=[call.pk]))
    assert "Nils Nobody is calling Bea Boss" in detail
    form = detail[detail.index('id="redirect-form"') :]
    suggested = form[: form.index('id="redirect-search"')]
    for receiver in ("assistant", "deputy"):  # boss's active delegates with receiveCalls
        assert calls_tenant[receiver].object_id in suggested
    assert calls_tenant["former"].object_id not in suggested  # inactive grant
    assert "Ring all 2 at once" in suggested
    until = int(re.search(r'data-countdown-until="(\d+)"', detail).group(1))
    assert until == int(call.created_at.timestamp()) + 15
    act(client, call, "redirect", delegator=calls_tenant["boss"].object_id)
    wait_state(call, "terminated")
    redirect = CallAction.objects.get(kind="redirect")
    assert {t["id"] for t in redirect.targets} == {
        calls_tenant["assistant"].object_id,
        calls_tenant["deputy"].object_id,
    }
    wait_for(lambda: CallAction.objects.get(pk=redirect.pk).outcome == "completed")


def test_anyone_can_be_found_with_the_person_search_and_rung_alone(
    client, calls_sign_in, calls_tenant, ring
):
    calls_sign_in("helpdesk", "helpdesk")
    call = ring(caller="+14255550199")
    detail = page_text(client, reverse("calls:detail", args=[call.pk]))
    assert "+14255550199 is calling the portal&#x27;s line" in detail
    assert "Ring all" not in detail and "redirect-delegator" not in detail  # no list of 200
    found = page_text(client, reverse("calls:people") + "?q=Nora&field=person")
    assert calls_tenant["noanswer"].object_id in found
    act(client, call, "redirect", person=calls_tenant["noanswer"].object_id)
    wait_state(call, "terminated")
    assert CallAction.objects.get().targets[0]["id"] == calls_tenant["noanswer"].object_id
    assert call.result_label == "no answer"
    failed = wait_for(lambda: CallAction.objects.filter(outcome="failed").first())
    assert failed.message == "no answer"


def test_the_countdown_is_gone_once_the_call_stops_ringing(
    client, calls_sign_in, calls_tenant, ring
):
    calls_sign_in("helpdesk", "helpdesk")
    call = ring(caller="nobody@contoso.test", redirect_window_s=0.5)
    wait_state(call, "terminated")
    live = page_text(client, reverse("calls:live", args=[call.pk]))
    assert "data-countdown-until" not in live and "no answer" in live
