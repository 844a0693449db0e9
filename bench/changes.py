"""How fast a CSV import's dry run is, and how exactly its rows are applied under Graph faults.

    .venv/bin/python bench/changes.py [--rows 1000] [--users 3000] [--fault-rate 0.2]

Starts graphsim (`graphsim/launcher.py`), points a fresh Django (SQLite file in a temporary
directory) at it, fills the cache with one app-only sync, then writes a CSV of `--rows` new
grants (delegators and delegates kept under Teams' 25/25 limits) and times the dry run
(`delegation.changes.services.batch.dry_run`). Then it turns on `--fault-rate` injected Graph
faults (503, 504, dropped connections) and applies the batch through the real job
(`batch.run_batch`) with the delegated token of the sync account (`--sync-upn`), got from
graphsim's sign-in (auth code + PKCE with `login_hint`) and passed as `token_provider=`.

The last line: `changes rows=N dry_run_s=D limit_s=5 ratio=D/5 applied=A lost=L extra=E
graph_requests=G faults=F apply_s=W`, where A counts rows verified in Teams, L the wanted grants
Teams does not hold as asked, E grants Teams holds that were neither there before nor asked for
(or changed when not asked), G Graph requests graphsim answered during the apply and F the faults
it injected. Exits 1 unless applied = N and lost = extra = 0. No assertion on time: the figures
are for reading.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from graphsim import launcher  # noqa: E402  (bench/ is not a package: find the project first)

LIMIT_S = 5.0
REDIRECT_URI = "http://localhost:8765/bench/callback"  # graphsim allows any loopback URI
HEADER = (
    "Delegator UPN,Delegator object id,Delegate UPN,Delegate object id,Active,Make calls,"
    "Receive calls,Manage call and delegate settings,Pick up held calls,Join active calls"
)
ASKED = {"isActive": True, "makeCalls": True, "receiveCalls": True}
KEYS = ("makeCalls", "receiveCalls", "manageCallAndDelegateSettings", "pickUpHeldCalls",
        "joinActiveCalls")  # fmt: skip


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--users", type=int, default=3000)
    p.add_argument("--fault-rate", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--sync-upn", default="manager@contoso.test")
    return p.parse_args(argv)


def configure_django(info: dict, work: Path) -> None:
    os.environ.update(
        {
            **launcher.portal_env(info),
            "DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
            "PORTAL_RUN_DIR": str(work / "run"),
            "SYNC_USE_APP_ONLY": "true",
            "DELEGATION_CHANGE_RETRY_SECONDS": "0",
            "LOG_LEVEL": "ERROR",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def delegated_token(info: dict, upn: str) -> str:
    """The auth-code flow against graphsim, as a browser would run it: authorize with
    `login_hint` (graphsim redirects at once), then the code and the PKCE verifier for a token."""
    http = requests.Session()
    http.verify, http.trust_env = info["ca"], False
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    scope = "https://graph.microsoft.com/CallDelegation.ReadWrite offline_access openid"
    resp = http.get(
        f"{info['authority']}/oauth2/v2.0/authorize",
        params={
            "client_id": info["client_id"],
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": "bench",
            "login_hint": upn,
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=30,
    )
    if resp.status_code != 302:
        raise SystemExit(f"sign-in of {upn} refused: {resp.status_code} {resp.text[:200]}")
    code = parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]
    resp = http.post(
        f"{info['authority']}/oauth2/v2.0/token",
        data={
            "grant_type": "authorization_code",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "scope": scope,
        },
        timeout=30,
    )
    resp.raise_for_status()
    return resp.json()["access_token"]


def pick_new_grants(truth: dict, rows: int) -> list[tuple[dict, dict]]:
    """`rows` pairs with no grant yet, enabled people only, under 25 delegates per delegator
    and 25 delegators per delegate counting what Teams holds."""
    people = [u for u in truth["users"] if u["accountEnabled"] and u["userPrincipalName"]]
    held = {(g["delegator"], g["delegate"]) for g in truth["delegations"]}
    delegates_of = Counter(g["delegator"] for g in truth["delegations"])
    delegators_of = Counter(g["delegate"] for g in truth["delegations"])
    picked: list[tuple[dict, dict]] = []
    step = 1
    while len(picked) < rows and step < len(people):
        for i, boss in enumerate(people):
            other = people[(i + step * 7) % len(people)]
            pair = (boss["id"], other["id"])
            if boss["id"] == other["id"] or pair in held:
                continue
            if delegates_of[boss["id"]] >= 24 or delegators_of[other["id"]] >= 24:
                continue
            held.add(pair)
            delegates_of[boss["id"]] += 1
            delegators_of[other["id"]] += 1
            picked.append((boss, other))
            if len(picked) == rows:
                break
        step += 1
    if len(picked) < rows:
        raise SystemExit(f"only {len(picked)} new grants fit a tenant of {len(people)}")
    return picked


def csv_of(pairs) -> bytes:
    lines = [HEADER]
    for boss, other in pairs:
        lines.append(
            f"{boss['userPrincipalName']},,{other['userPrincipalName']},,yes,yes,yes,no,no,no"
        )
    return ("\n".join(lines) + "\n").encode()


def grants_of(truth: dict) -> dict[tuple[str, str], tuple]:
    return {
        (g["delegator"], g["delegate"]): (g["isActive"], *(g["allowedActions"][k] for k in KEYS))
        for g in truth["delegations"]
    }


def graph_requests(stats: dict) -> int:
    return sum(
        sum(by_status.values())
        for route, by_status in stats["routes"].items()
        if " /v1.0/" in route or " /beta/" in route
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-changes-"))
    try:
        proc, info = launcher.start(
            "--state-dir", str(work / "graphsim"), "--seed", str(args.seed),
            "--users", str(args.users), timeout=300,
        )  # fmt: skip
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from exc
    try:
        configure_django(info, work)
        from django.contrib.auth.models import Group

        from delegation.changes.models import ChangeRequest
        from delegation.changes.services import batch as batches
        from delegation.sync.service import sync_now
        from portal.models import User
        from portal.permissions import sync_role_groups

        sim = requests.Session()
        sim.verify, sim.trust_env = info["ca"], False

        def sim_call(method: str, path: str, body=None) -> dict:
            resp = sim.request(method, f"{info['sim']}/{path}", json=body, timeout=600)
            resp.raise_for_status()
            return resp.json()

        sim_call("POST", "faults", {"app_delegation_read": True})
        run = sync_now()
        if run.status != "succeeded":
            raise SystemExit(f"the first sync did not succeed: {run.error}")
        truth = sim_call("GET", "truth")
        before = grants_of(truth)
        pairs = pick_new_grants(truth, args.rows)
        helpdesk = User.objects.create(
            username=f"bench-helpdesk@{info['tenant']}",
            tenant_id=info["tenant"],
            object_id=str(uuid.uuid4()),
            upn="bench-helpdesk@contoso.test",
        )
        sync_role_groups()
        helpdesk.groups.add(Group.objects.get(name="helpdesk"))
        upload = csv_of(pairs)

        started = time.perf_counter()
        batch = batches.dry_run(helpdesk, io.BytesIO(upload), file_name="bench.csv")
        dry_run_s = time.perf_counter() - started
        if not batch.can_apply or batch.adds != args.rows:
            raise SystemExit(
                f"dry run: adds={batch.adds} refused={batch.refused_rows} status={batch.status}"
            )
        batches.apply_batch(helpdesk, batch.pk)  # planned -> queued (its task is not awaited)

        token = delegated_token(info, args.sync_upn)
        sim_call("POST", "reset", {})  # counters from zero
        sim_call(
            "POST", "faults", {"fault_rate": args.fault_rate, "fault_kinds": ["503", "504", "drop"]}
        )
        started = time.perf_counter()
        batch = batches.run_batch(batch.pk, token_provider=lambda *a, **k: token)
        apply_s = time.perf_counter() - started
        sim_call("POST", "faults", {"fault_rate": 0.0})
        stats = sim_call("GET", "stats")

        after = grants_of(sim_call("GET", "truth"))
        wanted = {(b["id"], o["id"]): (True, True, True, False, False, False) for b, o in pairs}
        lost = sum(after.get(pair) != grant for pair, grant in wanted.items())
        expected = {**before, **wanted}
        extra = sum(pair not in expected or expected[pair] != g for pair, g in after.items())
        verified = ChangeRequest.objects.filter(batch=batch, status="verified").count()
        print(
            f"batch #{batch.pk} {batch.status} applied={batch.applied} failed={batch.failed} "
            f"progress={batch.progress_done}/{batch.progress_total} verified={verified}"
            + (f" error={batch.error!r}" if batch.error else "")
        )
        print(
            f"changes rows={args.rows} dry_run_s={dry_run_s:.2f} limit_s={LIMIT_S:.0f} "
            f"ratio={dry_run_s / LIMIT_S:.2f} applied={verified} lost={lost} extra={extra} "
            f"graph_requests={graph_requests(stats)} faults={stats.get('faults_total', 0)} "
            f"fault_rate={args.fault_rate} apply_s={apply_s:.1f}"
        )
        return 0 if verified == args.rows and lost == 0 and extra == 0 else 1
    finally:
        launcher.stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
