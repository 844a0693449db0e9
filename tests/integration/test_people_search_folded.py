"""Case- and accent-insensitive person search (issue 16), on whichever database DATABASE_URL
names: every place that searches people finds "Zoë" by "zoe", whatever the spelling typed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from delegation.folding import SOURCES, person_folded
from delegation.models import DirectoryUser
from delegation.selectors.grants import filtered_delegations
from delegation.selectors.people import search_people
from delegation.sync.service import sync_now
from tests.support import api as api_support
from tests.support.api import bearer
from tests.support.factories import grant, person

pytestmark = pytest.mark.django_db
api_token = api_support.api_token  # a fixture
FOUND = [
    ("Zoë Jensen", ["zoe", "ZOE", "Zoë", "zoë jen"]),
    ("Karin Ångström", ["angstrom", "ÅNGSTRÖM", "karin ang"]),
    ("Paul Müller", ["muller", "MÜLLER", "paul mu"]),
    ("Ulla Straße", ["strasse", "STRASSE", "straße"]),
]


@pytest.fixture
def accented():
    people = {name: person(name, voice_enabled=True) for name, _ in FOUND}
    person("Bob Stone")
    return people


@pytest.mark.parametrize(("name", "term"), [(n, t) for n, terms in FOUND for t in terms])
def test_the_search_finds_names_whatever_their_case_and_accents(accented, name, term):
    found = [p.display_name for p in search_people(DirectoryUser.objects.all(), term)]
    assert found == [name]


def test_a_folded_exact_name_comes_before_longer_names(accented):
    person("Zoe Jensen-Berg")
    found = [p.display_name for p in search_people(DirectoryUser.objects.all(), "ZOE JENSEN")]
    assert found == ["Zoë Jensen", "Zoe Jensen-Berg"]


def test_what_django_writes_is_folded_and_kept_folded(accented):
    zoe = accented["Zoë Jensen"]
    assert zoe.search_folded.startswith("zoe jensen\tzoe.jensen@contoso.test\t")
    zoe.display_name = "Zoé Ærø"
    zoe.save()
    assert DirectoryUser.objects.get(pk=zoe.pk).search_folded.startswith("zoe aero\t")
    assert search_people(DirectoryUser.objects.all(), "aero") == [zoe]


def test_every_search_page_folds(client, make_user, accented):
    client.force_login(make_user("helpdesk"))
    pages = [
        reverse("delegation:people"),
        reverse("delegation:people_search"),
        reverse("calls:people"),
        reverse("changes:people"),
    ]
    for url in pages:
        html = client.get(url, {"q": "angstrom"}).content.decode()
        assert "Karin Ångström" in html, url
        assert "Bob Stone" not in html, url


def test_the_api_people_endpoint_folds(client, api_token, accented):
    response = client.get("/api/people", {"q": "STRASSE"}, **bearer(api_token))
    assert response.status_code == 200, response.content
    assert [p["display_name"] for p in response.json()["items"]] == ["Ulla Straße"]


def test_the_grants_table_filter_folds(accented):
    grant(accented["Zoë Jensen"], accented["Paul Müller"], make_calls=True)
    assert filtered_delegations(person="zoe").count() == 1
    assert filtered_delegations(person="MULLER").count() == 0  # the start of a name only
    assert filtered_delegations(person="paul mu").count() == 1


def test_the_sync_writes_the_folded_column_graphsim_names_are_found_by(tenant):
    run = sync_now()
    assert run.status in ("succeeded", "partial"), run.error
    rows = DirectoryUser.objects.values_list("search_folded", *SOURCES)
    assert all(folded == person_folded(*values) for folded, *values in rows)
    everyone = DirectoryUser.objects.all()
    assert "Zoë Ångström" in [p.display_name for p in search_people(everyone, "zoe angstrom")]
    assert any("Groß" in p.display_name for p in search_people(everyone, "gross-uber"))
