"""Security review: the production web process never writes an authorization code to its log."""

from __future__ import annotations

import subprocess
import time

import requests

from tests.integration.test_entrypoint import production_env  # noqa: F401 - a fixture
from tests.support.processes import ROOT, stop_process

CODE = "0.AAAA-secret-authorization-code-must-not-be-logged"


def test_the_access_log_leaves_out_query_strings_and_referers(production_env, tmp_path):  # noqa: F811
    env = production_env
    subprocess.run(["bin/portal", "release"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [".venv/bin/python", "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log:
        web = subprocess.Popen(["bin/portal", "web"], cwd=ROOT, env=env, stdout=log, stderr=log)
        base = f"http://{env['BIND']}"
        proxied = {"X-Forwarded-Proto": "https"}
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    requests.get(f"{base}/healthz", timeout=5)
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
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
