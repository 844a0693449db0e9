"""`make run`: the demo tenant (graphsim), then web + worker + beat under honcho. Ctrl-C stops all.

Reuses what exists: the virtualenv (Makefile), graphsim's CA and keys (.run/graphsim), the
dev secret and token key (.run/dev-secrets.env), the SQLite database.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from graphsim import launcher  # noqa: E402  (scripts/ is not a package: find the project first)

RUN = ROOT / ".run"
WEB_PORT = int(os.environ.get("PORT", "8000"))
SIM_PORT = int(os.environ.get("GRAPHSIM_PORT", "8443"))


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def dev_secrets() -> dict[str, str]:
    path = RUN / "dev-secrets.env"
    if not path.exists():
        from cryptography.fernet import Fernet

        path.write_text(
            f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
            f"TOKEN_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
        )
        path.chmod(0o600)
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def start_graphsim() -> tuple[subprocess.Popen, dict]:
    port = SIM_PORT if port_free(SIM_PORT) else 0
    try:
        return launcher.start(
            "--port",
            str(port),
            "--users",
            os.environ.get("GRAPHSIM_USERS", "500"),
            "--seed",
            os.environ.get("GRAPHSIM_SEED", "1"),
            "--state-dir",
            str(RUN / "graphsim"),
            "--redirect-uri",
            f"http://127.0.0.1:{WEB_PORT}/auth/callback",
            "--redirect-uri",
            f"http://localhost:{WEB_PORT}/auth/callback",
        )
    except RuntimeError as exc:
        sys.exit(str(exc))


def write_env(info: dict) -> Path:
    values = {
        "DEBUG": "true",
        **dev_secrets(),
        "MS_TENANT_ID": info["tenant"],
        "MS_CLIENT_ID": info["client_id"],
        "MS_CLIENT_SECRET": info["client_secret"],
        "MS_AUTHORITY": info["authority"],
        "MS_INSTANCE_DISCOVERY": "false",
        "GRAPH_BASE_URL": info["graph"],
        "GRAPH_CA_BUNDLE": info["ca"],
        "ACS_CONNECTION_STRING": info["acs_connection_string"],
        "CALLS_CALLBACK_BASE_URL": f"http://127.0.0.1:{WEB_PORT}",
        "CALLS_CALLBACK_OPENID_CONFIG": info["callback_openid_config"],
        # A demo resource account: graphsim accepts any application instance for phone calls.
        "CALLS_APP_INSTANCE_ID": "6f0c7b1e-0000-4000-8000-00000000a11e",
        "CALLS_APP_INSTANCE_NUMBER": "+14255550100",
        "PORTAL_RUN_DIR": str(RUN),
        "PORT": str(WEB_PORT),
    }
    path = RUN / "dev.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)
    return path


def _terminate_as_interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    # `kill` (SIGTERM) stops everything as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    RUN.mkdir(exist_ok=True)
    if not port_free(WEB_PORT):
        sys.exit(f"port {WEB_PORT} is in use: stop what uses it, or run with PORT=8001 make run")
    sim, info = start_graphsim()
    try:
        env_file = write_env(info)
        # honcho hands each process its own PORT: the web bind address is given explicitly.
        env = {**os.environ, "PORTAL_ENV_FILE": str(env_file), "BIND": f"127.0.0.1:{WEB_PORT}"}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        print(f"\n  Demo tenant (graphsim): {info['graph']}   CA: {info['ca']}")
        print(
            f"  Portal: http://127.0.0.1:{WEB_PORT}/  (sign in as admin@contoso.test, "
            "helpdesk@, manager@, boss@, assistant@ ...)"
        )
        print("  First time: sign in as admin@contoso.test, open 'Sync account', connect it,")
        print("  then 'Sync' > 'Sync now'. Ctrl-C stops everything.\n", flush=True)
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "-f", "Procfile.dev", "start"], cwd=ROOT, env=env
        )
        try:
            return honcho.wait()
        except KeyboardInterrupt:
            honcho.send_signal(signal.SIGTERM)
            try:
                return honcho.wait(timeout=30)
            except subprocess.TimeoutExpired:
                honcho.kill()
                return 1
    finally:
        launcher.stop(sim)


if __name__ == "__main__":
    sys.exit(main())
