"""How the dashboards scale: render every page for a small and a large tenant and compare.

    .venv/bin/python bench/pages.py [--repeat 5] [--large-people 100000 --large-grants 300000]
        [--database-url postgres://user:password@host:port/db]

Each tenant is seeded through the real models (bulk_create) into a database of its own: a
temporary SQLite file, or, with --database-url, a new database on that PostgreSQL server
(created and dropped here; vacuumed and analysed after seeding, as autovacuum would). Every
page is rendered through Django's test client, signed in as an admin: once cold (fills the
dashboard cache), then `--repeat` rounds warm that alternate the two databases, so both meet the
same machine load; the fastest warm time counts (medians are shown too).
Queries are counted per page. The last line is
`pages small_ms=A large_ms=B ratio=B/A max_queries=Q same_queries=yes|no db=sqlite|postgresql`,
where A and B are the sums of the pages' times and same_queries says whether every page ran as
many queries for 100 times the people (a fixed count); the lines above give each page's own
ratio and count (small/large where they differ).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import database  # noqa: E402  (bench/ is not a package: find the project first)

FIRST = (  # noqa: SIM905 (a list literal would take a line per name)
    "Maria Mark Martin Marco Anna Andrew Alice Alex Ben Bella Carla Chris David Diana Emma "
    "Eric Fatima Felix Grace George Hana Henry Ines Ivan Julia James Kate Karl Laura Leo "
    "Mona Mike Nina Noah Olga Oscar Paula Peter Rosa Ryan Sara Sam Tina Tom Uma Victor Wendy "
    "Will Yara Zoe"
).split()
LAST = (  # noqa: SIM905 (a list literal would take a line per name)
    "Smith Jones Garcia Miller Davis Martinez Lopez Wilson Anderson Thomas Taylor Moore "
    "Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson "
    "Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker "
    "Hall Rivera"
).split()
DEPARTMENTS = [f"Department {i:02d}" for i in range(40)]
OFFSETS = (1, 17, 389)  # each person delegates to three others: unique pairs, no self-grants
SEARCH_TERM = "Mar"


def grant_snapshot(grant) -> dict:
    """A change record's before/after as the sync writes it (sync/apply.py): the grant's
    columns by model field name, createdDateTime as ISO text in UTC."""
    from portal import allowed_actions

    created = grant.created_in_teams
    return {
        "is_active": grant.is_active,
        "created_in_teams": created.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z",
        **{field: getattr(grant, field) for field in allowed_actions.FIELDS},
    }


def seed(people: int, grants: int) -> dict:
    """Fill the database; return the ids the pages need."""
    from django.utils import timezone

    from delegation.models import Delegation, DelegationChange, DirectoryUser, SyncRun

    rng = random.Random(42)
    now = timezone.now()
    users = []
    for i in range(people):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        name = f"{first} {last} {i}"
        upn = f"{first}.{last}.{i}@contoso.test".lower()
        users.append(
            DirectoryUser(
                object_id=f"{i:08d}-0000-4000-8000-000000000000",
                display_name=name,
                upn=upn,
                mail=upn,
                department=DEPARTMENTS[i % len(DEPARTMENTS)],
                job_title="Engineer",
                account_enabled=rng.random() > 0.02,
                in_directory=rng.random() > 0.005,
                first_seen=now - timedelta(days=400),
                updated_at=now,
            )
        )
    DirectoryUser.objects.bulk_create(users, batch_size=5000)
    ids = list(DirectoryUser.objects.order_by("id").values_list("id", flat=True))

    pairs = []
    for i in range(people):
        # Every thousandth person is at the Teams limit, so "near the limit" has rows.
        offsets = range(1, 25) if i % 1000 == 0 else OFFSETS
        pairs += [(ids[i], ids[(i + off) % people]) for off in offsets]
    pairs = list(dict.fromkeys(pairs))[:grants]
    rows = []
    for delegator, delegate in pairs:
        since = now - timedelta(days=rng.randint(0, 179), minutes=rng.randint(0, 1440))
        rows.append(
            Delegation(
                delegator_id=delegator,
                delegate_id=delegate,
                is_active=rng.random() > 0.05,
                created_in_teams=since,
                make_calls=rng.random() < 0.7,
                receive_calls=rng.random() < 0.8,
                manage_settings=rng.random() < 0.05,
                pick_up_held_calls=rng.random() < 0.2,
                join_active_calls=rng.random() < 0.03,
                first_seen=since,
                last_changed=since,
            )
        )
    Delegation.objects.bulk_create(rows, batch_size=5000)

    run_rows = []
    for n in range(200):
        started = now - timedelta(hours=200 - n)
        run_rows.append(
            SyncRun(
                trigger=SyncRun.Trigger.SCHEDULE,
                status=SyncRun.Status.SUCCEEDED,
                started_at=started,
                finished_at=started + timedelta(minutes=9),
                progress_done=people,
                progress_total=people,
                people=people,
                delegations_added=len(rows) if n == 0 else rng.randint(0, 50),
                graph_requests=people // 20,
            )
        )
    runs = SyncRun.objects.bulk_create(run_rows)
    first_run = SyncRun.objects.order_by("id").first()
    changes = [
        DelegationChange(
            run_id=first_run.id,
            at=g.first_seen,
            delegator_id=g.delegator_id,
            delegate_id=g.delegate_id,
            kind=DelegationChange.Kind.ADDED,
            after=grant_snapshot(g),
        )
        for g in rows
    ]
    DelegationChange.objects.bulk_create(changes, batch_size=5000)
    running = SyncRun.objects.create(
        trigger=SyncRun.Trigger.MANUAL,
        status=SyncRun.Status.RUNNING,
        started_at=now,
        progress_done=people // 3,
        progress_total=people,
    )
    return {
        "person": users[0].object_id,  # at the limit: 24 delegates, and history
        "me": users[500].object_id,
        "run": running.id,
        "runs": len(runs) + 1,
        "people": people,
        "grants": len(rows),
    }


def pages(ids: dict) -> list[tuple[str, str]]:
    from django.urls import reverse

    return [
        ("mine", reverse("delegation:mine")),
        ("people", reverse("delegation:people") + f"?q={SEARCH_TERM}"),
        ("people_search", reverse("delegation:people_search") + f"?q={SEARCH_TERM}"),
        ("person", reverse("delegation:person", args=[ids["person"]])),
        ("organisation", reverse("delegation:organisation")),
        (
            "organisation_filtered",
            reverse("delegation:organisation") + "?department=Department+07&action=make_calls",
        ),
        ("reviews", reverse("delegation:reviews") + "?risk=manage_outside"),
        ("sync_list", reverse("delegation:sync_list")),
        ("sync_detail", reverse("delegation:sync_detail", args=[ids["run"]])),
        ("sync_progress", reverse("delegation:sync_progress", args=[ids["run"]])),
    ]


def use_database(path: str) -> None:
    """Point the default connection at another database (the next query opens it): a SQLite
    file, or a database's name on the same PostgreSQL server."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = path
    connection.ensure_connection()


