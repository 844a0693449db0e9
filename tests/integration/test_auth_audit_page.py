"""The audit log page: admins read and filter it; nobody else sees it; it changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from portal import audit
from portal.models import AuditEvent
from portal.views.audit import PAGE_SIZE

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("admin", upn="adele@contoso.test"))
    return client


def rows(resp) -> int:
    return resp.content.count(b"<td><time")  # one per event row


def test_admins_see_events_newest_first(admin_client, make_user):
    hugo = make_user("helpdesk", upn="hugo@contoso.test")
    audit.record("signin", "success", actor=hugo, target="hugo@contoso.test")
    audit.record("call.start", "failure", actor=hugo, target="+14255550100")
    page = admin_client.get(reverse("portal:audit"))
    assert page.status_code == 200
    assert page.content.index(b"call.start") < page.content.index(b"signin")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "signin"}, 2),
        ({"outcome": "failure"}, 1),
        ({"actor": "hugo"}, 2),
        ({"actor": "mona"}, 1),
        ({"action": "signin", "outcome": "failure", "actor": "mona"}, 1),
        ({"action": "call"}, 0),
    ],
)
def test_filters_narrow_the_events(admin_client, make_user, query, expected):
    hugo, mona = make_user(upn="hugo@contoso.test"), make_user(upn="mona@contoso.test")
    audit.record("signin", "success", actor=hugo)
    audit.record("role.change", "success", actor=hugo)
    audit.record("signin", "failure", actor=mona)
    assert rows(admin_client.get(reverse("portal:audit"), query)) == expected


def test_the_date_range_includes_whole_days(admin_client):
    old = audit.record("signin", "success", who="old")
    AuditEvent.objects.filter(pk=old.pk).update(at=old.at - dt.timedelta(days=3))
    audit.record("signin", "success", who="today")
    today = dt.date.today().isoformat()
    resp = admin_client.get(reverse("portal:audit"), {"since": today, "until": today})
    assert rows(resp) == 1


def test_a_malformed_filter_is_ignored_and_said(admin_client):
    audit.record("signin", "success", who="x")
    resp = admin_client.get(reverse("portal:audit"), {"since": "yesterday-ish"})
    assert resp.status_code == 200
    assert b"were not understood" in resp.content


def test_the_log_is_paginated_and_keeps_the_filters(admin_client):
    for n in range(PAGE_SIZE + 5):
        audit.record("signin", "success", who=f"p{n}")
    first = admin_client.get(reverse("portal:audit"), {"action": "signin"})
    assert rows(first) == PAGE_SIZE
    assert b"action=signin&amp;page=2" in first.content
    second = admin_client.get(reverse("portal:audit"), {"action": "signin", "page": 2})
    assert rows(second) == 5


def test_graph_data_in_the_log_is_escaped(admin_client):
    audit.record("signin", "failure", target="<script>alert(1)</script>")
    resp = admin_client.get(reverse("portal:audit"))
    assert b"<script>alert(1)" not in resp.content
    assert b"&lt;script&gt;" in resp.content


def test_the_log_page_does_not_accept_posts(admin_client):
    assert admin_client.post(reverse("portal:audit")).status_code == 405


@pytest.mark.parametrize("role", [None, "helpdesk", "manager"])
def test_only_admins_read_the_audit_log(client, make_user, role):
    client.force_login(make_user(role))
    assert client.get(reverse("portal:audit")).status_code == 403
