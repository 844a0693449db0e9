"""Plain multi-row SQL through Django's connection, for the sync's bulk writes and staged reads.

Values are adapted by Django's own field adapters, so SQLite and PostgreSQL both work: 300,000
grants as model instances would cost seconds and hundreds of megabytes. Rows go in with
executemany on SQLite, with COPY on PostgreSQL.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator

from django.db import connection

CHUNK = 1000
IN_LIST = 500  # values in one `IN (...)`: far below every backend's limit on parameters


def chunks(rows: Iterable, size: int | None = None) -> Iterator[list]:
    size = size or CHUNK
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def insert(model, fields: tuple[str, ...], rows: Iterable[tuple]) -> int:
    if connection.vendor == "postgresql":
        return _copy(model, fields, rows)
    columns = ", ".join(column(model, name) for name in fields)
    sql = f"INSERT INTO {table(model)} ({columns}) VALUES ({marks(len(fields))})"  # noqa: S608
    written = 0
    with connection.cursor() as cursor:
        for chunk in chunks(rows):
            cursor.executemany(sql, chunk)
            written += len(chunk)
    return written


def _copy(model, fields: tuple[str, ...], rows: Iterable[tuple]) -> int:
    """PostgreSQL: COPY, some seven times faster than executemany's INSERTs (a first sync of
    100,000 people writes half a million rows). Logged like a query, so a test that counts the
    writes sees it."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    columns = ", ".join(column(model, name) for name in fields)
    statement = f"COPY {table(model)} ({columns}) FROM STDIN"
    started, written = time.monotonic(), 0
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in itertools.chain((first,), rows):
            copy.write_row(row)
            written += 1
    if connection.queries_logged:
        took = f"{time.monotonic() - started:.3f}"
        connection.queries_log.append({"sql": f"{statement} ({written} rows)", "time": took})
    return written


def update(model, fields: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """rows: (value per field..., pk)."""
    sets = ", ".join(f"{column(model, name)} = %s" for name in fields)
    sql = f"UPDATE {table(model)} SET {sets} WHERE {column(model, 'id')} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        for chunk in chunks(rows):
            cursor.executemany(sql, chunk)


def delete(model, pks: Iterable[int]) -> None:
    with connection.cursor() as cursor:
        for chunk in chunks(pks, IN_LIST):
            cursor.execute(
                f"DELETE FROM {table(model)} WHERE {column(model, 'id')} IN ({marks(len(chunk))})",  # noqa: S608
                chunk,
            )


def select(sql: str, params: Iterable) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()
