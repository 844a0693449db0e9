"""The organisation table's rows, written by the grant_row tag for speed, are the markup the
template's row gave: each kind of last change, a disabled and a removed person, names and
departments to escape and clip, dates in the viewer's time zone, with and without links."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import timezone

from delegation.selectors.grants import last_change
from tests.support.factories import grant, person

pytestmark = pytest.mark.django_db

# The row as templates/delegation/organisation.html wrote it before grant_row.
TEMPLATE_ROW = """{% load delegation_tags %}<tr>
      <td data-label="Delegator">{% person_link grant.delegator %}</td>
      <td data-label="Department">{{ grant.delegator.department|truncatechars:60 }}</td>
      <td data-label="Delegate">{% person_link grant.delegate %}</td>
      <td data-label="Allowed actions">{% action_badges grant %}</td>
      <td data-label="State">{% if grant.is_active %}active{% else %}inactive{% endif %}</td>
      <td data-label="Last change">{% with change=grant.last_change %}{% if change.how != "changed" %}<span class="small text-muted">{{ change.how }}</span> {% endif %}<time datetime="{{ change.at|date:'c' }}">{{ change.at|date:"SHORT_DATETIME_FORMAT" }}</time>{% endwith %}</td>
    </tr>"""  # noqa: E501


def grants() -> list:
    boss = person("<b>Bea</b> & Boss", department="R&D <lab> " * 9)
    gone = person("Gone Person", in_directory=False)
    off = person("Off Person", account_enabled=False)
    made = [
        grant(boss, gone, make_calls=True),
        grant(off, boss, is_active=False),
        grant(boss, off, receive_calls=True, manage_settings=True),
    ]
    made[0].last_changed = made[0].first_seen + timedelta(hours=3)  # changed
    made[1].created_in_teams = timezone.now() - timedelta(days=40)  # created
    for row in made:  # the third: first seen
        row.last_change = last_change(row)
    return made


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("can", [{"view_people": True}, {}])
def test_each_row_is_the_templates_row(zone, can):
    engine = engines["django"]
    request = RequestFactory().get("/organisation/")
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        for row in grants():
            context = {"grant": row, "can": can}
            expected = engine.from_string(TEMPLATE_ROW).render(context, request)
            tag = engine.from_string("{% load delegation_tags %}{% grant_row grant %}")
            assert tag.render(context, request) == expected
