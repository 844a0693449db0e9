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


def test_a_delegate_who_may_only_receive_calls_is_told_why_and_offered_no_form(client, sign_in):
    sign_in("deputy")
    resp = client.get(reverse("calls:start"))
    assert resp.status_code == 403
    assert "Nobody has made you a delegate" in resp.content.decode()
    assert 'name="on_behalf_of"' not in resp.content.decode()


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


# --- The person picker is for people who may place a call (issue 15) --------------------------
@pytest.mark.parametrize("prefix", ["nobody", "deputy"])
def test_someone_who_may_not_place_calls_cannot_search_the_directory(client, sign_in, prefix):
    sign_in(prefix)  # no role; deputy may only receive the boss's calls
    resp = client.get(reverse("calls:people"), {"q": "Nils"})
    assert resp.status_code == 403
    assert "Nils" not in resp.content.decode()


def test_someone_who_may_not_place_calls_gets_no_picker_and_no_person_from_the_address(
    client, sign_in, people
):
    sign_in("nobody", role="manager")  # managers do not place calls of their own
    resp = client.get(reverse("calls:start"), {"target": people["boss"].object_id})
    html = resp.content.decode()
    assert resp.status_code == 403
    assert "Nobody has made you a delegate" in html
    assert people["boss"].upn not in html and "person-search" not in html


def test_the_picker_shows_a_name_and_an_address_only(client, sign_in, people):
    sign_in("assistant")
    people["nobody"].department = "Secret Projects"
    people["nobody"].save()
    html = client.get(reverse("calls:people"), {"q": "Nils"}).content.decode()
    assert people["nobody"].upn in html
    assert "Secret Projects" not in html
    chosen = client.get(reverse("calls:start"), {"target": people["nobody"].object_id})
    assert "Secret Projects" not in chosen.content.decode()


def test_a_target_that_is_not_an_object_id_is_not_looked_up(client, sign_in):
    # PostgreSQL refuses NUL in a text parameter: this was a 500 there.
    sign_in("assistant")
    assert client.get(reverse("calls:start"), {"target": "a\x00b"}).status_code == 200
