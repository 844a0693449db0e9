"""`make run`: the demo tenant (graphsim), then web + worker + beat under honcho. Ctrl-C stops all.

The demo runs the way production does (Procfile.demo): DEBUG off, gunicorn through `bin/portal
web`, static files collected and served by whitenoise, the same security headers. Only what
plain http://127.0.0.1 needs differs, by one named setting (DEMO_PLAIN_HTTP). `make run-dev`
(`--dev`) is the development mode instead: DEBUG on, and gunicorn reloads on code changes
(Procfile.dev).

Reuses what exists: the virtualenv (Makefile), graphsim's CA and keys (.run/graphsim), the
dev secret and token key (.run/dev-secrets.env), the SQLite database.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
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
DEMO_PROCFILE = "Procfile.demo"
DEV_PROCFILE = "Procfile.dev"
DEMO_PEOPLE = (
    "admin@contoso.test (admin), helpdesk@ (helpdesk), manager@ (manager), boss@ (an "
    "executive), assistant@ (her delegate), nobody@ (no role)"
)


def step(text: str) -> None:
    """One line of progress: `make run` says what it is doing while it does it."""
    print(f"==> {text}", flush=True)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def dev_secrets(run_dir: Path) -> dict[str, str]:
    path = run_dir / "dev-secrets.env"
    if not path.exists():
        from cryptography.fernet import Fernet

        path.write_text(
            f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
            f"TOKEN_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
        )
        path.chmod(0o600)
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def graphsim_args(run_dir: Path, web_port: int, sim_port: int = 0) -> list[str]:
    return [
        "--port",
        str(sim_port),
        "--users",
        os.environ.get("GRAPHSIM_USERS", "500"),
        "--seed",
        os.environ.get("GRAPHSIM_SEED", "1"),
        "--state-dir",
        str(run_dir / "graphsim"),
        "--redirect-uri",
        f"http://127.0.0.1:{web_port}/auth/callback",
        "--redirect-uri",
        f"http://localhost:{web_port}/auth/callback",
    ]


def portal_env(info: dict, run_dir: Path, web_port: int, *, develop: bool = False) -> dict:
    """The portal's settings for the demo (or, with `develop`, for development)."""
    values = {
        "DEBUG": "true" if develop else "false",
        **dev_secrets(run_dir),
        **launcher.portal_env(info),
        "CALLS_CALLBACK_BASE_URL": f"http://127.0.0.1:{web_port}",
        # A demo resource account: graphsim accepts any application instance for phone calls.
        "CALLS_APP_INSTANCE_ID": "6f0c7b1e-0000-4000-8000-00000000a11e",
        "CALLS_APP_INSTANCE_NUMBER": "+14255550100",
        "PORTAL_RUN_DIR": str(run_dir),
        "PORT": str(web_port),
    }
    if not develop:
        values |= {
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DEMO_PLAIN_HTTP": "true",  # http://127.0.0.1: no Secure cookies, no https redirect
            "STATIC_ROOT": str(run_dir / "static"),
        }
    return values


def write_env(values: dict, run_dir: Path) -> Path:
    path = run_dir / "dev.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)
    return path


def process_env(values: dict, env_file: Path, web_port: int) -> dict:
    """The processes' environment: the portal's values over the caller's (a DEBUG=true left in
    the shell must not turn the demo into development), the same file for manage.py by hand."""
    # honcho hands each process its own PORT: the web bind address is given explicitly.
    bind = f"127.0.0.1:{web_port}"
    return {**os.environ, **values, "PORTAL_ENV_FILE": str(env_file), "BIND": bind}


def process_command(procfile: str, process: str) -> list[str]:
    """One line of a Procfile, as honcho runs it."""
    for line in (ROOT / procfile).read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return shlex.split(command)
    raise SystemExit(f"{procfile} has no {process} process")


def web_command(procfile: str = DEMO_PROCFILE) -> list[str]:
    """The web line of a Procfile: what serves the portal (also what bench/web.py measures)."""
    return process_command(procfile, "web")


def prepare(env: dict, *, develop: bool) -> None:
    """Migrate; for the demo, collect the static files whitenoise serves (as the image does)."""
    steps = [["migrate", "--noinput", "-v", "0"]]
    if not develop:
        steps.append(["collectstatic", "--noinput", "-v", "0"])
    for command in steps:
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)


def _terminate_as_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The portal and its demo tenant.")
    parser.add_argument("--dev", action="store_true", help="DEBUG on, reload on code changes")
    develop = parser.parse_args(argv).dev
    # `kill` (SIGTERM) stops everything as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    RUN.mkdir(exist_ok=True)
    if not port_free(WEB_PORT):
        sys.exit(f"port {WEB_PORT} is in use: stop what uses it, or run with PORT=8001 make run")
    sim_port = SIM_PORT if port_free(SIM_PORT) else 0
    step(f"Starting the demo tenant (graphsim, {os.environ.get('GRAPHSIM_USERS', '500')} people)")
    try:
        sim, info = launcher.start(*graphsim_args(RUN, WEB_PORT, sim_port))
    except RuntimeError as exc:
        sys.exit(str(exc))
    try:
        values = portal_env(info, RUN, WEB_PORT, develop=develop)
        env = process_env(values, write_env(values, RUN), WEB_PORT)
        step("Migrating the database" + ("" if develop else " and collecting static files"))
        prepare(env, develop=develop)
        step("Starting the web server, a Celery worker and Celery beat (honcho)")
        mode = "development: DEBUG on, reloads" if develop else "as in production: DEBUG off"
        print(f"\n  Demo tenant (graphsim): {info['graph']}   CA: {info['ca']}")
        print(f"  Portal ({mode}): http://127.0.0.1:{WEB_PORT}/")
        print(f"  Sign in on graphsim's page as {DEMO_PEOPLE}.")
        print("  The demo tenant's sign-in page has a certificate from its own CA (above): the")
        print("  browser warns once; the README's first hour says what to do.")
        print("  First time: sign in as admin@contoso.test; the first page guides the setup")
        print("  (connect the sync account as admin@contoso.test, then 'Sync now').")
        print("  Ctrl-C stops everything.\n", flush=True)
        procfile = DEV_PROCFILE if develop else DEMO_PROCFILE
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "-f", procfile, "start"], cwd=ROOT, env=env
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
