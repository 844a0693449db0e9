"""The production entry point (bin/portal, as the Docker image and Procfile run it) serves the
portal with DEBUG off: gunicorn, hashed static files, /healthz against a real tenant."""

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, graphsim_env, stop_process
from tests.integration.test_foundation import PROD_ENV


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def production_env(graphsim, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE",)}
    env.update(PROD_ENV)
    env.update(
        {
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path}/prod.sqlite3",
            "STATIC_ROOT": str(tmp_path / "static"),
            "PORTAL_RUN_DIR": str(tmp_path / "run"),
            **graphsim_env(graphsim),
            "BIND": f"127.0.0.1:{free_port()}",
            "WEB_CONCURRENCY": "1",
        }
    )
    return env


def test_bin_portal_web_serves_healthz_and_hashed_static_files(production_env):
    env = production_env
    subprocess.run(["bin/portal", "release"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [".venv/bin/python", "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    web = subprocess.Popen(
        ["bin/portal", "web"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://{env['BIND']}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                resp = requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"ok": True}  # the details are for admins
        # Any other page over plain http is sent to https (behind the proxy it is https).
        redirect = requests.get(f"{base}/", timeout=5, allow_redirects=False)
        assert redirect.status_code == 301
        assert redirect.headers["Location"].startswith("https://")
        # Behind the proxy: the sign-in redirect, with the security headers on.
        page = requests.get(
            f"{base}/no/such/page", timeout=5, headers={"X-Forwarded-Proto": "https"}
        )
        assert page.status_code == 404
        assert "Content-Security-Policy" in page.headers
        assert page.headers["X-Frame-Options"] == "DENY"
        assert "max-age=31536000" in page.headers["Strict-Transport-Security"]
        manifest = Path(env["STATIC_ROOT"]) / "staticfiles.json"
        hashed = json.loads(manifest.read_text())["paths"]["css/portal.css"]
        css = requests.get(
            f"{base}/static/{hashed}", timeout=5, headers={"X-Forwarded-Proto": "https"}
        )
        assert css.status_code == 200
        assert "immutable" in css.headers.get("Cache-Control", "")
    finally:
        stop_process(web)
