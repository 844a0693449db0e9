"""The portal over HTTP as `make run` serves it, under a mixed signed-in load, beside the same
load on a trivial view of the same server (the framework's floor on this machine).

    .venv/bin/python bench/web.py [--sessions 20] [--seconds 30] [--users 500]

Starts graphsim, the web process and a Celery worker the way `make run` does (scripts/dev.py:
the web and worker lines of Procfile.demo, DEBUG off, gunicorn, whitenoise, the filesystem
broker in the run folder), in a run folder of its own on free ports of 127.0.0.1; fills the
directory cache with one real sync (app-only); signs `--sessions` people in through graphsim's
sign-in (helpdesk, manager, admin, assistant in turn) and places a few calls (the worker places
them with Graph; the bench waits until graphsim has them, so the callbacks name real call ids).
Then two rounds of `--seconds`, each session a closed loop (its next request when the last one
answered), every request to 127.0.0.1 only:
1. the mix, each session in turn through its role's pages: dashboards (my delegations, the
   organisation), people search (the page and its htmx part), call pages (the list, a new call's
   form, a call's page and its live part) and call callbacks signed like Graph's;
2. the floor: GET /livez with the same session cookies (every middleware, no page).
Prints requests/s, p50/p95/p99 and errors per page and overall, and the ratios of the two
rounds. A GET whose kept-alive connection the server closed as it left is sent again once, as a
browser does, and counted on a `retried` line (never hidden). The `cpu` lines give the web
processes' CPU time a request in each round (what the closed loop's latency comes down to on a
busy machine). The last line: `web rps=R p95_ms=P errors=E floor_rps=F floor_p95_ms=G
rps_ratio=F/R p95_ratio=P/G worst_page=NAME worst_p50_ratio=X`.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from graphsim import launcher  # noqa: E402  (bench/ is not a package: find the project first)
from scripts import dev  # noqa: E402

HOST = "127.0.0.1"
ROLES = ("helpdesk", "manager", "admin", "assistant")
CALLEES = ("nobody", "deputy", "former")
MAX_REQUESTS_PER_SESSION = 100_000  # the loop is bounded by time and by count


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--users", type=int, default=500, help="people in graphsim's tenant")
    p.add_argument(
        "--dev", action="store_true", help="measure `make run-dev` instead (DEBUG on, reload)"
    )
    return p.parse_args(argv)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- The server, as `make run` starts it -----------------------------------------------------
def start_portal(run_dir: Path, info: dict, port: int, develop: bool) -> list[subprocess.Popen]:
    """A synced cache, then the web and worker processes of `make run` (or `make run-dev`), the
    web one answering."""
    values = dev.portal_env(info, run_dir, port, develop=develop)
    values |= {
        "SYNC_USE_APP_ONLY": "true",  # the cache filled by one sync, without connecting an account
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite:///{run_dir / 'portal.sqlite3'}",  # SQLite, as `make run`
    }
    env = dev.process_env(values, dev.write_env(values, run_dir), port)
    for name in ("DJANGO_SETTINGS_MODULE", "CACHE_URL"):
        env.pop(name, None)  # the per-process cache, as `make run` has it
    dev.prepare(env, develop=develop)
    sim_hooks(info, "faults", {"app_delegation_read": True})
    subprocess.run(
        [sys.executable, "manage.py", "sync_delegations"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    procfile = dev.DEV_PROCFILE if develop else dev.DEMO_PROCFILE
    started = []
    for process in ("worker", "web"):
        with open(run_dir / f"{process}.log", "wb") as log:  # the worker's, to say why if it fails
            started.append(
                subprocess.Popen(
                    dev.process_command(procfile, process),
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL if process == "web" else log,
                    stderr=subprocess.DEVNULL if process == "web" else subprocess.STDOUT,
                )
            )
    wait_until_up(f"http://{HOST}:{port}", started[-1])
    return started


def sim_hooks(info: dict, hook: str, body: dict) -> dict:
    resp = requests.post(f"{info['sim']}/{hook}", json=body, verify=info["ca"], timeout=30)
    resp.raise_for_status()
    return resp.json()


def wait_until_up(base: str, web: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise SystemExit("the web process stopped while starting")
        try:
            if requests.get(f"{base}/livez", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit("the web process did not answer within 60 s")


# --- People signed in through graphsim, and what they will ask for ---------------------------
def sign_in(base: str, info: dict, upn: str) -> requests.Session:
    """The real flow: our login page, graphsim's authorize (over HTTPS), our callback."""
    browser = requests.Session()
    browser.trust_env = False
    # A browser sends a GET again, once, when the kept-alive connection it reused was closed by
    # the server as the request left (gunicorn closes one idle for 2 s); the bench counts these.
    once = Retry(total=1, connect=1, read=1, status=0, other=0, allowed_methods={"GET"})
    browser.mount("http://", HTTPAdapter(max_retries=once))
    start = browser.get(
        f"{base}/auth/login", params={"login_hint": upn}, allow_redirects=False, timeout=30
    )
    answer = requests.get(
        start.headers["Location"], verify=info["ca"], allow_redirects=False, timeout=30
    )
    back = answer.headers["Location"]
    assert urlsplit(back).hostname == HOST, back
    landed = browser.get(back, timeout=30)
    assert landed.ok and "/auth/" not in landed.url, (upn, landed.status_code, landed.url)
    return browser


