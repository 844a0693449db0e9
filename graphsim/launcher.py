"""Start graphsim as a child process and read its ready line: for tests, benches and `make run`.

Standard library only, so the portal's tests, the benches and the dev runner share one way of
starting the offline tenant without importing its server.
"""

from __future__ import annotations

import json
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start(*args: str, timeout: float = 60.0) -> tuple[subprocess.Popen, dict]:
    """`python -m graphsim --port 0 <args>`; returns the process and its ready JSON line.

    Without --state-dir in args, a temporary one is made (info["_state_dir"], removed by stop()).
    graphsim's stderr goes to <state-dir>/graphsim.log, quoted if it fails to start.
    """
    argv = list(args)
    if "--port" not in argv:
        argv = ["--port", "0", *argv]
    owned = None
    if "--state-dir" in argv:
        state_dir = Path(argv[argv.index("--state-dir") + 1])
    else:
        state_dir = owned = Path(tempfile.mkdtemp(prefix="graphsim-"))
        argv += ["--state-dir", str(state_dir)]
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "graphsim.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "graphsim", *argv],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if not line:
                break
            try:
                info = json.loads(line)
            except json.JSONDecodeError:
                continue
            info["_state_dir"] = str(owned) if owned else None
            return proc, info
        if proc.poll() is not None:
            break
    proc.kill()
    proc.wait()
    tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
    if owned:
        shutil.rmtree(owned, ignore_errors=True)
    raise RuntimeError(f"graphsim did not become ready within {timeout:.0f} s\n{tail}")


def stop(proc: subprocess.Popen, info: dict | None = None, timeout: float = 10.0) -> None:
    """Terminate graphsim (then kill it if it lingers) and remove a temporary state dir."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()
    if info and info.get("_state_dir"):
        shutil.rmtree(info["_state_dir"], ignore_errors=True)


def portal_env(info: dict) -> dict[str, str]:
    """The settings that point a portal process at this graphsim (its ready line `info`): only
    URLs, ids, the secret and the CA differ from Microsoft's, so this is all a portal needs."""
    return {
        "MS_TENANT_ID": info["tenant"],
        "MS_CLIENT_ID": info["client_id"],
        "MS_CLIENT_SECRET": info["client_secret"],
        "MS_AUTHORITY": info["authority"],
        "MS_INSTANCE_DISCOVERY": "false",
        "GRAPH_BASE_URL": info["graph"],
        "GRAPH_CA_BUNDLE": info["ca"],
        "CALLS_CALLBACK_OPENID_CONFIG": info["callback_openid_config"],
        "ACS_CONNECTION_STRING": info["acs_connection_string"],
    }
