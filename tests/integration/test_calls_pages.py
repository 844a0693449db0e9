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
    # Only what they may submit: no "the call is mine" without the capability to place calls.
    assert choices.count("<option") == 1 and "Nobody" not in choices


def test_helpdesk_may_also_call_as_themselves(client, sign_in, people):
    sign_in("helpdesk", "helpdesk")
    choices = on_behalf_choices(client)
    assert "Nobody: the call is mine" in choices
    assert people["manager"].object_id in choices  # Mona lets Hugo make calls for her


@pytest.mark.parametrize("who, role", [("deputy", None), ("manager", "manager")])
def test_someone_without_calling_rights_gets_no_form_and_is_told_why(client, sign_in, who, role):
    sign_in(who, role)
    html = client.get(reverse("calls:start")).content.decode()
    assert 'id="no-calling-rights"' in html
    assert 'name="idempotency_key"' not in html and 'action="/calls/new"' not in html


def test_the_form_says_what_the_callee_sees_and_that_you_are_rung_first(client, sign_in):
    sign_in("assistant")
    html = client.get(reverse("calls:start")).content.decode()
    assert "first rings <strong>you</strong> in Microsoft Teams (Ari Assistant)" in html
    notice = html[html.index('id="callee-sees"') :]
    assert "Delegation portal" in notice and "On behalf of" in notice


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


def person_page_calls(client, person) -> str:
    html = client.get(reverse("delegation:person", args=[person.object_id])).content.decode()
    if 'id="person-calls"' not in html:
        return ""
    part = html[html.index('id="person-calls"') :]
    return part[: part.index("</div>")]


def test_the_person_page_offers_a_call_and_a_call_on_behalf_where_a_delegation_allows(
    client, sign_in, people
):
    sign_in("helpdesk", "helpdesk")
    nils, mona = people["nobody"], people["manager"]
    buttons = person_page_calls(client, nils)
    assert f"/calls/new?target={nils.object_id}" in buttons and "Call Nils Nobody" in buttons
    # Mona lets Hugo make calls for her.
    assert f"target={nils.object_id}&amp;on_behalf_of={mona.object_id}" in buttons
    assert "Call on behalf of Mona Manager" in buttons
    on_mona = person_page_calls(client, mona)
    assert "Call on behalf of Mona Manager" not in on_mona
    assert f"/calls/new?on_behalf_of={mona.object_id}" in on_mona


def test_the_person_page_offers_no_call_that_could_not_be_submitted(client, sign_in, people):
    sign_in("manager", "manager")  # sees people, may not place calls, is nobody's delegate
    assert person_page_calls(client, people["nobody"]) == ""
    sign_in("helpdesk", "helpdesk")
    assert "Call Dora" not in person_page_calls(client, people["disabled"])


def test_each_person_page_link_opens_a_form_that_can_be_submitted(client, sign_in, people):
    import re

    sign_in("helpdesk", "helpdesk")
    buttons = person_page_calls(client, people["nobody"])
    for link in re.findall(r'href="([^"]+)"', buttons):
        html = client.get(link.replace("&amp;", "&")).content.decode()
        assert 'action="/calls/new"' in html
        assert f'value="{people["nobody"].object_id}" checked' in html


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
