"""What the base layout costs: its facts (capabilities, the unread digests, the last sync time)
are read where a page draws them, once, and never for an htmx fragment, which has no layout."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Digest
from calls.models import Call
from delegation.models import SyncRun
from tests.support.api import idempotency_key

pytestmark = pytest.mark.django_db
LAYOUT_TABLES = ("delegation_syncrun", "alerts_digest", "portal_syncaccount")


@pytest.fixture
def manager_with_a_call(client, make_user):
    run = SyncRun.objects.create(trigger="schedule", status="succeeded", finished_at=timezone.now())
    Digest.objects.create(run=run, findings_count=1, counts={"manage_settings": 1})
    manager = make_user("manager")
    client.force_login(manager)
    return Call.objects.create(idempotency_key=idempotency_key(), started_by=manager)


def sql_of(client, path: str, **headers) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries]


def test_a_calls_live_part_reads_nothing_of_the_layout(client, manager_with_a_call):
    html, sql = sql_of(client, f"/calls/{manager_with_a_call.pk}/live", HTTP_HX_REQUEST="true")
    assert "<footer" not in html
    assert [q for q in sql if any(table in q for table in LAYOUT_TABLES)] == []


def test_a_search_fragment_reads_nothing_of_the_layout(client, make_user):
    client.force_login(make_user("helpdesk"))
    SyncRun.objects.create(trigger="schedule", status="succeeded", finished_at=timezone.now())
    _, sql = sql_of(client, "/people/search?q=an", HTTP_HX_REQUEST="true")
    assert [q for q in sql if any(table in q for table in LAYOUT_TABLES)] == []


def test_a_page_shows_the_layouts_facts_reading_each_once(client, manager_with_a_call):
    html, sql = sql_of(client, "/calls/")
    assert "last sync <time" in html  # the footer reads it three times: one query
    assert '1<span class="visually-hidden"> unread</span>' in html
    assert sum("delegation_syncrun" in q for q in sql) == 1
    assert sum("alerts_digest" in q for q in sql) == 1
