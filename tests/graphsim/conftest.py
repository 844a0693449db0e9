"""Contract suite for graphsim: one real graphsim process over HTTPS, driven with requests and
MSAL (no mocks). Runs without Django: `pytest tests/graphsim -p no:django`."""

from __future__ import annotations

import pytest

from tests.support.graphsim import GraphSim
from tests.support.processes import launch_graphsim, stop_graphsim
from tests.support.receiver import Receiver


@pytest.fixture(scope="session")
def sim():
    proc, info = launch_graphsim("--seed", "7", "--users", "300")
    s = GraphSim(info)
    yield s
    stop_graphsim(proc, info["_state_dir"])


@pytest.fixture(autouse=True)
def _reset_config(request):
    yield
    if "sim" in request.fixturenames:
        s = request.getfixturevalue("sim")
        s.hook("reset", {"config": True})


@pytest.fixture
def fresh_tenant(sim):
    """Rebuilds the tenant from the seed after the test (for tests that change it)."""
    yield sim
    sim.hook("reset", {"tenant": True, "config": True})


@pytest.fixture(scope="session")
def app_token(sim):
    return sim.app_token()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()
