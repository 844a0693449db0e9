"""`make run` serves the demo the way production runs (issue 15, item 5): DEBUG off, gunicorn
through bin/portal and Procfile.demo, whitenoise, the same headers; on plain http://127.0.0.1
by one named setting that refuses any other host."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
import requests

from scripts import dev
from tests.support.processes import ROOT, stop_process
from tests.support.production import PROD_ENV, free_port


def run_manage(*args, env_overrides):
    skip = set(PROD_ENV) | {"DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in skip} | env_overrides
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


@pytest.fixture
def demo(graphsim, tmp_path):
    """The web process of `make run`, started by scripts/dev.py's own functions."""
    port = free_port()
    values = dev.portal_env(graphsim, tmp_path, port)
    values["DATABASE_URL"] = f"sqlite:///{tmp_path}/demo.sqlite3"
    # The test run's DEBUG=true stays in the environment: the demo's own values must win.
    env = dev.process_env(values, dev.write_env(values, tmp_path), port)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    dev.prepare(env, develop=False)
    web = subprocess.Popen(
        dev.web_command(), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(base, web)
        yield base
    finally:
        stop_process(web)


def wait_until_answering(base: str, web: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while web.poll() is None and time.monotonic() < deadline:
        try:
            requests.get(f"{base}/livez", timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.3)
    pytest.fail("the demo's web process did not start")


def test_make_run_serves_with_debug_off(graphsim, tmp_path):
    assert dev.portal_env(graphsim, tmp_path, 8000)["DEBUG"] == "false"
    assert dev.web_command() == ["bin/portal", "web"]
    assert dev.portal_env(graphsim, tmp_path, 8000, develop=True)["DEBUG"] == "true"


def test_the_demo_hides_its_urls_and_keeps_its_headers_on_errors(demo):
    page = requests.get(f"{demo}/no/such/page", timeout=10)
    assert page.status_code == 404
    assert "Page not found" in page.text
    assert "URLconf" not in page.text and "auth/callback" not in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_the_demo_signs_a_browser_in_over_plain_http(demo, graphsim):
    with requests.Session() as browser:
        start = browser.get(
            f"{demo}/auth/login",
            params={"login_hint": "admin@contoso.test"},
            allow_redirects=False,
            timeout=10,
        )
        authorize = start.headers["Location"]
        assert authorize.startswith(graphsim["authority"])
        answer = requests.get(authorize, verify=graphsim["ca"], allow_redirects=False, timeout=10)
        back = answer.headers["Location"]
        assert urlsplit(back).netloc == urlsplit(demo).netloc
        mine = browser.get(back, timeout=10)  # the callback, then home, then their page
        assert mine.status_code == 200 and "Adele Admin" in mine.text
        assert mine.url.startswith(demo)  # never sent to https
        assert {"private", "no-store"} <= {
            d.strip() for d in mine.headers["Cache-Control"].split(",")
        }
        css = browser.get(f"{demo}/static/css/portal.css", timeout=10)
        assert css.status_code == 200  # whitenoise, from the collected files


def test_plain_http_is_refused_for_any_host_but_loopback():
    env = {**PROD_ENV, "DEMO_PLAIN_HTTP": "true"}  # ALLOWED_HOSTS=portal.example.com
    result = run_manage("check", env_overrides=env)
    assert result.returncode != 0 and "DEMO_PLAIN_HTTP" in result.stderr
    loopback = run_manage("check", env_overrides={**env, "ALLOWED_HOSTS": "127.0.0.1"})
    assert loopback.returncode == 0, loopback.stderr


def test_production_settings_keep_https_cookies_and_hsts():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in PROD_ENV},
            **PROD_ENV,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        },
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == ["True", "True", "True", "31536000"], result.stderr
