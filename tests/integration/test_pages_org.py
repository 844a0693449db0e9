"""The organisation dashboard: totals, charts, risky grants, the table, its CSV export, reviews."""

from __future__ import annotations

import csv
import datetime
import io
import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from delegation.models import Delegation, DelegationChange, GrantReview, SyncRun
from delegation.selectors import grants as selectors_grants
from delegation.selectors import organisation as selectors_org
from portal.models import AuditEvent
from tests.support.changes import made
from tests.support.factories import grant, person

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(autouse=True)
def fresh_summary_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def manager(client, make_user):
    user = make_user("manager")
    client.force_login(user)
    return user


@pytest.fixture
def tenant():
    sales = [person(f"Sales {i}", department="Sales") for i in range(4)]
    legal = [person(f"Legal {i}", department="Legal") for i in range(2)]
    disabled = person("Disabled Delegate", account_enabled=False, department="Sales")
    return {
        "plain": grant(sales[0], sales[1], make_calls=True),
        "settings": grant(sales[1], sales[2], manage_settings=True, receive_calls=True),
        "join": grant(legal[0], sales[3], join_active_calls=True),
        "inactive": grant(legal[1], legal[0], make_calls=True, is_active=False),
        "disabled": grant(sales[2], disabled, receive_calls=True),
    }


def export_rows(client, **params) -> tuple[bytes, list[list[str]]]:
    resp = client.get(reverse("delegation:org_export"), params)
    assert resp.status_code == 200 and resp.streaming
    body = b"".join(resp.streaming_content)
    return body, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# --- summary, charts, risks -------------------------------------------------------------------
def test_totals_and_risk_counts_describe_the_tenant(client, manager, tenant):
    resp = client.get(reverse("delegation:organisation"))
    summary = resp.context["summary"]
    assert summary.totals["grants"] == 5 and summary.totals["active"] == 4
    # The risk rules (delegation/risk): settings within Sales and a grant inactive only since
    # today are not flagged; the grant to a disabled account is.
    assert summary.risk_counts == {
        "manage_outside": 0,
        "disabled_or_removed": 1,
        "inactive": 0,
        "near_limit": 0,
        "outside_portal": 0,
    }
    assert dict(summary.by_action)["Make calls"] == 1  # the inactive one does not count


def test_chart_data_is_embedded_as_json_not_script(client, manager, tenant):
    html = client.get(reverse("delegation:organisation")).content.decode()
    raw = html.split('id="org-chart-data" type="application/json">')[1].split("</script>")[0]
    data = json.loads(raw)
    assert dict(data["byDepartment"]) == {"Sales": 3, "Legal": 2}
    assert "js/organisation.js" in html and "chart.umd.min.js" in html


def test_changes_over_time_are_counted_per_day_and_kind(client, manager, tenant):
    run = SyncRun.objects.create(trigger="schedule", status="succeeded")
    g = tenant["plain"]
    now = timezone.now()
    for at, kind in [(now, "added"), (now, "removed"), (now - timedelta(days=2), "added")]:
        DelegationChange.objects.create(
            run=run, at=at, kind=kind, delegator=g.delegator, delegate=g.delegate
        )
    over_time = client.get(reverse("delegation:organisation")).context["summary"].over_time
    assert over_time["labels"] == [
        (now - timedelta(days=2)).date().isoformat(),
        now.date().isoformat(),
    ]
    assert over_time["series"] == {"Added": [1, 1], "Changed": [0, 0], "Removed": [0, 1]}


def test_people_at_the_teams_limit_are_listed(client, manager):
    busy = person("Busy Boss")
    for i in range(selectors_org.NEAR_LIMIT):
        grant(busy, person(f"Helper {i}"), receive_calls=True)
    summary = client.get(reverse("delegation:organisation")).context["summary"]
    assert [(row["person"]["label"], row["count"]) for row in summary.near_limit] == [
        ("Busy Boss", selectors_org.NEAR_LIMIT)
    ]


