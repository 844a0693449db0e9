"""Every URL of the project x (anonymous, no role, helpdesk, manager, admin) -> expected status.

A status may be a tuple of acceptable ones (e.g. /healthz: 200 or 503, whatever the role).
Expectations live beside each app's tests (access_portal.py, access_delegation.py,
access_calls.py). A URL pattern nobody declared fails here, so no view goes unchecked.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.support.access import ROLES

# Each app's table is a module tests/integration/access_<app>.py with a list EXPECTED.
TABLES = sorted(path.stem for path in Path(__file__).parent.glob("access_*.py"))


def declared_rows() -> list[tuple]:
    rows = []
    for table in TABLES:
        rows.extend(importlib.import_module(f"tests.integration.{table}").EXPECTED)
    return rows


def project_url_names(patterns=None, namespace: str = "") -> list[str]:
    """Every pattern as "namespace:name" (a pattern without a name shows as its route)."""
    names = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = (
                f"{namespace}:{entry.namespace}"
                if namespace and entry.namespace
                else (entry.namespace or namespace)
            )
            names.extend(project_url_names(entry.url_patterns, inner))
        elif isinstance(entry, URLPattern):
            label = entry.name or f"<unnamed {entry.pattern}>"
            names.append(f"{namespace}:{label}" if namespace else label)
    return names


ROWS = declared_rows()


def test_every_url_pattern_has_an_expectation():
    declared = {row[0] for row in ROWS}
    missing = sorted(set(project_url_names()) - declared)
    assert not missing, f"URL patterns without an access expectation: {missing}"


def test_every_expectation_names_a_real_url():
    real = set(project_url_names())
    assert not sorted({row[0] for row in ROWS} - real)


def test_every_expectation_covers_every_role():
    assert all(set(statuses) == set(ROLES) for *_, statuses in ROWS)


@pytest.fixture
def client_as(make_user):
    def make(role: str) -> Client:
        client = Client()
        if role != "anonymous":
            client.force_login(make_user(None if role == "none" else role))
        return client

    return make


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "kwargs", "method", "role", "status"),
    [
        pytest.param(name, kwargs, method, role, statuses[role], id=f"{name}-{method}-{role}")
        for name, kwargs, method, statuses in ROWS
        for role in ROLES
    ],
)
def test_role_gets_the_expected_status(client_as, name, kwargs, method, role, status):
    client = client_as(role)
    resp = getattr(client, method)(reverse(name, kwargs=kwargs))
    assert resp.status_code in (status if isinstance(status, tuple) else (status,))
    if role == "anonymous" and status == 302 and name != "portal:home":
        assert resp["Location"].startswith(reverse("portal:login"))
