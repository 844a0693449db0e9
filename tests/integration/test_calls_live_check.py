"""The delegation is re-checked live with the person's own token (real sign-in through MSAL and
graphsim): Graph's answer wins over the portal's copy, and when it cannot be asked, the person
is told the copy was used."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from calls.models import Call
from portal.models import AuditEvent
from tests.support.factories import load_demo_directory

pytestmark = pytest.mark.django_db(transaction=True)

COPY_USED = "the portal&#x27;s copy of delegations was used"


@pytest.fixture
def assistant(client, msal_login, sim, graph_settings, live_server, settings):
    settings.CALLS_CALLBACK_BASE_URL = live_server.url
    people = load_demo_directory(sim.get("truth"))
    assert msal_login(client, "assistant@contoso.test").status_code == 302
    yield people
    sim.post("reset", {"calls": True, "config": True})


def start_on_behalf_of_boss(client, people):
    html = client.get(reverse("calls:start")).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)
    data = {
        "idempotency_key": key,
        "person": people["nobody"].object_id,
        "on_behalf_of": people["boss"].object_id,
    }
    return client.post(reverse("calls:start"), data, follow=True)


def call_posts(sim) -> int:
    return sim.requests_where(lambda route: route.startswith("POST /v1.0/comm"))


def delegator_checks(sim) -> int:
    return sim.requests_where(
        lambda route: route.startswith("GET /beta/{who}/communications/callSettings/")
    )


def test_a_grant_graph_confirms_places_the_call_without_a_warning(client, assistant, sim):
    resp = start_on_behalf_of_boss(client, assistant)
    assert Call.objects.count() == 1
    assert delegator_checks(sim) == 1
    assert COPY_USED not in resp.content.decode()


def test_a_grant_removed_in_teams_but_still_in_the_cache_is_refused(client, assistant, sim):
    grant = {"delegator": "boss@contoso.test", "delegate": "assistant@contoso.test"}
    sim.post("tenant", {"delegations": {"remove": [grant]}})
    before = call_posts(sim)
    resp = start_on_behalf_of_boss(client, assistant)
    assert "has not made you a delegate" in resp.content.decode()
    assert call_posts(sim) == before and not Call.objects.exists()
    assert AuditEvent.objects.filter(action="call.start", outcome="denied").exists()


def test_when_graph_cannot_be_asked_the_cached_grant_is_used_and_the_person_told(
    client, assistant, sim
):
    failure = {"status": 503, "path_contains": "callSettings/delegators"}
    sim.post("config", {"fail_next": [failure, failure]})
    resp = start_on_behalf_of_boss(client, assistant)
    assert Call.objects.count() == 1
    assert COPY_USED in resp.content.decode()