def test_summary_is_recomputed_when_the_data_moves(client, manager, tenant):
    client.get(reverse("delegation:organisation"))
    grant(person("New Boss"), person("New Helper"), make_calls=True)
    summary = client.get(reverse("delegation:organisation")).context["summary"]
    assert summary.totals["grants"] == 6


def test_filtered_count_is_recounted_when_the_data_moves(client, manager, tenant):
    url = reverse("delegation:organisation")
    assert client.get(url, {"department": "Legal"}).context["page"].count == 2
    grant(person("Legal Newcomer", department="Legal"), person("Their Helper"))
    assert client.get(url, {"department": "Legal"}).context["page"].count == 3


def test_empty_tenant_says_what_to_do(client, manager):
    html = client.get(reverse("delegation:organisation")).content.decode()
    assert "No delegations are cached yet" in html


def test_hostile_names_and_departments_are_escaped(client, manager):
    evil = person(HOSTILE, department=HOSTILE)
    grant(evil, person("Victim"), manage_settings=True)
    html = client.get(reverse("delegation:organisation")).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


# --- the table --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, expected",
    [
        ({"department": "Legal"}, {"join", "inactive"}),
        ({"action": "make_calls"}, {"plain", "inactive"}),
        ({"active": "no"}, {"inactive"}),
        ({"person": "legal 1"}, {"inactive"}),
        (
            {"department": "Sales", "action": "receive_calls", "active": "yes"},
            {"settings", "disabled"},
        ),
    ],
)
def test_table_filters_return_exactly_the_matching_grants(
    client, manager, tenant, params, expected
):
    rows = client.get(reverse("delegation:organisation"), params).context["page"].rows
    assert {g.pk for g in rows} == {tenant[k].pk for k in expected}


def test_column_headers_sort_and_keep_the_filters(client, manager, tenant):
    html = client.get(
        reverse("delegation:organisation"), {"department": "Sales", "sort": "delegate"}
    ).content.decode()
    assert 'href="?department=Sales&amp;sort=delegator#all-delegations"' in html
    assert (
        '<th scope="col" aria-sort="ascending">'
        '<a href="?department=Sales&amp;sort=delegate#all-delegations"' in html
    )


@pytest.mark.parametrize("sort", sorted(selectors_grants.DESCENDING_SORTS - {"newest"}))
def test_a_column_that_sorts_from_the_top_down_says_so(client, manager, tenant, sort):
    html = client.get(reverse("delegation:organisation"), {"sort": sort}).content.decode()
    assert f'<th scope="col" aria-sort="descending"><a href="?sort={sort}#all-delegations"' in html
    assert "▼" in html and "▲" not in html


def test_the_descending_sorts_are_read_from_the_sort_table():
    assert sorted(selectors_grants.DESCENDING_SORTS) == ["changed", "newest"]


def test_table_sorts_by_delegator_name(client, manager, tenant):
    rows = (
        client.get(reverse("delegation:organisation"), {"sort": "delegator"}).context["page"].rows
    )
    names = [g.delegator.display_name for g in rows]
    assert names == sorted(names)


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(selectors_grants, "PAGE_SIZE", 10)
    monkeypatch.setattr(selectors_grants, "COUNT_CAP", 30)
    boss = person("Paging Boss")
    for i in range(35):
        grant(boss, person(f"Pager {i}"), make_calls=True)


def test_filtered_table_pages_and_caps_its_count(client, manager, small_pages):
    url = reverse("delegation:organisation")
    page = client.get(url, {"action": "make_calls", "page": 2}).context["page"]
    assert page.number == 2 and len(page.rows) == 10 and page.has_next
    assert page.count == 30 and page.count_is_capped
    last = client.get(url, {"action": "make_calls", "page": 99}).context["page"]
    assert last.number == 3 and not last.has_next


def test_unfiltered_table_gives_the_exact_count_but_pages_only_to_the_cap(
    client, manager, small_pages
):
    resp = client.get(reverse("delegation:organisation"), {"page": 99})
    page = resp.context["page"]
    assert page.count == 35 and not page.count_is_capped
    assert page.number == 3 and page.beyond_paging
    assert "export every row as CSV" in resp.content.decode()


