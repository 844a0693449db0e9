"""Shared fixtures: the offline tenant (graphsim) as a real HTTPS process, settings that point the
portal at it, a real Celery worker, and the rule that in CI nothing that needs a server skips."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graphsim import launcher as graphsim_launcher

pytest_plugins = ["tests.auth_fixtures"]

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, reason: str) -> None:
    """Skip when a server or tool is missing, except in CI where every test must run."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def start_graphsim(*args: str, timeout: float = 60.0) -> tuple[subprocess.Popen, dict]:
    """Start `python -m graphsim --port 0 ...` and return the process and its ready line."""
    return graphsim_launcher.start(*args, timeout=timeout)


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
    """A client for graphsim's /_sim/ test hooks; resets counters, faults and tenant afterwards."""
    import requests

    class Sim:
        base = graphsim.get("sim") or graphsim["graph"] + "/_sim"
        info = graphsim

        def __init__(self):
            self.session = requests.Session()
            self.session.verify = graphsim["ca"]
            self.session.trust_env = False

        def get(self, path, **kw):
            resp = self.session.get(f"{self.base}/{path.lstrip('/')}", timeout=30, **kw)
            resp.raise_for_status()
            return resp.json()

        def post(self, path, payload=None):
            resp = self.session.post(
                f"{self.base}/{path.lstrip('/')}", json=payload or {}, timeout=30
            )
            resp.raise_for_status()
            return resp.json() if resp.content else {}

    s = Sim()
    yield s
    s.post("reset", {"tenant": True})


def graphsim_env(info: dict) -> dict[str, str]:
    """The environment that points a portal process (worker, gunicorn) at graphsim."""
    return {
        "MS_TENANT_ID": info["tenant"],
        "MS_CLIENT_ID": info["client_id"],
        "MS_CLIENT_SECRET": info["client_secret"],
        "MS_AUTHORITY": info["authority"],
        "MS_INSTANCE_DISCOVERY": "false",
        "GRAPH_BASE_URL": info["graph"],
        "GRAPH_CA_BUNDLE": info["ca"],
        "CALLS_CALLBACK_OPENID_CONFIG": info["callback_openid_config"],
    }


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
    return settings


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """A real `celery worker` process on the configured broker, reading the test database."""
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
        need(
            not str(db["NAME"]).startswith(("file:", ":memory:")),
            "a worker cannot share an in-memory SQLite database",
        )
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "-n",
            "test@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield proc
    stop_process(proc)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll until predicate() is truthy; return its value or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")
