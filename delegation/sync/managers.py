"""Everyone's manager, read by their own listing and written where the cache differs
(contract: People, managers).

The sync's full listing does not expand the manager (that caps Graph's pages at 100 people, ten
times the requests), so it leaves the cache's managers as they are, and users/delta keeps them
current between full listings (manager@delta). This job is where managers come from otherwise:
after a sync that listed everyone (the first sync, and whenever the delta link was lost: the
listing cannot see what changed meanwhile), and weekly as a safety net (beat). It costs
ceil(N/100) requests, none of them counted in a sync run's.

Memory holds a page and a chunk of people, whatever the tenant's size; each chunk is compared
with the cache and only the rows that differ are written, in its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import connection, transaction
from django.utils import timezone

from delegation.models import DirectoryUser, SyncCursor
from delegation.sync import sql
from portal import audit
from portal.graph import tokens
from portal.graph.client import GraphClient
from portal.graph.directory import PageStats, list_managers
from portal.graph.errors import GraphError, TokenError
from portal.queue import enqueue

TASK = "delegation.tasks.refresh_managers"
# When the last refresh that read everyone began (ISO time): the pages may tell it.
REFRESHED_CURSOR = "managers-refreshed"


def queue_refresh() -> None:
    """Queue the refresh once the current transaction commits (a sync that listed everyone)."""
    enqueue(TASK)


def refresh_managers(*, token_provider=None) -> dict:
    """Read everyone's manager and write those the cache has otherwise. Audited either way;
    a failure keeps what was written so far (each chunk is right on its own)."""
    started = timezone.now()
    figures = {"people": 0, "changed": 0}
    stats = PageStats()
    client = GraphClient(token_provider or tokens.sync_token_provider())
    try:
        pairs = (pair for page in list_managers(client, stats) for pair in page)
        for chunk in sql.chunks(pairs):
            figures["people"] += len(chunk)
            figures["changed"] += write_managers(chunk, started)
    except (TokenError, GraphError) as exc:
        _audit("failure", client, stats, figures, error=str(exc))
        return {**figures, "error": str(exc)}
    finally:
        client.close()
    SyncCursor.objects.update_or_create(
        name=REFRESHED_CURSOR, defaults={"value": started.isoformat()}
    )
    _audit("success", client, stats, figures)
    return figures


def _audit(outcome: str, client: GraphClient, stats: PageStats, figures: dict, **more) -> None:
    audit.record(
        "sync.managers",
        outcome,
        target="managers",
        who="delegation sync",
        requests=client.stats.snapshot().get("requests", 0),
        pages=stats.pages,
        invalid=stats.invalid,
        **figures,
        **more,
    )


def stored_managers(object_ids: list[str]) -> dict[str, str | None]:
    """object id -> manager's object id (or None), for the people the cache holds."""
    rows = DirectoryUser.objects.values_list("object_id", "manager_id")
    out: dict[str, str | None] = {}
    for chunk in sql.chunks(object_ids, sql.IN_LIST):
        out.update(rows.filter(object_id__in=chunk))
    return out


def write_managers(pairs: Iterable[tuple[str, str | None]], started) -> int:
    """Write the managers that differ from the cache's; returns how many rows were written.

    A row a sync wrote after this refresh began keeps the sync's manager: that run's delta is
    at most one delta behind, and the next delta carries anything newer, whereas our page may
    have been read before the change it saw."""
    pairs = list(pairs)
    u = sql.table(DirectoryUser)
    manager, updated_at, object_id = (
        sql.column(DirectoryUser, name) for name in ("manager", "updated_at", "object_id")
    )
    statement = (
        f"UPDATE {u} SET {manager} = %s, {updated_at} = %s "  # noqa: S608 - our names
        f"WHERE {object_id} = %s AND {updated_at} < %s"
    )
    adapt = connection.ops.adapt_datetimefield_value
    moment = timezone.now()
    now, since = adapt(moment), adapt(started)
    with transaction.atomic():
        changed = list(_differing(pairs, stored_managers([oid for oid, _ in pairs])))
        if not changed:
            return 0
        with connection.cursor() as cursor:
            cursor.executemany(statement, [(m, now, oid, since) for oid, m in changed])
            written = max(cursor.rowcount, 0)
        if written:  # the dashboards' cached figures are keyed on it (selectors/organisation)
            SyncCursor.objects.update_or_create(
                name=SyncCursor.MANAGERS_CHANGED, defaults={"value": moment.isoformat()}
            )
        return written


def _differing(pairs, stored: dict) -> Iterator[tuple[str, str | None]]:
    """Pairs whose person the cache holds with another manager (someone the cache does not hold
    yet gets theirs from the sync that adds them, then from the refresh after it)."""
    for object_id, manager in pairs:
        if object_id in stored and stored[object_id] != manager:
            yield object_id, manager
