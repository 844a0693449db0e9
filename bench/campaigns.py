"""How fast a review campaign starts over many grants, and what a reviewer's queue page costs.

    .venv/bin/python bench/campaigns.py [--grants 10000] [--small 100] [--database-url URL]

A fresh database (SQLite file, or a new database on the PostgreSQL server `--database-url`
names), migrated; `--grants` grants bulk-created (delegators of about 20 delegates each, in six
departments, managers set, a tenth with "manage settings" across departments); then:
- `start_s`: `reviews.services.start.start_campaign` over all of them (scope "everything",
  reviewers the delegators' managers), the time from call to return;
- queries of My reviews' first page (50 rows, with each row's risks explained) for a reviewer
  with `--small` items, then for one with all the others.

The last line: `campaigns grants=N start_s=S limit_s=10 ratio=S/10 queries_small=A
queries_large=B query_ratio=B/A`. No assertion on time: the figures are for reading (a test
asserts the equal query counts).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import database  # noqa: E402  (bench/ is not a package: find the project first)

LIMIT_S = 10.0
DEPARTMENTS = ("Sales", "Finance", "Legal", "Support", "Marketing", "IT")


def fill(grants: int) -> None:
    """People and grants, bulk-created: `grants` / 20 delegators (20 delegates each)."""
    from django.utils import timezone

    from delegation.models import Delegation, DirectoryUser

    now = timezone.now()

    def person(name: str, department: str, manager: str | None = None) -> DirectoryUser:
        oid = str(uuid.uuid4())
        return DirectoryUser(
            object_id=oid,
            display_name=name,
            upn=f"{name.lower().replace(' ', '.')}@bench.test",
            mail=f"{name.lower().replace(' ', '.')}@bench.test",
            department=department,
            manager_id=manager,
            first_seen=now,
            updated_at=now,
        )

    heads = [person(f"Head {d}", d) for d in DEPARTMENTS]
    DirectoryUser.objects.bulk_create(heads)
    delegators = [
        person(f"Delegator {i}", DEPARTMENTS[i % 6], heads[i % 6].object_id)
        for i in range(-(-grants // 20))
    ]
    delegates = [person(f"Delegate {i}", DEPARTMENTS[i % 6]) for i in range(grants // 4 + 20)]
    DirectoryUser.objects.bulk_create(delegators + delegates, batch_size=2000)
    rows = []
    for n in range(grants):
        a = delegators[n // 20]
        b = delegates[(n * 7) % len(delegates)]
        rows.append(
            Delegation(
                delegator=a,
                delegate=b,
                make_calls=True,
                receive_calls=True,
                manage_settings=n % 10 == 0,
                is_active=n % 50 != 0,
                first_seen=now,
                last_changed=now,
            )
        )
    Delegation.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)


def start(actor, named=None, name="Bench"):
    from django.utils import timezone

    from reviews.services.start import start_campaign

    return start_campaign(
        actor=actor,
        name=name,
        scope="all" if named is None else "department",
        scope_value="" if named is None else "Sales",
        reviewers="manager" if named is None else "named",
        named=named or [],
        due_on=timezone.localdate() + timedelta(days=14),
        when_unreviewed="keep",
    )


def queue_queries(user) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        resp = client.get(reverse("reviews:queue"))
    assert resp.status_code == 200, resp.status_code
    assert len(resp.context["page"].rows) == 50, len(resp.context["page"].rows)
    return len(captured)


def measure(grants: int, small: int) -> dict:
    from delegation.models import Delegation, DirectoryUser
    from portal.models import User
    from reviews.models import CampaignItem

    fill(grants)
    head = DirectoryUser.objects.get(upn="head.sales@bench.test")
    admin = User.objects.create(username="bench-admin", is_superuser=True)
    began = time.perf_counter()
    big = start(admin)
    start_s = time.perf_counter() - began
    assert big.items_total == Delegation.objects.count(), big.items_total
    # Two queues: the head of Sales reviews every item but the first `small`, which go to the
    # head of IT (neither holds nor gave any of these grants).
    big_user = User.objects.create(username="head-sales", object_id=head.object_id)
    other = DirectoryUser.objects.get(upn="head.it@bench.test")
    small_user = User.objects.create(username="head-it", object_id=other.object_id)
    CampaignItem.objects.update(reviewer=head)
    moved = CampaignItem.objects.filter(reviewer=head).order_by("id").values_list("id", flat=True)
    CampaignItem.objects.filter(id__in=list(moved[:small])).update(reviewer=other)
    queries_small = queue_queries(small_user)
    queries_large = queue_queries(big_user)
    return {
        "grants": big.items_total,
        "start_s": start_s,
        "queries_small": queries_small,
        "queries_large": queries_large,
        "large_items": CampaignItem.objects.filter(reviewer=head).count(),
        "small_items": small,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: a SQLite file)")
    args = parser.parse_args()
    with database.django_on(args.database_url, "campaigns"):
        from django.core.management import call_command
        from django.test.utils import setup_test_environment

        setup_test_environment()  # the test client's response.context
        call_command("migrate", verbosity=0)
        r = measure(args.grants, args.small)
    print(
        f"queue page: {r['queries_small']} queries with {r['small_items']} items, "
        f"{r['queries_large']} with {r['large_items']} items ({database.vendor(args.database_url)})"
    )
    print(
        f"campaigns grants={r['grants']} start_s={r['start_s']:.2f} limit_s={LIMIT_S:.0f} "
        f"ratio={r['start_s'] / LIMIT_S:.3f} queries_small={r['queries_small']} "
        f"queries_large={r['queries_large']} "
        f"query_ratio={r['queries_large'] / r['queries_small']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
