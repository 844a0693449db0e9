"""Every calls URL answers each role as the access table says."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.integration.access_calls import EXPECTED

CASES = [
    pytest.param(name, kwargs, method, role, status, id=f"{name}-{method}-{role}")
    for name, kwargs, method, statuses in EXPECTED
    for role, status in statuses.items()
]


def test_every_calls_url_is_in_the_access_table():
    from calls.urls import app_name, urlpatterns
    from tests.integration.test_url_access_table import project_url_names

    names = set(project_url_names(urlpatterns, app_name))  # included lists too (calls.phone)
    assert names == {row[0] for row in EXPECTED}


@pytest.mark.django_db
@pytest.mark.parametrize("name, kwargs, method, role, status", CASES)
def test_role_gets_the_expected_answer(
    client, make_user, settings, name, kwargs, method, role, status
):
    settings.CALLS_CALLBACK_BASE_URL = "https://portal.example"
    if role != "anonymous":
        client.force_login(make_user(None if role == "none" else role))
    resp = getattr(client, method)(reverse(name, kwargs=kwargs))
    assert resp.status_code == status
    if status == 302:
        assert reverse("portal:login") in resp["Location"]