def test_organisation_page_takes_a_fixed_number_of_queries(
    client, manager, django_assert_max_num_queries
):
    for i in range(60):
        grant(person(f"Boss {i}"), person(f"Helper {i}"), make_calls=True, manage_settings=True)
    # Cold: the summary is computed in this request. Every signed-in page also asks whether the
    # sync saw the person disabled (portal.session_checks): one indexed query.
    with django_assert_max_num_queries(13):
        client.get(reverse("delegation:organisation"))
    with django_assert_max_num_queries(8):
        resp = client.get(reverse("delegation:organisation"))
    assert len(resp.context["page"].rows) == 50
    filtered = {"action": "make_calls", "page": 2}
    with django_assert_max_num_queries(9):  # and its count, once
        client.get(reverse("delegation:organisation"), filtered)
    with django_assert_max_num_queries(8):
        resp = client.get(reverse("delegation:organisation"), filtered)
    assert len(resp.context["page"].rows) == 10


# --- export -----------------------------------------------------------------------------------
def test_export_is_utf8_with_bom_and_a_header(client, manager, tenant):
    body, rows = export_rows(client)
    assert body.startswith("\ufeff".encode())
    assert rows[0][:3] == ["Delegator", "Delegator UPN", "Delegator object id"]
    assert len(rows) == 1 + 5


def test_export_holds_exactly_the_filtered_rows(client, manager, tenant):
    _, rows = export_rows(client, department="Legal", active="yes")
    assert [(r[0], r[4]) for r in rows[1:]] == [("Legal 0", "Sales 3")]


def test_export_guards_against_formula_injection(client, manager):
    grant(person('=HYPERLINK("http://evil")', department="+cmd"), person("@SUM(A1)"))
    _, rows = export_rows(client)
    row = rows[1]
    assert row[0] == '\'=HYPERLINK("http://evil")'
    assert row[3] == "'+cmd"
    assert row[4] == "'@SUM(A1)"


def test_export_streams_every_row_from_one_query(client, manager, django_assert_max_num_queries):
    boss = person("Exporting Boss")
    for i in range(120):
        grant(boss, person(f"Exported {i}"), make_calls=True)
    with django_assert_max_num_queries(6):
        _, rows = export_rows(client)
    assert len(rows) == 1 + 120


def test_export_with_an_invalid_filter_is_refused_rather_than_widened(client, manager, tenant):
    resp = client.get(reverse("delegation:org_export"), {"action": "everything"})
    assert resp.status_code == 400


def test_export_is_refused_to_helpdesk(client, make_user):
    client.force_login(make_user("helpdesk"))
    assert client.get(reverse("delegation:org_export")).status_code == 403


# --- reviews ----------------------------------------------------------------------------------
def outside(i=0, **fields):
    """A grant of call settings to someone of another department, outside the chain."""
    helper = person(f"Helper {i}", department="Legal")
    return grant(person(f"Boss {i}"), helper, manage_settings=True, **fields)


def test_reviews_list_the_grants_with_the_chosen_risk(client, manager, tenant):
    resp = client.get(reverse("delegation:reviews"), {"risk": "disabled_or_removed"})
    assert [g.pk for g, *_ in resp.context["rows"]] == [tenant["disabled"].pk]


def test_reviews_of_an_unknown_risk_show_the_default_one(client, manager, tenant):
    crossing = outside()
    resp = client.get(reverse("delegation:reviews"), {"risk": "no_such_risk"})
    assert resp.context["risk"] == selectors_grants.DEFAULT_RISK
    assert [g.pk for g, *_ in resp.context["rows"]] == [crossing.pk]


def test_reviews_page_on_by_grant_id(client, manager, monkeypatch):
    monkeypatch.setattr(selectors_grants, "PAGE_SIZE", 2)
    grants = [outside(i) for i in range(3)]
    first = client.get(reverse("delegation:reviews")).context
    assert [g.pk for g, *_ in first["rows"]] == [g.pk for g in grants[:2]]
    assert first["next_after"] == grants[1].pk
    second = client.get(reverse("delegation:reviews"), {"after": first["next_after"]}).context
    assert [g.pk for g, *_ in second["rows"]] == [grants[2].pk]
    assert second["next_after"] is None


