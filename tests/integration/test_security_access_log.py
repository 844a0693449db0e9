"""Security review: the production web process never writes an authorization code to its log."""

from __future__ import annotations

import requests

from tests.support.processes import stop_process
from tests.support.production import start_web

CODE = "0.AAAA-secret-authorization-code-must-not-be-logged"


def test_the_access_log_leaves_out_query_strings_and_referers(production_env, tmp_path):
    env = production_env
    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log:
        web = start_web(env, log=log)
        base = f"http://{env['BIND']}"
        proxied = {"X-Forwarded-Proto": "https"}
        try:
            resp = requests.get(
                f"{base}/auth/callback",
                params={"code": CODE, "state": "unknown"},
                headers=proxied,
                timeout=10,
            )
            assert resp.status_code == 400, log_path.read_text(errors="replace")[-3000:]
            requests.get(
                f"{base}/auth/login",
                headers={**proxied, "Referer": f"{base}/auth/callback?code={CODE}"},
                timeout=10,
            )
        finally:
            stop_process(web)
    text = log_path.read_text(errors="replace")
    assert "/auth/callback" in text  # the request was logged...
    assert CODE not in text  # ...without its code