def place_calls(base: str, helpdesk: requests.Session, truth: dict) -> list[int]:
    """A few calls placed by helpdesk, for the call pages and the callbacks."""
    ids = {u["userPrincipalName"].split("@")[0]: u["id"] for u in truth["users"]}
    calls = []
    for callee in CALLEES:
        form = helpdesk.get(f"{base}/calls/new", timeout=30).text
        key = form.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
        csrf = helpdesk.cookies.get("csrftoken")
        resp = helpdesk.post(
            f"{base}/calls/new",
            data={"idempotency_key": key, "person": ids[callee], "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base}/calls/new"},
            allow_redirects=False,
            timeout=30,
        )
        assert resp.status_code == 302, (resp.status_code, resp.text[:300])
        calls.append(int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1]))
    return calls


def placed_calls(info: dict, run_dir: Path, count: int, worker: subprocess.Popen) -> list[str]:
    """Graph's ids of the calls the worker has placed, once graphsim has all `count` of them."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            break
        placed = requests.get(f"{info['sim']}/calls", verify=info["ca"], timeout=30).json()
        if len(placed["value"]) >= count:
            return [call["id"] for call in placed["value"]]
        time.sleep(0.2)
    log = (run_dir / "worker.log").read_text(errors="replace")[-2000:]
    raise SystemExit(f"the worker did not place the {count} calls within 60 s\n{log}")


def callback_token(info: dict, run_dir: Path) -> str:
    """A token like the ones Graph puts on call notifications, signed with graphsim's key."""
    pem = run_dir / "graphsim" / "callbacks.key.pem"
    key = serialization.load_pem_private_key(pem.read_bytes(), None)
    kid = requests.get(info["callback_jwks"], verify=info["ca"], timeout=30).json()["keys"][0]
    now = int(time.time())
    claims = {
        "iss": info["callback_issuer"],
        "aud": info["client_id"],
        "tid": info["tenant"],
        "iat": now,
        "nbf": now - 60,
        "exp": now + 3600,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid["kid"]})


def pages_for(role: str, calls: list[int]) -> list[tuple[str, str]]:
    """(name, path) in the order a session of this role goes through them."""
    call = calls[0]
    common = [("mine", "/me/delegations"), ("callback", "/calls/callback")]
    people = [("people", "/people/?q=ma"), ("people_search", "/people/search?q=an")]
    by_role = {
        "helpdesk": people
        + [
            ("calls", "/calls/"),
            ("call_new", "/calls/new"),
            ("call", f"/calls/{call}/"),
            ("call_live", f"/calls/{call}/live"),
        ],
        "manager": people
        + [
            ("organisation", "/organisation/"),
            ("org_filtered", "/organisation/?action=make_calls"),
        ],
        "admin": [("organisation", "/organisation/"), ("calls", "/calls/"), *people],
        "assistant": [("calls", "/calls/"), ("call_new", "/calls/new")],
    }
    return common + by_role[role]


