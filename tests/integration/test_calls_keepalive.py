"""keepAlive: beat's task keeps established calls alive in graphsim, and marks ended the calls
Graph no longer knows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calls.models import Call
from calls.services import keepalive, start
from calls.tasks import keep_calls_alive
from portal.celery import app
from portal.models import AuditEvent
from tests.support.factories import load_demo_directory
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def connected_call(sim, graph_settings, live_server, settings, make_user):
    settings.CALLS_CALLBACK_BASE_URL = live_server.url
    people = load_demo_directory(sim.get("truth"))
    helpdesk = make_user("helpdesk", object_id=people["helpdesk"].object_id)
    call = start.call_start(user=helpdesk, idempotency_key="a" * 32, person=people["nobody"]).call
    wait_for(lambda: Call.objects.get(pk=call.pk).state == "established")
    yield Call.objects.get(pk=call.pk)
    sim.post("reset", {"calls": True, "config": True})


def graphsim_call(sim, graph_id):
    return [c for c in sim.get("calls")["value"] if c["id"] == graph_id][0]


def overdue(call):
    long_ago = timezone.now() - timedelta(hours=1)
    Call.objects.filter(pk=call.pk).update(created_at=long_ago, last_keepalive_at=long_ago)


def test_beat_schedules_the_keepalive_task_often_enough(settings):
    app.loader.import_default_modules()
    assert "calls.tasks.keep_calls_alive" in app.tasks
    period = app.conf.beat_schedule["calls-keepalive"]["schedule"]
    # A call is kept alive within keepalive + period seconds: well inside Graph's 45 minutes.
    assert settings.CALLS_KEEPALIVE_SECONDS + period < 45 * 60


def test_an_overdue_call_gets_a_keepalive(connected_call, sim):
    overdue(connected_call)
    before = graphsim_call(sim, connected_call.graph_id)["lastKeepAlive"]
    assert keep_calls_alive() == {"kept": 1, "gone": 0, "failed": 0}
    assert graphsim_call(sim, connected_call.graph_id)["lastKeepAlive"] > before
    connected_call.refresh_from_db()
    assert connected_call.last_keepalive_at > timezone.now() - timedelta(minutes=1)


def test_a_call_kept_alive_recently_is_left_alone(connected_call):
    assert connected_call in keepalive.calls_due_for_keepalive(timezone.now() + timedelta(hours=1))
    assert keep_calls_alive() == {"kept": 0, "gone": 0, "failed": 0}


def test_a_call_graph_no_longer_knows_is_marked_ended(connected_call, sim):
    overdue(connected_call)
    sim.post("reset", {"calls": True})
    assert keep_calls_alive()["gone"] == 1
    connected_call.refresh_from_db()
    assert connected_call.state == "terminated" and connected_call.ended_at
    assert "no longer knows" in connected_call.result_label
    assert AuditEvent.objects.filter(
        action="call.gone", target=f"call {connected_call.pk}"
    ).exists()
