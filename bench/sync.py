"""How fast, how lean and how exact the delegation sync is, against a graphsim of N people.

    .venv/bin/python bench/sync.py --users N [--latency-ms L] [--throttle-rps R] [--fault-rate P]

Starts `python -m graphsim --port 0 ...` with those flags, points a fresh Django (SQLite file in
a temporary directory, app-only tokens) at it, runs one full sync through the real service
(`delegation.sync.service.sync_now`), then compares the cache with graphsim's `/_sim/truth`.

The last line: `sync users=N requests=X minimum=M wall_s=W limit_s=T ratio=W/T peak_rss_mb=K
lost=0 extra=0`, where X counts Graph requests as graphsim saw them (identity requests excluded),
M = ceil(N/999) user pages + ceil(N/20) batches, T = max(N/R, batches x L / in-flight batches),
K is this process's peak RSS when the sync ends (before the comparison loads the truth), and
lost/extra count people and grants missing from or wrongly present in the cache. Exits 1 unless
lost = extra = 0 and the run succeeded.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from graphsim import launcher  # noqa: E402  (bench/ is not a package: find the project first)

ACTIONS = (
    ("make_calls", "makeCalls"),
    ("receive_calls", "receiveCalls"),
    ("manage_settings", "manageCallAndDelegateSettings"),
    ("pick_up_held_calls", "pickUpHeldCalls"),
    ("join_active_calls", "joinActiveCalls"),
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--throttle-rps", type=float, default=0.0)
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--in-flight", type=int, default=None, help="SYNC_BATCHES_IN_FLIGHT override")
    return p.parse_args(argv)


def start_graphsim(args, state_dir: Path):
    try:
        return launcher.start(
            "--state-dir",
            str(state_dir),
            "--seed",
            str(args.seed),
            "--users",
            str(args.users),
            "--latency-ms",
            str(args.latency_ms),
            "--throttle-rps",
            str(args.throttle_rps),
            "--fault-rate",
            str(args.fault_rate),
            timeout=300,
        )
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from exc


def configure_django(info: dict, work: Path, in_flight: int | None) -> None:
    env = {
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "PORTAL_RUN_DIR": str(work / "run"),
        "MS_TENANT_ID": info["tenant"],
        "MS_CLIENT_ID": info["client_id"],
        "MS_CLIENT_SECRET": info["client_secret"],
        "MS_AUTHORITY": info["authority"],
        "MS_INSTANCE_DISCOVERY": "false",
        "GRAPH_BASE_URL": info["graph"],
        "GRAPH_CA_BUNDLE": info["ca"],
        "SYNC_USE_APP_ONLY": "true",
        "LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    if in_flight:
        env["SYNC_BATCHES_IN_FLIGHT"] = str(in_flight)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def graph_requests(stats: dict) -> int:
    """Graph requests only: the identity endpoints (discovery, token) are not Graph's."""
    return sum(
        sum(by_status.values())
        for route, by_status in stats["routes"].items()
        if " /v1.0/" in route or " /beta/" in route
    )


def compare(truth: dict) -> tuple[int, int]:
    """(lost, extra): people and grants of the truth missing from the cache, and the reverse."""
    from delegation.models import Delegation, DirectoryUser

    want_people = {
        (
            u["id"],
            u["displayName"] or "",
            u["userPrincipalName"] or "",
            u["mail"] or "",
            u["department"] or "",
            u["jobTitle"] or "",
            u["accountEnabled"],
        )
        for u in truth["users"]
    }
    have_people = set(
        DirectoryUser.objects.filter(in_directory=True, removed_at__isnull=True).values_list(
            "object_id", "display_name", "upn", "mail", "department", "job_title", "account_enabled"
        )
    )
    want_grants = {
        (
            g["delegator"],
            g["delegate"],
            g["isActive"],
            g["createdDateTime"],
            *(g["allowedActions"][key] for _, key in ACTIONS),
        )
        for g in truth["delegations"]
    }
    rows = Delegation.objects.values_list(
        "delegator__object_id",
        "delegate__object_id",
        "is_active",
        "created_in_teams",
        *(field for field, _ in ACTIONS),
    )
    have_grants = {
        (a, b, active, created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else None, *acts)
        for a, b, active, created, *acts in rows.iterator(chunk_size=10000)
    }
    lost = len(want_people - have_people) + len(want_grants - have_grants)
    extra = len(have_people - want_people) + len(have_grants - want_grants)
    return lost, extra


def main(argv=None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    proc, info = start_graphsim(args, work / "graphsim")
    try:
        configure_django(info, work, args.in_flight)
        from django.conf import settings

        from delegation.models import SyncRun
        from delegation.sync.service import sync_now

        sim = requests.Session()
        sim.verify = info["ca"]
        sim.trust_env = False
        sim.post(f"{info['sim']}/faults", json={"app_delegation_read": True}, timeout=30)
        sim.post(f"{info['sim']}/reset", json={}, timeout=30)  # counters from zero

        started = time.monotonic()
        run = sync_now()
        wall = time.monotonic() - started
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        stats = sim.get(f"{info['sim']}/stats", timeout=60).json()
        truth = sim.get(f"{info['sim']}/truth", timeout=600).json()
        people = len(truth["users"])
        batches = math.ceil(people / 20)
        minimum = math.ceil(people / 999) + batches
        in_flight = settings.SYNC_BATCHES_IN_FLIGHT
        limit = max(
            people / args.throttle_rps if args.throttle_rps else 0.0,
            batches * args.latency_ms / 1000 / in_flight,
        )
        lost, extra = compare(truth)
        print(
            f"run #{run.pk} {run.status} people={run.people} grants={len(truth['delegations'])} "
            f"added={run.delegations_added} client_requests={run.graph_requests} "
            f"throttled={run.throttled} retries={run.retries} failures={run.failures} "
            f"in_flight={in_flight} graphsim_faults={stats.get('faults_total', 0)}"
            + (f" error={run.error!r}" if run.error else "")
        )
        ratio = wall / limit if limit else float("nan")
        print(
            f"sync users={people} requests={graph_requests(stats)} minimum={minimum} "
            f"wall_s={wall:.2f} limit_s={limit:.2f} ratio={ratio:.2f} "
            f"peak_rss_mb={peak_rss_mb:.0f} lost={lost} extra={extra}"
        )
        exact = lost == 0 and extra == 0 and run.status == SyncRun.Status.SUCCEEDED
        return 0 if exact else 1
    finally:
        launcher.stop(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
