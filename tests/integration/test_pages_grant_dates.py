"""A grant shows one "Since" date wherever it appears: the one Graph gives (createdDateTime,
cached as `created_in_teams`), or, when Graph gave none, the day the sync first saw it, said so."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from tests.support.factories import grant, person

pytestmark = pytest.mark.django_db
MADE_IN_TEAMS = datetime.datetime(2025, 6, 16, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture
def pair():
    boss = person("Bea Boss")
    assistant = person("Ari Assistant")
    grant(boss, assistant, make_calls=True, created_in_teams=MADE_IN_TEAMS)
    return boss, assistant


def since_cells(html: str) -> list[str]:
    """The table cells holding a date: on these pages, only a grant's "Since"."""
    return [cell for cell in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S) if "<time" in cell]


def test_delegate_delegator_and_helpdesk_see_the_same_since_date(client, make_user, pair):
    boss, assistant = pair
    pages = []
    for who in (assistant, boss):
        client.force_login(make_user(None, object_id=who.object_id))
        pages.append(client.get(reverse("delegation:mine")).content.decode())
    client.force_login(make_user("helpdesk"))
    pages.append(client.get(reverse("delegation:person", args=[boss.object_id])).content.decode())
    for html in pages:
        cells = since_cells(html)
        assert cells and all('datetime="2025-06-16T' in cell for cell in cells), cells


def test_a_grant_graph_gave_no_date_for_says_when_it_was_first_seen(client, make_user):
    boss, assistant = person("Bea Boss"), person("Ari Assistant")
    grant(boss, assistant, make_calls=True)
    client.force_login(make_user(None, object_id=boss.object_id))
    html = client.get(reverse("delegation:mine")).content.decode()
    assert "first seen <time" in html
