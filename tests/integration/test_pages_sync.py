"""The sync pages: every run with its figures, a run's live progress, the account's state."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from delegation.models import SyncRun
from tests.support.factories import person, sync_account

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def admin(client, make_user):
    user = make_user("admin")
    client.force_login(user)
    return user


def a_run(**fields):
    defaults = {"trigger": "schedule", "status": "succeeded", "started_at": timezone.now()}
    defaults.update(fields)
    return SyncRun.objects.create(**defaults)


def test_runs_are_listed_newest_first_with_their_figures(client, admin):
    old = a_run(delegations_added=1234, graph_requests=56)
    new = a_run(status="failed", error="reconnect needed")
    html = client.get(reverse("delegation:sync_list")).content.decode()
    assert html.index(f"#{new.pk}<") < html.index(f"#{old.pk}<")
    assert "1,234" in html and "Failed" in html


def test_runs_page_in_keyset_order_and_stays_fixed_in_queries(
    client, admin, django_assert_max_num_queries
):
    runs = [a_run(triggered_by=admin) for _ in range(30)]
    with django_assert_max_num_queries(10):
        resp = client.get(reverse("delegation:sync_list"))
    page = resp.context["page"]
    assert [r.pk for r in page.runs] == [r.pk for r in reversed(runs)][:25]
    older = client.get(reverse("delegation:sync_list"), {"before": page.before_id}).context["page"]
    assert [r.pk for r in older.runs] == [r.pk for r in reversed(runs)][25:]
    assert older.before_id is None


def test_no_runs_and_no_account_say_what_to_do(client, admin):
    html = client.get(reverse("delegation:sync_list")).content.decode()
    assert "No sync has run yet" in html
    assert "No sync account is connected" in html


def test_account_needing_reconnection_is_flagged(client, admin):
    sync_account(status="reconnect_needed", last_error="invalid_grant")
    html = client.get(reverse("delegation:sync_list")).content.decode()
    assert "must be reconnected" in html and "invalid_grant" in html


def test_connected_account_is_named(client, admin):
    sync_account(display_name=HOSTILE)
    html = client.get(reverse("delegation:sync_list")).content.decode()
    assert "Connected as" in html and "robot@contoso.test" in html
    assert "<script>alert" not in html


def test_admin_is_offered_the_sync_now_button(client, make_user):
    client.force_login(make_user("admin"))
    assert 'id="sync-now"' in client.get(reverse("delegation:sync_list")).content.decode()


def test_running_run_polls_its_progress(client, admin):
    run = a_run(status="running", progress_done=30, progress_total=120)
    html = client.get(reverse("delegation:sync_detail", args=[run.pk])).content.decode()
    assert f'hx-get="{reverse("delegation:sync_progress", args=[run.pk])}"' in html
    assert 'hx-trigger="every 1s"' in html
    assert '<progress id="sync-progress-bar" class="sync-progress" max="120" value="30"' in html
    assert "30 of 120 people (25%)" in html
    assert "style=" not in html


def test_progress_fragment_follows_the_run_and_stops_polling_when_it_ends(client, admin):
    run = a_run(status="running", progress_done=10, progress_total=100)
    url = reverse("delegation:sync_progress", args=[run.pk])
    assert 'hx-trigger="every 1s"' in client.get(url).content.decode()
    SyncRun.objects.filter(pk=run.pk).update(
        status="partial", progress_done=100, finished_at=timezone.now()
    )
    html = client.get(url).content.decode()
    assert "hx-trigger" not in html
    assert 'value="100"' in html and 'data-finished="true"' in html


def test_the_progress_poll_has_the_page_reloaded_once_the_run_has_ended(client, admin):
    run = a_run(status="running", progress_done=10, progress_total=100)
    url = reverse("delegation:sync_progress", args=[run.pk])
    running = client.get(url, HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in running  # still going: htmx swaps the fragment in place
    SyncRun.objects.filter(pk=run.pk).update(
        status="succeeded", progress_done=100, finished_at=timezone.now()
    )
    ended = client.get(url, HTTP_HX_REQUEST="true")
    assert ended["HX-Refresh"] == "true"  # htmx reloads the whole page with the final figures
    assert "HX-Refresh" not in client.get(url)  # only htmx's polls are told to reload


def test_run_page_shows_its_errors(client, admin):
    run = a_run(
        status="partial",
        error=HOSTILE,
        failures={"throttled": 3, "http_500": 2},
        failed_user_ids=["id-1", "id-2"],
    )
    html = client.get(reverse("delegation:sync_detail", args=[run.pk])).content.decode()
    assert "throttled" in html and "http_500" in html and "id-2" in html
    assert "2 people could not be read" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_run_page_says_whose_delegates_were_read_and_who_delegates_without_a_licence(client, admin):
    run = a_run(sweep="voice", unlicensed_delegators=3, unlicensed_delegator_ids=["id-7", HOSTILE])
    html = client.get(reverse("delegation:sync_detail", args=[run.pk])).content.decode()
    assert "People with Teams Phone and current delegators" in html
    assert "3 people hold delegations without a working Teams Phone licence" in html
    assert "id-7" in html and "<script>alert" not in html
    quiet = a_run(sweep="everyone")
    html = client.get(reverse("delegation:sync_detail", args=[quiet.pk])).content.decode()
    assert "Everyone (full sweep)" in html


def test_manager_cannot_see_sync_runs(client, make_user):
    client.force_login(make_user("manager"))
    run = a_run()
    assert client.get(reverse("delegation:sync_detail", args=[run.pk])).status_code == 403
    assert client.get(reverse("delegation:sync_progress", args=[run.pk])).status_code == 403


def test_sync_now_starts_a_run_and_shows_it(client, admin):
    sync_account()
    resp = client.post(reverse("delegation:sync_start"))
    run = SyncRun.objects.get()
    assert resp.status_code == 302
    assert resp["Location"] == reverse("delegation:sync_detail", args=[run.pk])
    assert run.trigger == "manual" and run.triggered_by == admin


def test_sync_now_while_one_runs_leads_to_the_running_one(client, admin):
    sync_account()
    running = a_run(status="running", heartbeat_at=timezone.now())
    resp = client.post(reverse("delegation:sync_start"))
    assert resp["Location"] == reverse("delegation:sync_detail", args=[running.pk])
    assert SyncRun.objects.count() == 1


def test_helpdesk_cannot_start_a_sync(client, make_user):
    client.force_login(make_user("helpdesk"))
    assert client.post(reverse("delegation:sync_start")).status_code == 403
    assert not SyncRun.objects.exists()


def test_times_are_shown_in_the_viewers_time_zone(client, admin):
    started = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
    run = a_run(started_at=started)
    client.cookies["tz"] = "Asia/Tokyo"
    html = client.get(reverse("delegation:sync_detail", args=[run.pk])).content.decode()
    assert 'datetime="2026-03-01T21:00:00+09:00"' in html


def test_run_page_and_progress_take_a_fixed_number_of_queries(
    client, admin, django_assert_max_num_queries
):
    run = a_run(status="running", progress_total=10, failed_user_ids=[f"id-{i}" for i in range(50)])
    with django_assert_max_num_queries(9):  # 8, and the nav's count of unread alert digests
        client.get(reverse("delegation:sync_detail", args=[run.pk]))
    with django_assert_max_num_queries(7):
        client.get(reverse("delegation:sync_progress", args=[run.pk]))


def test_sync_now_is_disabled_with_its_reason_while_no_sync_account_is_connected(client, admin):
    html = client.get(reverse("delegation:sync_list")).content.decode()
    assert 'id="sync-now" disabled aria-describedby="sync-blocked"' in html
    assert "No sync account is connected" in html
    resp = client.post(reverse("delegation:sync_start"), follow=True)
    assert not SyncRun.objects.exists()  # no run that would fail at once
    assert "No sync was started" in resp.content.decode()


def test_sync_now_is_disabled_while_the_sync_account_needs_reconnecting(client, admin):
    sync_account(status="reconnect_needed")
    html = client.get(reverse("delegation:sync_list")).content.decode()
    assert "disabled" in html and "must be reconnected" in html


def test_sync_now_needs_no_account_with_app_only_tokens(client, admin, settings):
    settings.SYNC_USE_APP_ONLY = True
    html = client.get(reverse("delegation:sync_list")).content.decode()
    assert 'id="sync-now" disabled' not in html
    client.post(reverse("delegation:sync_start"))
    assert SyncRun.objects.count() == 1


def test_a_running_run_shows_when_it_started_in_the_polled_part(client, admin):
    started = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
    run = a_run(status="running", started_at=started, progress_total=500, progress_done=44)
    html = client.get(reverse("delegation:sync_progress", args=[run.pk])).content.decode()
    assert "44 of 500 people" in html
    details = html[html.index('id="run-details"') :]
    assert 'datetime="2026-03-01T12:00:00+00:00"' in details.split("Finished")[0]


def test_the_run_page_says_what_each_count_means(client, admin):
    run = a_run(graph_requests=3, throttled=12)
    html = client.get(reverse("delegation:sync_detail", args=[run.pk])).content.decode()
    definitions = html[html.index('id="count-definitions"') :]
    for term in ("Requests", "Throttled answers", "Retries"):
        assert f"<dt>{term}</dt>" in definitions
    assert "can outnumber the requests" in definitions


def test_unread_people_are_named_from_the_cache_and_can_be_retried(client, admin):
    known = person("Bea Boss")
    run = a_run(status="partial", failed_user_ids=[known.object_id, "not-cached-id"])
    html = client.get(reverse("delegation:sync_detail", args=[run.pk])).content.decode()
    assert f'href="/people/{known.object_id}/">Bea Boss</a>' in html
    assert "not in the directory cache" in html and "not-cached-id" in html
    assert 'id="retry-unread"' in html and "cannot yet read only some people" in html


def test_retry_these_starts_a_full_run_and_says_so(client, admin):
    sync_account()
    failed = a_run(status="partial", failed_user_ids=["id-1"])
    resp = client.post(reverse("delegation:sync_start"), {"retry_of": failed.pk}, follow=True)
    new = SyncRun.objects.exclude(pk=failed.pk).get()
    assert resp.redirect_chain[-1][0] == reverse("delegation:sync_detail", args=[new.pk])
    assert f"including the people run #{failed.pk} could not read" in resp.content.decode()
