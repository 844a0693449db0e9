"""The alert evaluation over the database: drift found by the change requests' re-verification
reaches the digest; a run's changes are read in a fixed number of queries whatever their number;
a repeated task makes no second digest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts import evaluate
from alerts.models import Delivery, Digest
from delegation.changes.services.verify import reverify_after_sync
from delegation.models import DelegationChange, DirectoryUser, SyncRun
from tests.support.changes import CALLS, made
from tests.support.factories import grant, person

pytestmark = pytest.mark.django_db


def finished_sync() -> SyncRun:
    now = timezone.now()
    return SyncRun.objects.create(
        trigger="schedule", status="succeeded", started_at=now, finished_at=now
    )


@pytest.fixture
def baseline():
    return finished_sync()  # the first sync: the ones after it raise alerts


def changes_of(run, pairs, after=None):
    after = after or {"is_active": True, "manage_settings": True}
    DelegationChange.objects.bulk_create(
        DelegationChange(
            run=run, at=run.finished_at, delegator=a, delegate=b, kind="added", after=after
        )
        for a, b in pairs
    )


def test_drift_the_re_verification_finds_reaches_the_runs_digest(
    baseline, change_people, tasks_inline, django_capture_on_commit_callbacks
):
    boss, assistant = change_people["boss"], change_people["assistant"]
    change = made(boss, assistant, CALLS, verified_at=timezone.now() - timedelta(hours=1))
    grant(boss, assistant, make_calls=True)  # Teams no longer holds what was verified
    run = finished_sync()

    with django_capture_on_commit_callbacks(execute=True):
        reverify_after_sync(run.pk)

    digest = Digest.objects.get(run=run)
    (finding,) = digest.findings.all()
    assert (finding.rule, finding.delegator, finding.delegate) == (
        "drift",
        "Bea Boss",
        "Ari Assistant",
    )
    assert f"#{change.pk}" in finding.sentence
    assert digest.counts == {"drift": 1}
    assert not Delivery.objects.exists()  # no channel configured: kept for the page only


def test_a_runs_changes_are_read_in_a_fixed_number_of_queries(baseline, settings):
    settings.ALERT_EMAIL_TO = ["security@contoso.test"]
    queries = []
    for size in (3, 30):
        run = finished_sync()
        boss = person(f"Boss {size}", department="Legal")
        changes_of(run, [(boss, person(f"P{size}-{i}")) for i in range(size)])
        with CaptureQueriesContext(connection) as captured:
            digest = evaluate.evaluate_run(run.pk)
        assert digest.findings_count == 2 * size  # manage settings, outside the department
        queries.append(len(captured))
    assert queries[0] == queries[1]


def test_a_repeated_evaluation_keeps_the_one_digest(baseline, settings):
    settings.ALERT_EMAIL_TO = ["security@contoso.test"]
    run = finished_sync()
    changes_of(run, [(person("A", department="Legal"), person("B"))])
    first = evaluate.evaluate_run(run.pk)
    assert evaluate.evaluate_run(run.pk) == first
    assert Digest.objects.count() == 1 and Delivery.objects.count() == 1


def test_the_first_sync_and_failed_runs_raise_nothing(baseline):
    changes_of(baseline, [(person("A", department="Legal"), person("B"))])
    failed = SyncRun.objects.create(trigger="schedule", status="failed")
    assert evaluate.evaluate_run(baseline.pk) is None
    assert evaluate.evaluate_run(failed.pk) is None
    assert not Digest.objects.exists()


def test_rules_switched_off_find_nothing(baseline, settings):
    settings.ALERT_RULES_ON = ["drift"]
    run = finished_sync()
    changes_of(run, [(person("A", department="Legal"), person("B"))])
    assert evaluate.evaluate_run(run.pk) is None


def test_only_grants_whose_holder_this_run_disabled_are_reported(baseline, settings):
    run = finished_sync()
    before = run.started_at - timedelta(days=3)
    boss = person("Bea Boss", department="Legal")
    gone, long_gone, idle = person("Now Gone"), person("Long Gone"), person("Idle One")
    DirectoryUser.objects.filter(pk__in=[gone.pk, idle.pk]).update(
        account_enabled=False, disabled_at=run.finished_at
    )
    DirectoryUser.objects.filter(pk=long_gone.pk).update(account_enabled=False, disabled_at=before)
    grant(boss, gone, receive_calls=True)
    grant(boss, long_gone, receive_calls=True)
    grant(boss, idle, receive_calls=True, is_active=False)  # switched off: nothing to act on

    digest = evaluate.evaluate_run(run.pk)

    (finding,) = digest.findings.all()
    assert (finding.rule, finding.delegate) == ("disabled_account", "Now Gone")
    assert finding.sentence == (
        "This sync found it: the delegate's account (Now Gone) is disabled; nobody can be held "
        "to account for this grant."
    )
