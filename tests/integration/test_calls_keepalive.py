"""keepAlive: beat's task, run by a real Celery worker process, keeps live calls alive in
graphsim and marks ended the calls Graph no longer knows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calls.models import Call
from calls.services import keepalive
from calls.services.start import call_start
from portal.celery import app
from portal.models import AuditEvent
from tests.support.calls import in_graphsim, wait_state
from tests.support.processes import point_workers_at_graphsim

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]


@pytest.fixture
def worker_env(graphsim, monkeypatch):
    """What the worker process needs to reach graphsim (it reads the environment)."""
    point_workers_at_graphsim(monkeypatch, graphsim)


@pytest.fixture
def live_calls(calls_tenant, make_user):
    """Two established calls the application placed (in this process, with its tasks inline)."""
    people = calls_tenant
    helpdesk = make_user("helpdesk", object_id=people["helpdesk"].object_id)

    def place(to: str, key: str) -> Call:
        call = call_start(
            user=helpdesk, idempotency_key=key, person=people[to], ring_me_first=False
        ).call
        return wait_state(call, "established")

    calls = place("nobody", "a" * 32), place("manager", "b" * 32)
    app.conf.task_always_eager = False  # from here on, tasks go to the worker
    return calls


def overdue(call):
    long_ago = timezone.now() - timedelta(hours=1)
    Call.objects.filter(pk=call.pk).update(created_at=long_ago, last_keepalive_at=long_ago)


def keepalive_round_on_the_worker() -> dict:
    """Queue beat's task by name, as beat does, and wait for the worker's counts."""
    return app.send_task("calls.tasks.keep_calls_alive").get(timeout=90)


def test_beat_schedules_the_keepalive_task_often_enough(settings):
    app.loader.import_default_modules()
    assert "calls.tasks.keep_calls_alive" in app.tasks
    period = app.conf.beat_schedule["calls-keepalive"]["schedule"]
    # A call is kept alive within keepalive + period seconds: well inside Graph's 45 minutes.
    assert settings.CALLS_KEEPALIVE_SECONDS + period < 45 * 60


def test_the_worker_keeps_an_overdue_call_alive_and_leaves_a_recent_one_alone(
    live_calls, sim, worker_env, celery_worker_process
):
    due, recent = live_calls
    overdue(due)
    before = {c.pk: in_graphsim(sim, c)["lastKeepAlive"] for c in live_calls}
    assert keepalive_round_on_the_worker() == {"kept": 1, "gone": 0, "failed": 0}
    assert in_graphsim(sim, due)["lastKeepAlive"] > before[due.pk]
    assert in_graphsim(sim, recent)["lastKeepAlive"] == before[recent.pk]
    due.refresh_from_db()
    assert due.last_keepalive_at > timezone.now() - timedelta(minutes=1)
    recent.refresh_from_db()
    assert recent.last_keepalive_at is None
    assert recent in keepalive.calls_due_for_keepalive(timezone.now() + timedelta(hours=1))


def test_the_worker_marks_ended_a_call_graph_no_longer_knows(
    live_calls, sim, worker_env, celery_worker_process
):
    gone, _ = live_calls
    overdue(gone)
    sim.post("reset", {"calls": True})
    assert keepalive_round_on_the_worker()["gone"] == 1
    gone.refresh_from_db()
    assert gone.state == "terminated" and gone.ended_at
    assert "no longer knows" in gone.result_label
    assert AuditEvent.objects.filter(action="call.gone", target=f"call {gone.pk}").exists()
