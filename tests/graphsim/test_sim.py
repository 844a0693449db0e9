"""The command line, the state dir, the tenant file and the /_sim hooks."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.graphsim import session_for
from tests.support.processes import ROOT, launch_graphsim, stop_graphsim


def test_reset_tenant_rebuilds_from_seed(fresh_tenant):
    sim = fresh_tenant
    before = sim.truth()
    r = sim.hook("tenant", {"users": {"remove": ["boss@contoso.test"]}})
    assert r.status_code == 200
    assert r.json()["users"] == len(before["users"]) - 1
    after = sim.truth()
    boss = next(u for u in before["users"] if u["userPrincipalName"] == "boss@contoso.test")
    assert all(d["delegator"] != boss["id"] for d in after["delegations"])
    r = sim.hook("reset", {"tenant": True})
    assert r.status_code == 200
    again = sim.truth()
    assert again["users"] == before["users"]
    assert len(again["delegations"]) == len(before["delegations"])


def test_tenant_change_errors_are_400(fresh_tenant):
    sim = fresh_tenant
    assert sim.hook("tenant", {"users": {"remove": ["ghost@contoso.test"]}}).status_code == 400
    r = sim.hook("tenant", {"users": {"add": [{"displayName": "No UPN"}]}})
    assert r.status_code == 400
    r = sim.hook("tenant", {"users": {"add": [{"userPrincipalName": "boss@contoso.test"}]}})
    assert r.status_code == 400
    r = sim.hook(
        "tenant",
        {
            "delegations": {
                "set": [{"delegator": "boss@contoso.test", "delegate": "boss@contoso.test"}]
            }
        },
    )
    assert r.status_code == 400


def test_stats_and_calls_hooks_answer(sim):
    s = sim.hook("stats", method="GET").json()
    for k in ("total", "routes", "batch_items", "throttled", "faults", "peak_in_flight"):
        assert k in s
    assert isinstance(sim.hook("calls", method="GET").json()["value"], list)
    cfg = sim.hook("faults", method="GET").json()
    assert cfg["throttle_rps"] == 0 and cfg["delegation_id_mode"] == "other"


def test_every_answer_has_request_id(sim):
    r = sim.http.get(sim.base + "/stats", headers={"client-request-id": "x-1"}, timeout=10)
    assert r.headers["request-id"] and r.headers["client-request-id"] == "x-1"


def test_tls_names(sim):
    host, port = sim.graph.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=sim.ca)
    for name in ("localhost", "127.0.0.1"):
        with (
            socket.create_connection(("127.0.0.1", int(port)), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname=name) as tls,
        ):
            assert tls.version()
    cert = ctx.get_ca_certs()
    assert cert


def test_tenant_file_state_dir_reuse_and_sigterm(sim):
    truth = sim.truth()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tenant.json")
        with open(path, "w") as f:
            json.dump(truth, f)
        state = os.path.join(tmp, "state")
        proc, info = launch_graphsim("--tenant-file", path, "--seed", "7", "--state-dir", state)
        try:
            assert info["tenant"] == sim.info["tenant"]
            assert info["client_secret"] == sim.info["client_secret"]
            assert info["ca"].startswith(state)
            other = session_for(info["ca"]).get(info["sim"] + "/truth", timeout=30).json()
            assert other["users"] == truth["users"]
            key = lambda d: (d["delegator"], d["delegate"])  # noqa: E731
            assert sorted(map(key, other["delegations"])) == sorted(map(key, truth["delegations"]))
            with open(os.path.join(state, "graphsim.json")) as f:
                assert json.load(f)["graph"] == info["graph"]
            ca_before = Path(info["ca"]).read_text()
            jwks_before = (
                session_for(info["ca"])
                .get(info["authority"] + "/discovery/v2.0/keys", timeout=10)
                .json()
            )
        finally:
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
            assert time.monotonic() - t0 < 5
        proc, info = launch_graphsim("--tenant-file", path, "--seed", "7", "--state-dir", state)
        try:
            assert Path(info["ca"]).read_text() == ca_before
            jwks = (
                session_for(info["ca"])
                .get(info["authority"] + "/discovery/v2.0/keys", timeout=10)
                .json()
            )
            assert jwks == jwks_before
        finally:
            stop_graphsim(proc)


def test_seed_changes_ids_and_users_scale():
    t0 = time.monotonic()
    proc, info = launch_graphsim("--seed", "8", "--users", "20000", "--voice-share", "1")
    try:
        assert time.monotonic() - t0 < 10
        # Everyone with Teams Phone: about three delegates each, as before licences.
        assert info["users"] == 20000 and info["delegations"] > 45000
        assert info["tenant"] != "" and info["client_id"]
    finally:
        stop_graphsim(proc, info["_state_dir"])


def test_bad_arguments_fail_fast():
    r = subprocess.run(
        [sys.executable, "-m", "graphsim", "--port", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode != 0
