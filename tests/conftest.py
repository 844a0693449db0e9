"""Shared fixtures: the offline tenant (graphsim) as a real HTTPS process, settings that point the
portal at it, a real Celery worker, and signed-in users. The helpers behind them live in
tests/support; in CI nothing that needs a server skips (tests.support.processes.need)."""

from __future__ import annotations

import pytest

from graphsim import launcher as graphsim_launcher
from tests.support import factories, signin
from tests.support.graphsim import GraphSim
from tests.support.processes import start_celery_worker, start_graphsim, stop_process


@pytest.fixture(autouse=True)
def _empty_django_cache():
    """Each test starts with an empty cache: rate-limit counters and cached figures of one test
    must not decide another's outcome."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session")
def graphsim():
    """One graphsim for the session (seed 7, 200 people). Tests that change it reset it."""
    proc, info = start_graphsim("--seed", "7", "--users", "200")
    yield info
    graphsim_launcher.stop(proc, info)


@pytest.fixture
def sim(graphsim):
    """A client for graphsim's /_sim/ test hooks. Afterwards it resets counters, faults, calls and
    the tenant, so a fault one test sets cannot reach the next (it once left the faults set)."""
    s = GraphSim(graphsim)
    yield s
    s.post("reset", {"tenant": True, "calls": True, "config": True})


@pytest.fixture
def graph_settings(settings, graphsim):
    """Point the portal at graphsim: the only things that differ from Microsoft are URLs + CA."""
    settings.MS_TENANT_ID = graphsim["tenant"]
    settings.MS_CLIENT_ID = graphsim["client_id"]
    settings.MS_CLIENT_SECRET = graphsim["client_secret"]
    settings.MS_AUTHORITY = graphsim["authority"]
    settings.MS_INSTANCE_DISCOVERY = False
    settings.GRAPH_BASE_URL = graphsim["graph"]
    settings.GRAPH_CA_BUNDLE = graphsim["ca"]
    settings.CALLS_CALLBACK_OPENID_CONFIG = graphsim["callback_openid_config"]
    settings.ACS_CONNECTION_STRING = graphsim["acs_connection_string"]
    return settings


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """A real `celery worker` process on the configured broker, reading the test database."""
    from django.db import connection

    proc = start_celery_worker(connection.settings_dict)
    yield proc
    stop_process(proc)


@pytest.fixture
def make_user(db):
    """Factory: `make_user(role=None, upn=..., object_id=...)`, a portal user in a role group,
    without MSAL, for fast view tests with `client.force_login(user)`."""
    return factories.make_user


@pytest.fixture
def msal_login(graph_settings, graphsim, db):
    """Sign `client` in as `upn` through real MSAL and graphsim; returns the callback response."""

    def login(client, upn: str, next_url: str | None = None):
        return signin.msal_login(graphsim, client, upn, next_url)

    return login


@pytest.fixture
def signed_in_client(msal_login):
    """Factory: a new Django test client signed in as `upn` through the real flow."""
    from django.test import Client

    def make(upn: str) -> Client:
        client = Client()
        resp = msal_login(client, upn)
        assert resp.status_code == 302, f"sign-in as {upn} failed: {resp.status_code}"
        return client

    return make
