"""Every delegation page answers each role as the access table says."""

from __future__ import annotations

import importlib.util

import pytest
from django.urls import reverse

from tests.integration.access_delegation import EXPECTED, make_portal_user

CASES = [
    pytest.param(name, kwargs, method, role, status, id=f"{name}-{method}-{role}")
    for name, kwargs, method, statuses in EXPECTED
    for role, status in statuses.items()
]


def test_every_delegation_url_is_in_the_access_table():
    from delegation.urls import app_name, urlpatterns

    assert {f"{app_name}:{p.name}" for p in urlpatterns} == {row[0] for row in EXPECTED}


@pytest.mark.django_db
@pytest.mark.parametrize("name, kwargs, method, role, status", CASES)
def test_role_gets_the_expected_answer(client, name, kwargs, method, role, status):
    wants_sync = name == "delegation:sync_start" and status == 302
    if wants_sync and importlib.util.find_spec("delegation.sync") is None:
        pytest.skip("the sync service (delegation.sync.request_sync) is not there yet")
    if role != "anonymous":
        client.force_login(make_portal_user(None if role == "none" else role))
    resp = getattr(client, method)(reverse(name, kwargs=kwargs))
    assert resp.status_code == status
    if role == "anonymous":
        assert reverse("portal:login") in resp["Location"]