# --- The load ---------------------------------------------------------------------------------
class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.error_kinds: dict[tuple[str, str], int] = {}  # (page, status or exception)
        self.retried: dict[tuple[str, str], int] = {}  # (page, why): GETs sent twice
        self.cpu_s = 0.0  # the web processes' CPU time during the round

    def add(self, name: str, ms: float, error: str = "", retried: str = "") -> None:
        with self.lock:
            self.samples.setdefault(name, []).append(ms)
            if retried:
                self.retried[(name, retried)] = self.retried.get((name, retried), 0) + 1
            if error:
                self.errors[name] = self.errors.get(name, 0) + 1
                key = (name, error)
                self.error_kinds[key] = self.error_kinds.get(key, 0) + 1


class Callbacks:
    """Call notifications as Graph posts them: no cookies, a bearer token, each one new (a
    sequence number) about one of the calls placed, each on a connection of its own (Graph is
    not one of our keep-alive clients; an idle kept-alive one races the server's close)."""

    def __init__(self, base: str, token: str, graph_ids: list[str]):
        self.url = f"{base}/calls/callback"
        self.headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
        self.graph_ids = graph_ids
        self.sequence = itertools.count()

    def post(self):
        n = next(self.sequence)
        graph_id = self.graph_ids[n % len(self.graph_ids)]
        item = {
            "changeType": "updated",
            "resourceUrl": f"/communications/calls/{graph_id}",
            "resourceData": {"id": graph_id, "state": "established", "sequence": n},
        }
        body = {"@odata.type": "#microsoft.graph.commsNotifications", "value": [item]}
        with requests.Session() as http:
            http.trust_env = False
            return http.post(self.url, json=body, headers=self.headers, timeout=60)


