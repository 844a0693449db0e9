"""What the calls pages offer each person, from the local cache of graphsim's demo tenant."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.support.factories import load_demo_directory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(sim):
    return load_demo_directory(sim.get("truth"))


@pytest.fixture
def sign_in(client, make_user, people):
    def as_person(prefix, role=None):
        client.force_login(
            make_user(role, upn=people[prefix].upn, object_id=people[prefix].object_id)
        )

    return as_person


def on_behalf_choices(client) -> str:
    html = client.get(reverse("calls:start")).content.decode()
    return html[html.index('name="on_behalf_of"') : html.index("</select>")]


def test_a_delegate_is_offered_only_delegators_who_let_them_make_calls(client, sign_in, people):
    sign_in("assistant")
    choices = on_behalf_choices(client)
    assert people["boss"].object_id in choices
    assert choices.count("<option") == 2  # nobody, or boss


def test_a_delegate_who_may_only_receive_calls_is_offered_nobody_and_told_why(client, sign_in):
    sign_in("deputy")
    assert on_behalf_choices(client).count("<option") == 1
    assert "Nobody has made you a delegate" in client.get(reverse("calls:start")).content.decode()


def test_the_start_link_of_the_dashboards_preselects_the_delegator_and_the_person(
    client, sign_in, people
):
    sign_in("assistant")
    url = reverse("calls:start")
    html = client.get(
        f"{url}?on_behalf_of={people['boss'].object_id}&target={people['nobody'].object_id}"
    ).content.decode()
    assert f'value="{people["boss"].object_id}" selected' in html
    assert f'value="{people["nobody"].object_id}" checked' in html


def test_the_person_picker_finds_enabled_people_and_escapes_their_names(client, sign_in, people):
    sign_in("assistant")
    people["nobody"].display_name = "Nils <b>Nobody</b>"
    people["nobody"].save()
    html = client.get(reverse("calls:people"), {"q": "Nils", "field": "target"}).content.decode()
    assert 'name="target"' in html and "Nils &lt;b&gt;Nobody&lt;/b&gt;" in html
    assert "Dora" not in client.get(reverse("calls:people"), {"q": "Dora"}).content.decode()


def test_the_person_picker_only_fills_the_fields_it_knows(client, sign_in):
    sign_in("assistant")
    html = client.get(
        reverse("calls:people"), {"q": "Nils", "field": "x onclick=1"}
    ).content.decode()
    assert 'name="person"' in html and "onclick" not in html
