"""How fast, how lean and how exact the delegation sync is, against a graphsim of N people.

    .venv/bin/python bench/sync.py --users N [--voice-share S] [--latency-ms L]
        [--throttle-rps R] [--fault-rate F] [--in-flight K] [--database-url URL]

Starts `python -m graphsim --port 0 ...` with those flags (S of the people have Teams Phone),
points a fresh Django at it (a SQLite file in a temporary directory, or a new database on the
PostgreSQL server of --database-url; app-only tokens) and runs three syncs through the real
service (`delegation.sync.service.sync_now`), each in this process:

1. the first sync: a full sweep of everyone's delegates (the cache knows no delegator yet);
   then the manager refresh it queued (`delegation.sync.managers.refresh_managers`, as a worker
   runs it: ceil(N/100) requests), measured on its own line and counted in no run's figures;
2. after a few changes to the tenant (grants added, changed, removed; Teams Phone removed from
   some delegators) and with the delta link forgotten (as after the upgrade that added the
   licences), a run that lists everyone and reads the delegates of V' = people with Teams Phone
   and current delegators: the run measured;
3. the same again with nothing changed (a delta): it must write no row.

The last line: `sync users=N voice_share=S requests=X minimum=M sweep_requests=W fewer=W/X
wall_s=T limit_s=F ratio=T/F peak_rss_mb=K lost=0 extra=0 unchanged_writes=0`, where X counts
run 2's Graph requests as graphsim saw them (identity requests excluded), M = ceil(N/999)
listing pages + ceil(V'/20) batches + 1 delta link, W is run 1's (the full sweep of the same
tenant), F = max(V'/R, batches x L / in-flight batches) is run 2's time floor, K is this
process's peak RSS during run 2 (VmHWM, reset before it), lost/extra count people and grants
missing from or wrongly present in the cache after run 2 (the tests' comparison), and the last
counts run 3's writes to the cache's tables and its staged rows (statements, as
tests/support/sync.py counts them; run 3's line above also says how many statements it ran
in all). Run 1's figures are printed above it. Exits 1 unless
lost = extra = 0, unchanged_writes = 0 and the runs succeeded.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import database  # noqa: E402  (bench/ is not a package: find the project first)
from graphsim import launcher  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--voice-share", type=float, default=0.25)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--throttle-rps", type=float, default=0.0)
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--in-flight", type=int, default=None, help="SYNC_BATCHES_IN_FLIGHT override")
    p.add_argument("--database-url", default=None, help="a PostgreSQL server (default: SQLite)")
    return p.parse_args(argv)


def start_graphsim(args, state_dir: Path):
    flags = {
        "--state-dir": state_dir,
        "--seed": args.seed,
        "--users": args.users,
        "--voice-share": args.voice_share,
        "--latency-ms": args.latency_ms,
        "--throttle-rps": args.throttle_rps,
        "--fault-rate": args.fault_rate,
    }
    try:
        return launcher.start(*(str(x) for pair in flags.items() for x in pair), timeout=300)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from exc


def configure_django(info: dict, work: Path, db: database.Database, in_flight) -> None:
    env = {
        **launcher.portal_env(info),
        "DEBUG": "true",
        "DATABASE_URL": db.url,
        "PORTAL_RUN_DIR": str(work / "run"),
        "SYNC_USE_APP_ONLY": "true",
        "LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    if in_flight:
        env["SYNC_BATCHES_IN_FLIGHT"] = str(in_flight)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset_peak_rss() -> None:
    """Start VmHWM afresh (Linux: writing 5 to clear_refs); elsewhere the peak stays global."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def graph_requests(stats: dict) -> int:
    """Graph requests only: the identity endpoints (discovery, token) are not Graph's."""
    return sum(
        sum(by_status.values())
        for route, by_status in stats["routes"].items()
        if " /v1.0/" in route or " /beta/" in route
    )


