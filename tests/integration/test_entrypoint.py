"""The production entry point (bin/portal, as the Docker image and Procfile run it) serves the
portal with DEBUG off: gunicorn, hashed static files, /healthz against a real tenant."""

import json
from pathlib import Path

import requests

from tests.support.processes import stop_process
from tests.support.production import start_web


def test_bin_portal_web_serves_healthz_and_hashed_static_files(production_env):
    env = production_env
    web = start_web(env)
    base = f"http://{env['BIND']}"
    try:
        resp = requests.get(f"{base}/healthz", timeout=5)
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
