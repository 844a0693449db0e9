"""The production entry point as tests run it: production settings, the environment for
`bin/portal` against graphsim, and gunicorn (`bin/portal web`) started and ready."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import requests

from tests.support.processes import ROOT, graphsim_env, stop_process

PROD_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k8#Qz!vR2m@Lp5^Wn7&Tb1*Yc4(Hd6)Jf9-Gs3+Xa0=Ue8_Io2",
    "ALLOWED_HOSTS": "portal.example.com",
    "TOKEN_ENCRYPTION_KEYS": "u7Hq0cIYr3kL8m1bC2n6v9pZx4sQw5eRt0yUiOpAsDf=",
    "MS_TENANT_ID": "00000000-0000-0000-0000-000000000001",
    "MS_CLIENT_ID": "00000000-0000-0000-0000-000000000002",
    "MS_CLIENT_SECRET": "not-a-real-secret",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(graphsim: dict, tmp_path: Path) -> dict[str, str]:
    """Production settings on 127.0.0.1:<free port>, pointed at graphsim, state in tmp_path."""
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


def start_web(env: dict[str, str], log=subprocess.DEVNULL) -> subprocess.Popen:
    """`bin/portal release`, collectstatic, then `bin/portal web` (gunicorn) writing to `log`;
    returns once /healthz answers (stopping the process if it never does)."""
    subprocess.run(["bin/portal", "release"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [".venv/bin/python", "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    web = subprocess.Popen(["bin/portal", "web"], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://{env['BIND']}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=5)
                return web
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    except BaseException:
        stop_process(web)
        raise
