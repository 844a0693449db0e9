"""The README's first hour: `make run` says what it does while it installs and starts, and the
README says which account connects the sync and what to do at the demo tenant's certificate."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import need

ROOT = Path(__file__).resolve().parents[2]


def load_dev_script():
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "scripts" / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_run_says_it_installs_the_requirements_and_stops_if_pip_fails():
    need(shutil.which("make") is not None, "make is not installed")
    dry = subprocess.run(
        ["make", "-n", "-B", "venv"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "Installing the pinned requirements" in dry
    install = next(line for line in dry.splitlines() if "pip install" in line and "-r" in line)
    # The install's output goes through a filter: a failing pip must still fail the target.
    assert install.startswith("set -o pipefail;")


def test_make_run_says_each_step_before_it_takes_it(monkeypatch, tmp_path, capsys):
    dev = load_dev_script()
    steps = []
    names = ("tenant", "client_id", "client_secret", "authority", "graph", "ca")
    info = dict.fromkeys((*names, "acs_connection_string", "callback_openid_config"), "x")

    def started(*args):
        steps.append(("graphsim", capsys.readouterr().out))
        return object(), info

    def ran(command, **kw):
        steps.append(("migrate", capsys.readouterr().out))

    class Honcho:
        def __init__(self, command, **kw):
            steps.append(("honcho", capsys.readouterr().out))

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(dev, "RUN", tmp_path)
    monkeypatch.setattr(dev, "port_free", lambda port: True)
    monkeypatch.setattr(dev.launcher, "start", started)
    monkeypatch.setattr(dev.launcher, "stop", lambda proc: None)
    monkeypatch.setattr(dev.subprocess, "run", ran)
    monkeypatch.setattr(dev.subprocess, "Popen", Honcho)
    assert dev.main([]) == 0
    said = {}
    for name, output in steps:  # what was printed before each first step of its kind
        said.setdefault(name, output)
    assert "==> Starting the demo tenant" in said["graphsim"]
    assert "==> Migrating the database" in said["migrate"]
    assert "==> Starting the web server, a Celery worker and Celery beat" in said["honcho"]
    assert "sign in as admin@contoso.test" in said["honcho"]


@pytest.fixture
def readme():
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_says_which_account_connects_the_sync(readme):
    first_hour = readme[readme.index("## The first hour") :]
    assert "Connect the sync account" in first_hour
    assert "pick\n     **admin@contoso.test** again" in first_hour


def test_the_readme_says_what_to_do_at_the_demo_tenants_certificate(readme):
    dev = load_dev_script()
    ca = (dev.RUN / "graphsim" / "ca.pem").relative_to(ROOT)  # where make run keeps graphsim's CA
    assert f"`{ca}`" in readme
    assert "Proceed to 127.0.0.1 (unsafe)" in readme and "Accept the Risk and Continue" in readme
