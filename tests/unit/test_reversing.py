"""portal.reversing gives what reverse() gives, for less: under a script prefix too, and a value
the URL's converter refuses is refused the same way."""

from __future__ import annotations

import pytest
from django.template import engines
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse, set_script_prefix

from delegation.templatetags.delegation_tags import OBJECT_ID
from portal.reversing import reverse_cached, reverse_with

GUID = "0b5e7f0e-3c1d-4a8e-9f57-2d5a0c7e9b11"
# What templates/portal/_nav_item.html was: nav_item now writes the same markup itself.
OLD_NAV_ITEM = (
    '<li class="nav-item"><a class="nav-link{% if current %} active{% endif %}" href="{{ href }}"'
    '{% if current %} aria-current="page"{% endif %}>{{ label }}</a></li>\n'
)


@pytest.fixture(params=["/", "/portal/"])
def script_prefix(request):
    set_script_prefix(request.param)
    yield request.param
    set_script_prefix("/")


@pytest.mark.parametrize("name", ["calls:list", "delegation:people", "portal:audit"])
def test_a_cached_url_is_reverses_own(script_prefix, name):
    assert reverse_cached(name) == reverse(name)
    assert reverse_cached(name).startswith(script_prefix)


@pytest.mark.parametrize("object_id", [GUID, "x", "A-b-9"])
def test_an_object_ids_url_is_reverses_own(script_prefix, object_id):
    expected = reverse("delegation:person", args=[object_id])
    assert reverse_with("delegation:person", object_id, OBJECT_ID) == expected


@pytest.mark.parametrize("bad", ["a/b", "a b", "é", "", "x" * 65])
def test_what_the_converter_refuses_is_refused_as_before(bad):
    with pytest.raises(NoReverseMatch):
        reverse("delegation:person", args=[bad])
    with pytest.raises(NoReverseMatch):
        reverse_with("delegation:person", bad, OBJECT_ID)


@pytest.mark.parametrize("path", ["/calls/", "/calls/7/", "/people/", "/me/delegations"])
@pytest.mark.parametrize("label", ["Calls", "<b>&</b>"])
def test_the_nav_item_writes_what_its_include_wrote(path, label):
    engine = engines["django"]
    request = RequestFactory().get(path)
    tag = engine.from_string("{% load portal_nav %}{% nav_item 'calls:list' label %}")
    href = reverse("calls:list")
    current = path == href or path.startswith(href)
    old = engine.from_string(OLD_NAV_ITEM).render(
        {"href": href, "label": label, "current": current}
    )
    assert tag.render({"request": request, "label": label}, request) == old
