"""The people part of a run's apply: the staged people compared with the cache a chunk at a
time, only what changed written; after a full listing, whoever it no longer shows is marked
removed. Inside the apply's transaction (sync/apply.py)."""

from __future__ import annotations

from django.db import connection

from delegation.models import DirectoryUser, SyncStagedGrant, SyncStagedPerson
from delegation.sync import sql, staging
from delegation.sync.diff import StoredPerson, diff_people
from delegation.sync.staging import PERSON_COLUMNS


def _stored_people(object_ids: list[str]) -> dict[str, StoredPerson]:
    """id -> the person as stored."""
    rows = DirectoryUser.objects.values_list("pk", *PERSON_COLUMNS, "in_directory", "removed_at")
    out = {}
    for chunk in sql.chunks(object_ids, sql.IN_LIST):
        for pk, *person, in_directory, removed_at in rows.filter(object_id__in=chunk):
            out[person[0]] = StoredPerson(pk, tuple(person), in_directory, removed_at is not None)
    return out


def apply_people(run_id: int, mode: str, at) -> tuple[dict, list[int]]:
    """Write the staged people; returns the counts and the pks of the people removed."""
    when = connection.ops.adapt_datetimefield_value(at)
    counts = {"people_added": 0, "people_changed": 0, "people_removed": 0}
    removed: list[int] = []
    for chunk in staging.staged_people(run_id):
        stored = _stored_people([person[0] for _, person in chunk])
        present = [person for is_present, person in chunk if is_present]
        gone = [person[0] for is_present, person in chunk if not is_present]
        diff = diff_people(stored, present, gone)
        sql.insert(
            DirectoryUser,
            (*PERSON_COLUMNS, "in_directory", "first_seen", "updated_at"),
            ((*person, True, when, when) for person in diff.insert),
        )
        sql.update(
            DirectoryUser,
            (*PERSON_COLUMNS[1:], "in_directory", "removed_at", "updated_at"),
            ((*person[1:], True, None, when, pk) for pk, person in diff.update),
        )
        counts["people_added"] += len(diff.insert)
        counts["people_changed"] += len(diff.update)
        removed += diff.remove
    if mode == "full":
        removed += _not_listed(run_id)
    sql.update(DirectoryUser, ("removed_at", "updated_at"), ((when, when, pk) for pk in removed))
    counts["people_removed"] = len(removed)
    return counts, removed


def _not_listed(run_id: int) -> list[int]:
    """pks of the people the cache holds as present whom this run's full listing did not show."""
    u, p = sql.table(DirectoryUser), sql.table(SyncStagedPerson)
    u_id, u_oid, u_in, u_removed = (
        f"u.{sql.column(DirectoryUser, name)}"
        for name in ("id", "object_id", "in_directory", "removed_at")
    )
    p_run, p_oid = (f"p.{sql.column(SyncStagedPerson, n)}" for n in ("run", "object_id"))
    rows = sql.select(
        f"SELECT {u_id} FROM {u} u WHERE {u_in} = %s AND {u_removed} IS NULL "  # noqa: S608
        f"AND NOT EXISTS (SELECT 1 FROM {p} p WHERE {p_run} = %s AND {p_oid} = {u_oid}) "
        f"ORDER BY {u_id}",
        [True, run_id],
    )
    return [pk for (pk,) in rows]


def add_unknown_people(run_id: int, at) -> int:
    """Delegates /users does not know: kept as "unknown person (id)" (in_directory False)."""
    u, g = sql.table(DirectoryUser), sql.table(SyncStagedGrant)
    g_run, g_delegate = (f"g.{sql.column(SyncStagedGrant, n)}" for n in ("run", "delegate"))
    u_oid = f"u.{sql.column(DirectoryUser, 'object_id')}"
    unknown = sql.select(
        f"SELECT DISTINCT {g_delegate} FROM {g} g WHERE {g_run} = %s "  # noqa: S608 - our names
        f"AND NOT EXISTS (SELECT 1 FROM {u} u WHERE {u_oid} = {g_delegate}) ORDER BY 1",
        [run_id],
    )
    when = connection.ops.adapt_datetimefield_value(at)
    return sql.insert(
        DirectoryUser,
        (*PERSON_COLUMNS, "in_directory", "first_seen", "updated_at"),
        ((oid, "", "", "", "", "", True, False, False, when, when) for (oid,) in unknown),
    )