def prepare(path: str, people: int, grants: int) -> dict:
    """Migrate and seed one tenant's database; sign an admin in to it."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from portal.models import User

    use_database(path)
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    ids = seed(people, grants)
    seed_s = time.perf_counter() - t0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    admin = User.objects.create(username="bench-admin", object_id=ids["me"], tenant_id="t")
    admin.groups.add(Group.objects.get(name="admin"))
    client = Client()
    client.force_login(admin)
    return {"path": path, "ids": ids, "client": client, "seed_s": seed_s}


def render(tenant: dict, url: str) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()  # DEBUG keeps only the last 9,000: start each page afresh
    with CaptureQueriesContext(connection) as queries:
        t = time.perf_counter()
        resp = tenant["client"].get(url)
        ms = (time.perf_counter() - t) * 1000
    assert resp.status_code == 200, (url, resp.status_code)
    return ms, len(queries)


def measure(tenants: dict, repeat: int) -> dict:
    """Each page of each tenant: once cold, then `repeat` rounds that alternate the tenants,
    so a busy moment of the machine slows both alike."""
    results = {}
    names = [name for name, _ in pages(tenants["small"]["ids"])]
    for label, tenant in tenants.items():
        use_database(tenant["path"])
        tenant["urls"] = dict(pages(tenant["ids"]))
        for name in names:
            results[(label, name, "cold")] = render(tenant, tenant["urls"][name])[0]
    times = {(label, name): [] for label in tenants for name in names}
    queries = {}
    for _ in range(repeat):
        for name in names:
            for label, tenant in tenants.items():
                use_database(tenant["path"])
                ms, count = render(tenant, tenant["urls"][name])
                times[(label, name)].append(ms)
                queries[(label, name)] = count
    report = {}
    for name in names:
        report[name] = {
            label: {
                # The fastest warm render: the least disturbed by other work (median shown too).
                "ms": min(times[(label, name)]),
                "median_ms": statistics.median(times[(label, name)]),
                "cold_ms": results[(label, name, "cold")],
                "queries": queries[(label, name)],
            }
            for label in tenants
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--small-people", type=int, default=1_000)
    parser.add_argument("--large-people", type=int, default=100_000)
    parser.add_argument("--large-grants", type=int, default=300_000)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite files)")
    args = parser.parse_args()

    with database.django_on(args.database_url, "pages_small", "pages_large") as (small, large):
        tenants = {
            "small": prepare(small.name, args.small_people, args.small_people * 3),
            "large": prepare(large.name, args.large_people, args.large_grants),
        }
        report = measure(tenants, args.repeat)

    for label, tenant in tenants.items():
        ids = tenant["ids"]
        print(
            f"{label}: {ids['people']:,} people, {ids['grants']:,} grants, "
            f"seeded in {tenant['seed_s']:.1f} s"
        )
    print(
        f"{'page':22} {'small_ms':>9} {'large_ms':>9} {'ratio':>6} {'queries':>7} "
        f"{'median_s':>9} {'median_l':>9} {'cold_l':>8}"
    )
    for name, row in report.items():
        s, g = row["small"], row["large"]
        # One figure when both tenants ran the same number of queries, else small/large.
        counts = f"{s['queries']}"
        if s["queries"] != g["queries"]:
            counts += f"/{g['queries']}"
        print(
            f"{name:22} {s['ms']:9.1f} {g['ms']:9.1f} {g['ms'] / s['ms']:6.2f} "
            f"{counts:>7} {s['median_ms']:9.1f} {g['median_ms']:9.1f} "
            f"{g['cold_ms']:8.1f}"
        )
    a = sum(row["small"]["ms"] for row in report.values())
    b = sum(row["large"]["ms"] for row in report.values())
    q = max(max(row["small"]["queries"], row["large"]["queries"]) for row in report.values())
    fixed = all(row["small"]["queries"] == row["large"]["queries"] for row in report.values())
    print(
        f"pages small_ms={a:.1f} large_ms={b:.1f} ratio={b / a:.2f} max_queries={q} "
        f"same_queries={'yes' if fixed else 'no'} db={database.vendor(args.database_url)}"
    )


if __name__ == "__main__":
    main()