def run_round(base, sessions, plan, seconds, callbacks) -> Recorder:
    """Every session a closed loop through its plan until the time is up."""
    recorder = Recorder()
    start_at = time.monotonic() + 0.5
    end_at = start_at + seconds

    def loop(browser, pages):
        while time.monotonic() < start_at:
            time.sleep(0.01)
        for name, path in itertools.islice(itertools.cycle(pages), MAX_REQUESTS_PER_SESSION):
            if time.monotonic() >= end_at:
                break
            t = time.perf_counter()
            retried = ""
            try:
                if name == "callback":
                    status, expected = callbacks.post().status_code, 202
                else:
                    resp = browser.get(f"{base}{path}", allow_redirects=False, timeout=60)
                    status, expected = resp.status_code, 200
                    if resp.raw.retries and resp.raw.retries.history:
                        retried = str(resp.raw.retries.history[-1].error)[:90]
                error = "" if status == expected else str(status)
            except requests.RequestException as exc:
                error = f"{type(exc).__name__} ({str(exc)[-90:]})"
            recorder.add(name, (time.perf_counter() - t) * 1000, error, retried)

    threads = [
        threading.Thread(target=loop, args=(browser, pages))
        for browser, pages in zip(sessions, plan, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return recorder


# --- Figures ------------------------------------------------------------------------------------
def cpu_seconds(root: int) -> float:
    """CPU time (user + system) of a process and its children alive now (Linux /proc; 0 elsewhere):
    the web process and its gunicorn workers."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if root in (pid, ppid):
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def quantile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def summary(samples: list[float], seconds: float) -> dict:
    return {
        "n": len(samples),
        "rps": len(samples) / seconds,
        "p50": quantile(samples, 0.50),
        "p95": quantile(samples, 0.95),
        "p99": quantile(samples, 0.99),
    }


def report(mix: Recorder, floor: Recorder, seconds: float, sessions: int, develop: bool) -> int:
    floor_all = summary(floor.samples["livez"], seconds)
    every = [ms for values in mix.samples.values() for ms in values]
    total = summary(every, seconds)
    errors = sum(mix.errors.values())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"web: {sessions} sessions x {seconds:.0f} s on {os.cpu_count()} cores (load {load})")
    served = "make run-dev: DEBUG on" if develop else "make run: DEBUG off"
    command = " ".join(dev.web_command(dev.DEV_PROCFILE if develop else dev.DEMO_PROCFILE))
    print(f"server: {command} (gunicorn, as {served})")
    print(
        f"{'page':14} {'n':>6} {'rps':>7} {'p50_ms':>8} {'p95_ms':>8} {'p99_ms':>8} "
        f"{'errors':>6} {'p50/floor':>9} {'p95/floor':>9}"
    )
    worst = ("", 0.0)
    for name in sorted(mix.samples):
        row = summary(mix.samples[name], seconds)
        p50_ratio = row["p50"] / floor_all["p50"]
        worst = max(worst, (name, p50_ratio), key=lambda item: item[1])
        print(
            f"{name:14} {row['n']:6d} {row['rps']:7.1f} {row['p50']:8.1f} {row['p95']:8.1f} "
            f"{row['p99']:8.1f} {mix.errors.get(name, 0):6d} {p50_ratio:9.1f} "
            f"{row['p95'] / floor_all['p95']:9.1f}"
        )
    for label, row, errs in (
        ("mix", total, errors),
        ("floor", floor_all, sum(floor.errors.values())),
    ):
        print(
            f"{label:14} {row['n']:6d} {row['rps']:7.1f} {row['p50']:8.1f} {row['p95']:8.1f} "
            f"{row['p99']:8.1f} {errs:6d}"
        )
    for label, recorder, row in (("mix", mix, total), ("floor", floor, floor_all)):
        print(
            f"cpu ({label}): the web processes used {recorder.cpu_s:.1f} s of CPU in "
            f"{seconds:.0f} s, {recorder.cpu_s * 1000 / max(row['n'], 1):.1f} ms a request"
        )
    for (name, kind), count in sorted(mix.error_kinds.items()):
        print(f"error: {name} answered {kind} {count} times")
    for label, recorder in (("mix", mix), ("floor", floor)):
        for (name, why), count in sorted(recorder.retried.items()):
            print(f"retried ({label}): {name} sent again {count} times, as a browser does ({why})")
    print(
        f"web rps={total['rps']:.1f} p95_ms={total['p95']:.1f} errors={errors} "
        f"floor_rps={floor_all['rps']:.1f} floor_p95_ms={floor_all['p95']:.1f} "
        f"rps_ratio={floor_all['rps'] / total['rps']:.2f} "
        f"p95_ratio={total['p95'] / floor_all['p95']:.2f} "
        f"worst_page={worst[0]} worst_p50_ratio={worst[1]:.1f}"
    )
    return 0 if errors == 0 else 1


def main() -> int:
    args = parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="bench-web-"))
    port = free_port()
    os.environ["GRAPHSIM_USERS"] = str(args.users)
    sim, info = launcher.start(*dev.graphsim_args(run_dir, port))
    processes = []
    try:
        processes = start_portal(run_dir, info, port, args.dev)
        base = f"http://{HOST}:{port}"
        truth = requests.get(f"{info['sim']}/truth", verify=info["ca"], timeout=60).json()
        roles = [ROLES[i % len(ROLES)] for i in range(args.sessions)]
        sessions = [sign_in(base, info, f"{role}@contoso.test") for role in roles]
        calls = place_calls(base, sessions[0], truth)
        graph_ids = placed_calls(info, run_dir, len(calls), processes[0])
        callbacks = Callbacks(base, callback_token(info, run_dir), graph_ids)
        plan = [pages_for(role, calls) for role in roles]
        web = processes[-1].pid
        before = cpu_seconds(web)
        mix = run_round(base, sessions, plan, args.seconds, callbacks)
        floor_plan = [[("livez", "/livez")]] * len(sessions)
        between = cpu_seconds(web)
        floor = run_round(base, sessions, floor_plan, args.seconds, callbacks)
        mix.cpu_s, floor.cpu_s = between - before, cpu_seconds(web) - between
        return report(mix, floor, args.seconds, args.sessions, args.dev)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        launcher.stop(sim)
        shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
