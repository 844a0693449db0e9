"""Database idioms the apps share."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction


def create_once(model, lookup: dict, **fields):
    """Insert a row unless one with `lookup` (a unique key) exists: `(row, created)`.

    Race-safe where `get_or_create` is not written to be: two requests with the same key both try
    the insert, the unique constraint lets one win, and the loser reads the winner's row (None if
    another unique column clashed and nothing matches `lookup`)."""
    try:
        with transaction.atomic():
            return model.objects.create(**lookup, **fields), True
    except IntegrityError:
        return model.objects.filter(**lookup).first(), False


def refresh_planner_statistics(*models) -> None:
    """On PostgreSQL, ANALYZE these models' tables now (a sample: milliseconds for 100,000 rows).

    For a query over tables that have just grown or shrunk a lot, before autovacuum has looked:
    with statistics from another size the planner once chose plans that ran for minutes. Rows
    the current transaction wrote are counted. Elsewhere, nothing."""
    if connection.vendor != "postgresql" or not models:
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def newest_first(queryset, before_id: int | None, size: int) -> tuple[list, int | None]:
    """One page of `queryset`, newest (highest id) first, keyset-paged so the thousandth page
    costs what the first does: the rows, and the id to continue before (None on the last)."""
    if before_id:
        queryset = queryset.filter(pk__lt=before_id)
    rows = list(queryset.order_by("-pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, rows[-1].pk if more else None
