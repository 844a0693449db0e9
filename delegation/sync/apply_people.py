"""The people part of a run's apply: the people staged (new, changed, back, or gone) compared
with the cache again, a chunk at a time, and what still differs written. Inside the apply's
transaction (sync/apply.py)."""

from __future__ import annotations

from django.db import connection

from delegation.folding import person_folded
from delegation.models import DirectoryUser, SyncStagedGrant
from delegation.sync import cache, sql, staging
from delegation.sync.cache import PERSON_COLUMNS
from delegation.sync.diff import MANAGER, diff_people, manager_unsaid

# Written with the people's columns: these writes go round the model (delegation/folding.py).
COLUMNS = (*PERSON_COLUMNS, "search_folded")
# An update from a full listing, which says nothing of the manager, leaves that column alone.
UPDATED = (*COLUMNS[1:], "in_directory", "removed_at", "updated_at")
UPDATED_KEEPING_MANAGER = tuple(name for name in UPDATED if name != PERSON_COLUMNS[MANAGER])


def _with_folded(person: tuple) -> tuple:
    # A person tuple's name, UPN, mail, department and job title: folding.SOURCES' order.
    return (*person, person_folded(*person[1:6]))


def _updated(person: tuple, when) -> tuple:
    """An update's values (UPDATED, or UPDATED_KEEPING_MANAGER when the manager is unsaid)."""
    values = _with_folded(person)[1:]
    if manager_unsaid(person):
        values = values[: MANAGER - 1] + values[MANAGER:]
    return (*values, True, None, when)


def apply_people(run_id: int, at) -> tuple[dict, list[int]]:
    """Write the staged people; returns the counts and the pks of the people removed."""
    when = connection.ops.adapt_datetimefield_value(at)
    counts = {"people_added": 0, "people_changed": 0, "people_removed": 0}
    removed: list[int] = []
    for chunk in staging.staged_people(run_id):
        stored = cache.stored_people([person[0] for _, person in chunk])
        present = [person for is_present, person in chunk if is_present]
        gone = [person[0] for is_present, person in chunk if not is_present]
        diff = diff_people(stored, present, gone)
        sql.insert(
            DirectoryUser,
            (*COLUMNS, "in_directory", "first_seen", "updated_at"),
            ((*_with_folded(person), True, when, when) for person in diff.insert),
        )
        said = [update for update in diff.update if not manager_unsaid(update.person)]
        unsaid = [update for update in diff.update if manager_unsaid(update.person)]
        for columns, updates in ((UPDATED, said), (UPDATED_KEEPING_MANAGER, unsaid)):
            sql.update(DirectoryUser, columns, ((*_updated(p, when), pk) for pk, p in updates))
        sql.update(
            DirectoryUser, ("removed_at", "updated_at"), ((when, when, pk) for pk in diff.remove)
        )
        counts["people_added"] += len(diff.insert)
        counts["people_changed"] += len(diff.update)
        removed += diff.remove
    counts["people_removed"] = len(removed)
    return counts, removed


def stamp_disabled(at) -> int:
    """`disabled_at` kept in step with `account_enabled`: `at` for the accounts this apply found
    disabled, None for those enabled again. Read first, so a run that changed nothing writes
    nothing. Returns how many were stamped."""
    stamp = DirectoryUser.objects.filter(account_enabled=False, disabled_at__isnull=True)
    clear = DirectoryUser.objects.filter(account_enabled=True, disabled_at__isnull=False)
    if clear.exists():
        clear.update(disabled_at=None)
    return stamp.update(disabled_at=at) if stamp.exists() else 0


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
        (*COLUMNS, "in_directory", "first_seen", "updated_at"),
        (
            (*_with_folded((oid, "", "", "", "", "", True, False, None)), False, when, when)
            for (oid,) in unknown
        ),
    )