@pytest.mark.parametrize("after", ["x", "-1", "9" * 30])
def test_reviews_read_a_cursor_that_is_not_a_row_id_as_the_first_page(
    client, manager, tenant, after
):
    crossing = outside()
    resp = client.get(reverse("delegation:reviews"), {"after": after})
    assert resp.status_code == 200
    assert [g.pk for g, *_ in resp.context["rows"]] == [crossing.pk]


def test_a_review_page_lists_nothing_for_someone_who_may_not_review(make_user, tenant):
    page = selectors_grants.review_page(make_user("helpdesk"), "manage_outside")
    assert page.rows == [] and page.recent == [] and page.next_after is None


def test_the_page_says_why_each_grant_is_risky_and_its_latest_decision(client, manager, tenant):
    g = outside()
    GrantReview.objects.create(
        delegator=g.delegator, delegate=g.delegate, decision="keep", reviewer=manager
    )
    html = client.get(reverse("delegation:reviews")).content.decode()
    assert "delegate is in Legal, delegator in Sales and not in the delegator&#x27;s" in html
    assert "Keep by" in html
    assert reverse("reviews:start") + "?scope=risk&amp;risk=manage_outside" in html


def test_a_campaigns_revoke_shows_its_removal_request(client, manager, tenant):
    g = outside()
    review = GrantReview.objects.create(
        delegator=g.delegator, delegate=g.delegate, decision="revoke", reviewer=manager
    )
    change = made(g.delegator, g.delegate, None, status="requested", review=review)
    html = client.get(reverse("delegation:reviews")).content.decode()
    assert reverse("changes:detail", args=[change.pk]) in html
    assert 'data-status="requested"' in html
    # Graph may still remove it: no PowerShell line while the request has not fallen back to it.
    assert "Remove-CsUserCallingDelegate" not in html


def test_a_revoke_waiting_for_powershell_shows_the_teams_powershell_command(
    client, manager, tenant
):
    g = outside()
    review = GrantReview.objects.create(
        delegator=g.delegator, delegate=g.delegate, decision="revoke", reviewer=manager
    )
    made(g.delegator, g.delegate, None, status="awaiting_powershell", review=review)
    html = client.get(reverse("delegation:reviews")).content.decode()
    command = (
        f"Remove-CsUserCallingDelegate -Identity &#x27;{g.delegator.upn}&#x27; "
        f"-Delegate &#x27;{g.delegate.upn}&#x27;"
    )
    assert command in html and 'data-status="awaiting_powershell"' in html


def test_the_page_takes_no_decisions_campaigns_do(client, manager, tenant):
    resp = client.post(
        reverse("delegation:reviews"), {"grant": tenant["plain"].pk, "decision": "keep"}
    )
    assert resp.status_code == 405
    assert not GrantReview.objects.exists() and not AuditEvent.objects.exists()


def test_helpdesk_cannot_see_the_risky_grants(client, make_user, tenant):
    client.force_login(make_user("helpdesk"))
    assert client.get(reverse("delegation:reviews")).status_code == 403


def test_reviews_page_takes_a_fixed_number_of_queries(
    client, manager, django_assert_max_num_queries
):
    for i in range(30):
        g = outside(i)
        GrantReview.objects.create(delegator=g.delegator, delegate=g.delegate, decision="keep")
    # 9 before the risk rules explained each row (their facts: counts, managers, sync changes).
    with django_assert_max_num_queries(12):
        resp = client.get(reverse("delegation:reviews"))
    assert all(row.latest is not None for row in resp.context["rows"])


# --- finding one's way: sections, filters that keep the place, bars that open the table -----
MADE = datetime.datetime(2025, 6, 16, 9, 30, tzinfo=datetime.UTC)


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
