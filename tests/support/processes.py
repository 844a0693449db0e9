"""Starting and stopping the processes tests need (graphsim, workers, gunicorn), and the rule that
in CI nothing that needs a server or tool skips."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graphsim import launcher as graphsim_launcher

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(condition: bool, reason: str) -> None:
    """Skip when a server or tool is missing, except in CI where every test must run."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_graphsim(*args: str, timeout: float = 60.0) -> tuple[subprocess.Popen, dict]:
    """Start `python -m graphsim --port 0 ...` and return the process and its ready line."""
    return graphsim_launcher.start(*args, timeout=timeout)


def launch_graphsim(*args: str, timeout: float = 30.0):
    """Like start_graphsim, and the ready line keeps its process under "_proc"."""
    proc, info = graphsim_launcher.start(*args, timeout=timeout)
    info["_proc"] = proc
    return proc, info


def stop_graphsim(proc, state_dir=None) -> None:
    """Stop a graphsim and, if given, remove its state directory."""
    graphsim_launcher.stop(proc)
    if state_dir:
        shutil.rmtree(state_dir, ignore_errors=True)


def graphsim_env(info: dict) -> dict[str, str]:
    """The environment that points a portal process (worker, gunicorn) at graphsim."""
    return graphsim_launcher.portal_env(info)


def point_workers_at_graphsim(monkeypatch, info: dict, **extra: str) -> dict[str, str]:
    """Set, for this test, the environment a worker process started next reads: graphsim's
    settings and `extra`; returns them."""
    env = {**graphsim_env(info), **extra}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def start_celery_worker(db: dict) -> subprocess.Popen:
    """A real `celery worker` process on the configured broker, reading the database `db`
    (Django's connection.settings_dict)."""
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
    return subprocess.Popen(
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
