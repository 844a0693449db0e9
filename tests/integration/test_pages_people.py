"""My delegations, the people search and a person's page: what each shows, to whom, how fast."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from delegation.models import DelegationChange, SyncRun
from tests.support.factories import grant, person

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def boss_and_assistant():
    boss = person("Boss Person", upn="boss@contoso.test")
    assistant = person("Assistant Person", upn="assistant@contoso.test")
    deputy = person("Deputy Person", upn="deputy@contoso.test")
    grant(boss, assistant, make_calls=True, receive_calls=True, pick_up_held_calls=True)
    grant(boss, deputy, receive_calls=True)
    return boss, assistant, deputy


@pytest.fixture
def signed_in(client, make_user):
    """Sign the test client in with a role (or none), as the directory person `who` if given."""

    def sign_in(role, who=None):
        user = make_user(role, object_id=who.object_id if who else None)
        client.force_login(user)
        return user

    return sign_in


# --- my delegations ---------------------------------------------------------------------------
def test_delegate_with_make_calls_is_offered_a_call_on_behalf(
    client, signed_in, boss_and_assistant
):
    boss, assistant, _ = boss_and_assistant
    signed_in(None, assistant)
    html = client.get(reverse("delegation:mine")).content.decode()
    assert "Boss Person" in html
    assert f"{reverse('calls:start')}?on_behalf_of={boss.object_id}" in html
    assert "Make calls" in html and "Pick up held calls" in html


def test_delegate_without_make_calls_gets_no_call_button(client, signed_in, boss_and_assistant):
    boss, _, deputy = boss_and_assistant
    signed_in(None, deputy)
    html = client.get(reverse("delegation:mine")).content.decode()
    assert "Boss Person" in html
    assert f"on_behalf_of={boss.object_id}" not in html


def test_inactive_grant_offers_no_call_button(client, signed_in):
    boss, former = person("Boss Person"), person("Former Person")
    grant(boss, former, make_calls=True, is_active=False)
    signed_in(None, former)
    html = client.get(reverse("delegation:mine")).content.decode()
    assert "inactive" in html
    assert "on_behalf_of=" not in html


def test_a_delegator_gone_from_the_directory_offers_no_call_button(client, signed_in):
    boss, assistant = person("Gone Boss", in_directory=False), person("Assistant Person")
    grant(boss, assistant, make_calls=True)
    signed_in(None, assistant)
    resp = client.get(reverse("delegation:mine"))
    assert [g.may_start_call for g in resp.context["data"].acting_for] == [False]
    assert "on_behalf_of=" not in resp.content.decode()


def test_delegator_sees_their_own_delegates(client, signed_in, boss_and_assistant):
    boss, _, _ = boss_and_assistant
    signed_in(None, boss)
    html = client.get(reverse("delegation:mine")).content.decode()
    assert "Assistant Person" in html and "Deputy Person" in html
    assert "Nobody has made you their delegate" in html


def test_person_missing_from_the_cache_is_told_why_the_page_is_empty(client, signed_in):
    signed_in(None)
    resp = client.get(reverse("delegation:mine"))
    assert resp.status_code == 200
    assert "not in the directory cache yet" in resp.content.decode()


def test_my_delegations_takes_a_fixed_number_of_queries(
    client, signed_in, boss_and_assistant, django_assert_max_num_queries
):
    boss, assistant, _ = boss_and_assistant
    for i in range(30):
        grant(person(f"Other Boss {i}"), assistant, make_calls=True)
        grant(boss, person(f"Extra Delegate {i}"), receive_calls=True)
    signed_in(None, assistant)
    with django_assert_max_num_queries(14):  # +4: the delegates panel (changes_tags)
        resp = client.get(reverse("delegation:mine"))
    assert resp.content.decode().count("on_behalf_of=") == 31


# --- people search ----------------------------------------------------------------------------
@pytest.fixture
def directory():
    return {
        "contains": person("Zed Maria-Lopez", upn="zed@contoso.test", mail="zed@contoso.test"),
        "prefix": person("Mariana Silva", upn="mariana@contoso.test"),
        "exact": person("Maria", upn="m.one@contoso.test"),
        "upn": person("Quinn Doe", upn="maria.q@contoso.test", mail="q@contoso.test"),
        "other": person("Bob Stone"),
    }


def results_order(html: str, people: dict, keys) -> list[str]:
    return sorted(keys, key=lambda k: html.index(people[k].display_name))


def test_search_ranks_exact_then_prefix_then_substring(client, signed_in, directory):
    signed_in("helpdesk")
    html = client.get(reverse("delegation:people_search"), {"q": "maria"}).content.decode()
    assert "Bob Stone" not in html
    order = results_order(html, directory, ["contains", "prefix", "exact", "upn"])
    assert order[0] == "exact"
    assert order[-1] == "contains"
    assert set(order[1:3]) == {"prefix", "upn"}


def test_exact_match_comes_first_even_when_many_names_start_alike(client, signed_in):
    for i in range(25):
        person(f"Maria {i:02d}")
    person("maria", upn="lower.case@contoso.test")  # written in lower case, sorts last
    signed_in("helpdesk")
    resp = client.get(reverse("delegation:people_search"), {"q": "maria"})
    results = [p.display_name for p in resp.context["results"]]
    assert results[0] == "maria" and len(results) == 20


def test_search_matches_mail_too(client, signed_in, directory):
    signed_in("helpdesk")
    html = client.get(reverse("delegation:people_search"), {"q": "q@contoso"}).content.decode()
    assert "Quinn Doe" in html and "Maria" not in html


def test_search_asks_for_more_characters_before_searching(client, signed_in, directory):
    signed_in("helpdesk")
    html = client.get(reverse("delegation:people_search"), {"q": "m"}).content.decode()
    assert "Type at least 2 characters" in html and "Mariana" not in html


def test_search_says_when_nobody_matches(client, signed_in, directory):
    signed_in("helpdesk")
    html = client.get(reverse("delegation:people_search"), {"q": "xyzzy"}).content.decode()
    assert "Nobody matches" in html


def test_people_page_renders_results_without_javascript(client, signed_in, directory):
    signed_in("manager")
    html = client.get(reverse("delegation:people"), {"q": "Mariana"}).content.decode()
    assert 'hx-get="/people/search"' in html
    assert reverse("delegation:person", args=[directory["prefix"].object_id]) in html


@pytest.mark.parametrize("term", ["ma\x00ria", "\U0010ffff\U0010ffff", "%_%", "ma'ria--"])
def test_odd_search_terms_are_answered_not_crashed_on(client, signed_in, directory, term):
    signed_in("helpdesk")
    assert client.get(reverse("delegation:people_search"), {"q": term}).status_code == 200


def test_hostile_names_are_escaped_in_search_results(client, signed_in):
    person(HOSTILE + " Mallory", upn="mallory@contoso.test")
    signed_in("helpdesk")
    html = client.get(reverse("delegation:people_search"), {"q": "mallory"}).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_search_takes_a_fixed_number_of_queries(client, signed_in, django_assert_max_num_queries):
    for i in range(40):
        person(f"Maria Number {i}")
    signed_in("helpdesk")
    with django_assert_max_num_queries(14):  # +4: the delegates panel (changes_tags)
        html = client.get(reverse("delegation:people"), {"q": "mar"}).content.decode()
    assert html.count("Maria Number") == 20


# --- a person's page --------------------------------------------------------------------------
def test_person_page_shows_delegates_delegators_history_and_last_sync(
    client, signed_in, boss_and_assistant
):
    boss, assistant, deputy = boss_and_assistant
    upstream = person("Chief Person")
    grant(upstream, boss, manage_settings=True, is_active=False)
    run = SyncRun.objects.create(trigger="schedule", status="succeeded", finished_at=timezone.now())
    DelegationChange.objects.create(
        run=run,
        at=timezone.now(),
        delegator=boss,
        delegate=deputy,
        kind="added",
        after={"receive_calls": True},  # the shape the sync writes (sync/apply.py)
    )
    signed_in("helpdesk")
    html = client.get(reverse("delegation:person", args=[boss.object_id])).content.decode()
    delegates = html.split('id="delegates-h"')[1].split('id="delegators-h"')[0]
    delegators = html.split('id="delegators-h"')[1].split('id="history-h"')[0]
    history = html.split('id="history-h"')[1]
    assert "Assistant Person" in delegates and "Deputy Person" in delegates
    assert "Chief Person" in delegators and "inactive" in delegators
    assert "Added" in history and "Receive calls" in history
    assert f"run #{run.pk}" in html


def test_person_page_of_an_unknown_id_is_404(client, signed_in):
    signed_in("helpdesk")
    assert client.get(reverse("delegation:person", args=["nope"])).status_code == 404


def test_person_page_of_a_malformed_id_is_404(client, signed_in):
    signed_in("helpdesk")
    assert client.get("/people/a%00b/").status_code == 404


def test_removed_person_is_labelled_unknown(client, signed_in):
    ghost = person("", in_directory=False, upn="")
    signed_in("helpdesk")
    html = client.get(reverse("delegation:person", args=[ghost.object_id])).content.decode()
    assert f"unknown person ({ghost.object_id})" in html


def test_person_page_escapes_hostile_names(client, signed_in):
    evil = person(HOSTILE, department=HOSTILE)
    grant(evil, person(HOSTILE + "2"), make_calls=True)
    signed_in("helpdesk")
    html = client.get(reverse("delegation:person", args=[evil.object_id])).content.decode()
    assert "<script>alert" not in html


def test_person_page_takes_a_fixed_number_of_queries(
    client, signed_in, boss_and_assistant, django_assert_max_num_queries
):
    boss, _, _ = boss_and_assistant
    run = SyncRun.objects.create(trigger="schedule", status="succeeded")
    for i in range(25):
        other = person(f"Many {i}")
        grant(boss, other, make_calls=True)
        grant(other, boss, receive_calls=True)
        DelegationChange.objects.create(
            run=run, at=timezone.now(), delegator=boss, delegate=other, kind="added"
        )
    signed_in("helpdesk")
    with django_assert_max_num_queries(15):  # +3: the delegates panel; +1: the sign-in check
        html = client.get(reverse("delegation:person", args=[boss.object_id])).content.decode()
    assert html.count("Many 24") >= 3