def change_the_tenant(sim, seed: int) -> dict:
    """A few changes that leave V' as it is: grants changed and removed among delegators with
    Teams Phone, grants added by people with Teams Phone, Teams Phone removed from delegators."""
    from delegation.models import Delegation, DirectoryUser
    from tests.support.sync import TEAMS_PHONE

    rng = random.Random(seed)
    voice = DirectoryUser.objects.filter(voice_enabled=True, in_directory=True)
    grants = list(
        Delegation.objects.filter(delegator__in=voice)
        .order_by("id")
        .values_list("delegator__object_id", "delegate__object_id", "join_active_calls")[:3000]
    )
    picked = rng.sample(grants, min(len(grants), 30))
    delegators = {a for a, _, _ in grants}
    others = list(voice.exclude(object_id__in=delegators).values_list("object_id", flat=True)[:99])
    people = list(DirectoryUser.objects.values_list("object_id", flat=True)[:500])
    plans_of = {oid: sim.get(f"users/{oid}")["assignedPlans"] for oid, _, _ in picked[20:25]}
    change = {
        "delegations": {
            "set": [
                {"delegator": a, "delegate": b, "allowedActions": {"joinActiveCalls": not j}}
                for a, b, j in picked[:10]
            ]
            + [
                {"delegator": a, "delegate": rng.choice([p for p in people if p != a]), "force": 1}
                for a in others[:10]
            ],
            "remove": [{"delegator": a, "delegate": b} for a, b, _ in picked[10:20]],
        },
        "users": {
            "update": [
                {
                    "id": oid,
                    "assignedPlans": [
                        {**plan, "capabilityStatus": "Deleted"}
                        if plan["servicePlanId"] == TEAMS_PHONE
                        else plan
                        for plan in plans
                    ],
                }
                for oid, plans in plans_of.items()
            ]
        },
    }
    return sim.post("tenant", change)


class Sim:
    def __init__(self, info: dict):
        self.base = info["sim"]
        self.http = requests.Session()
        self.http.verify = info["ca"]
        self.http.trust_env = False

    def get(self, path: str):
        return self.http.get(f"{self.base}/{path}", timeout=600).json()

    def post(self, path: str, body: dict):
        answer = self.http.post(f"{self.base}/{path}", json=body, timeout=60)
        answer.raise_for_status()
        return answer.json()


def timed_run(sim: Sim, **kwargs):
    """One sync: (run, its Graph requests, wall seconds, peak RSS MB during it)."""
    from delegation.sync.service import sync_now

    sim.post("reset", {})  # counters from zero
    reset_peak_rss()
    started = time.monotonic()
    run = sync_now(**kwargs)
    wall = time.monotonic() - started
    return run, graph_requests(sim.get("stats")), wall, peak_rss_mb()


def refresh_managers_apart(sim: Sim) -> None:
    """The manager refresh the first sync queued, run here as a worker would run it after the
    sync; its requests are its own, printed on their own line (contract: People, managers)."""
    from delegation.sync.managers import refresh_managers

    sim.post("reset", {})
    reset_peak_rss()
    started = time.monotonic()
    figures = refresh_managers()
    wall = time.monotonic() - started
    print(
        f"managers (apart from the runs) requests={graph_requests(sim.get('stats'))} "
        f"people={figures['people']} changed={figures['changed']} wall_s={wall:.2f} "
        f"peak_rss_mb={peak_rss_mb():.0f}"
        + (f" error={figures['error']!r}" if "error" in figures else "")
    )


def cache_writes(run_sync) -> tuple:
    """Run a sync, counting its writes to the cache's tables and the rows it staged (as the tests
    count them: tests/support/sync.py), and every statement it ran. Every statement is kept,
    COPY too (sync/sql.py logs it): Django's debug log keeps only the last 9,000, so it is
    swapped for an unbounded one."""
    from collections import deque

    from django.db import connection

    from tests.support.sync import cache_writes as writes_of
    from tests.support.sync import staged_writes

    kept, connection.queries_log = connection.queries_log, deque()
    connection.force_debug_cursor = True
    try:
        run = run_sync()
        seen = list(connection.queries_log)
    finally:
        connection.queries_log = kept
        connection.force_debug_cursor = False
    return run, len(writes_of(seen)) + len(staged_writes(seen)), len(seen)


