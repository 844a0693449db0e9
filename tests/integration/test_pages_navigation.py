"""The main navigation marks the section the page belongs to, by more than colour."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def current_links(html: str) -> list[str]:
    nav = html[html.index('aria-label="Main"') : html.index("</nav>")]
    return [part.split(">")[1].split("<")[0] for part in nav.split('aria-current="page"')[1:]]


@pytest.mark.parametrize(
    ("url", "section"),
    [
        (reverse("delegation:mine"), "My delegations"),
        (reverse("delegation:people") + "?q=bea", "People"),
        (reverse("delegation:organisation"), "Organisation"),
        (reverse("delegation:reviews"), "Organisation"),
        (reverse("delegation:sync_list"), "Sync"),
        (reverse("portal:sync_account"), "Sync account"),
        (reverse("portal:audit"), "Audit"),
        (reverse("calls:list"), "Calls"),
    ],
)
def test_the_current_section_is_marked_once(client, make_user, url, section):
    client.force_login(make_user("admin"))
    html = client.get(url).content.decode()
    assert current_links(html) == [section]
    assert 'class="nav-link active"' in html  # shown (underlined, bold), not only announced


def test_a_page_outside_the_sections_marks_none(client, make_user):
    client.force_login(make_user("helpdesk"))
    assert current_links(client.get(reverse("portal:no_access")).content.decode()) == []
