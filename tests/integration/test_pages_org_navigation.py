"""Finding one's way on the organisation page: sections, filters that keep the place and can be
cleared, an export that is not offered for nothing, each row's own last change, and chart bars
that open the filtered table."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from delegation.models import Delegation
from tests.support.factories import grant, person

pytestmark = pytest.mark.django_db
MADE = datetime.datetime(2025, 6, 16, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def fresh_summary_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def manager(client, make_user):
    client.force_login(make_user("manager"))


def page(client, **params) -> str:
    return client.get(reverse("delegation:organisation"), params).content.decode()


def test_the_page_has_sections_a_manager_can_jump_to(client, manager):
    html = page(client)
    for anchor in ("overview", "charts", "risks", "all-delegations"):
        assert f'href="#{anchor}"' in html and f'id="{anchor}"' in html


def test_filtering_and_paging_come_back_to_the_table(client, manager):
    grant(person("Sales Boss"), person("Helper"), make_calls=True)
    html = page(client, department="Sales")
    assert '<form method="get" action="#all-delegations"' in html


def test_clear_filters_is_offered_only_when_a_filter_is_set(client, manager):
    assert 'id="clear-filters"' not in page(client)
    assert 'id="clear-filters"' not in page(client, sort="oldest")  # a sort is not a filter
    html = page(client, department="Nowhere")
    assert 'id="clear-filters" href="/organisation/#all-delegations"' in html


def test_export_is_disabled_when_no_row_matches(client, manager):
    grant(person("Sales Boss"), person("Helper"), make_calls=True)
    assert "Export these 1 rows" in page(client)
    html = page(client, department="Nowhere")
    assert 'id="export-link" type="button" disabled' in html and "0 rows" not in html


def test_each_row_shows_its_own_last_change(client, manager):
    first_sync = timezone.now() - datetime.timedelta(days=3)
    later = first_sync + datetime.timedelta(days=2)
    made = grant(person("Made Boss"), person("Made Helper"), created_in_teams=MADE)
    seen = grant(person("Seen Boss"), person("Seen Helper"))
    changed = grant(person("Changed Boss"), person("Changed Helper"))
    Delegation.objects.filter(pk__in=[made.pk, seen.pk, changed.pk]).update(
        first_seen=first_sync, last_changed=first_sync
    )
    Delegation.objects.filter(pk=changed.pk).update(last_changed=later)
    html = page(client, sort="changed")
    table = html.split('id="delegations-table"')[1]
    rows = table.split("<tbody>")[1].split("</tr>")[:3]
    assert "Changed Boss" in rows[0] and f'datetime="{later.isoformat()[:16]}' in rows[0]
    assert "Made Boss" in rows[1] and "created" in rows[1] and 'datetime="2025-06-16' in rows[1]
    assert "Seen Boss" in rows[2] and "first seen" in rows[2]


def test_chart_bars_lead_to_the_filtered_table(client, manager):
    grant(person("Sales Boss", department="Sales"), person("Helper"), make_calls=True)
    grant(person("Lone Boss", department=""), person("Helper 2"), make_calls=True)
    html = page(client)
    raw = html.split('id="org-chart-data" type="application/json">')[1].split("</script>")[0]
    data = json.loads(raw)
    assert data["byActionLinks"][0] == "?action=make_calls#all-delegations"
    names = [name for name, _ in data["byDepartment"]]
    links = dict(zip(names, data["byDepartmentLinks"], strict=True))
    assert links == {"Sales": "?department=Sales#all-delegations", "(no department)": None}
    # The same links for keyboards and screen readers, under the charts.
    assert 'href="?department=Sales#all-delegations">Sales</a>' in html