def main(argv=None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    db = database.fresh(args.database_url, work, "sync")
    proc, info = start_graphsim(args, work / "graphsim")
    try:
        configure_django(info, work, db, args.in_flight)
        return measure(args, Sim(info))
    finally:
        from django.db import connections

        connections.close_all()
        launcher.stop(proc)
        db.drop()
        shutil.rmtree(work, ignore_errors=True)


def measure(args, sim: Sim) -> int:
    from django.conf import settings

    from delegation.models import Delegation, SyncCursor, SyncRun
    from delegation.sync.service import sync_now
    from tests.support.sync import has_teams_phone, mirror_differences

    sim.post("faults", {"app_delegation_read": True})
    in_flight = settings.SYNC_BATCHES_IN_FLIGHT
    people = args.users

    def floor(targets: int) -> float:
        batches = math.ceil(targets / 20)
        by_rate = targets / args.throttle_rps if args.throttle_rps else 0.0
        return max(by_rate, batches * args.latency_ms / 1000 / in_flight)

    first, sweep_requests, wall_1, rss_1 = timed_run(sim)
    floor_1 = floor(first.progress_total)
    print(
        f"run 1 (first, full sweep) #{first.pk} {first.status} sweep={first.sweep} "
        f"people={first.people} added={first.delegations_added} requests={sweep_requests} "
        f"wall_s={wall_1:.2f} limit_s={floor_1:.2f} ratio={wall_1 / floor_1 if floor_1 else 0:.2f} "
        f"peak_rss_mb={rss_1:.0f} retries={first.retries} failures={first.failures}"
    )
    refresh_managers_apart(sim)
    delegators = set(
        Delegation.objects.values_list("delegator__object_id", flat=True).distinct().iterator()
    )
    changed = change_the_tenant(sim, args.seed)
    SyncCursor.objects.filter(name="users-delta").delete()  # as after the upgrade: list everyone

    run, requests_2, wall, rss = timed_run(sim)
    truth = sim.get("truth")
    voice = {u["id"] for u in truth["users"] if has_teams_phone(u)}
    targets = len(voice | delegators | {g["delegator"] for g in truth["delegations"]})
    minimum = math.ceil(len(truth["users"]) / 999) + math.ceil(targets / 20) + 1
    limit = floor(targets)
    lost, extra = mirror_differences(truth)  # the tests' comparison (tests/support/sync.py)
    del truth
    again, writes, statements = cache_writes(lambda: sync_now())
    print(
        f"run 2 #{run.pk} {run.status} sweep={run.sweep} mode={run.users_mode} "
        f"read={run.progress_total} added={run.delegations_added} "
        f"changed={run.delegations_changed} removed={run.delegations_removed} "
        f"unlicensed_delegators={run.unlicensed_delegators} client_requests={run.graph_requests} "
        f"retries={run.retries} failures={run.failures} in_flight={in_flight} "
        f"tenant_change={ {k: v for k, v in changed.items() if k != 'users_added'} }"
        + (f" error={run.error!r}" if run.error else "")
    )
    print(
        f"run 3 (nothing changed) #{again.pk} {again.status} mode={again.users_mode} "
        f"statements={statements}"
    )
    ratio = wall / limit if limit else float("nan")
    print(
        f"sync users={people} voice_share={args.voice_share} requests={requests_2} "
        f"minimum={minimum} sweep_requests={sweep_requests} "
        f"fewer={sweep_requests / requests_2:.2f} wall_s={wall:.2f} limit_s={limit:.2f} "
        f"ratio={ratio:.2f} peak_rss_mb={rss:.0f} lost={lost} extra={extra} "
        f"unchanged_writes={writes} db={database.vendor(args.database_url)}"
    )
    ok = (first.status, run.status, again.status) == (SyncRun.Status.SUCCEEDED,) * 3
    return 0 if ok and lost == extra == writes == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
