"""The grants part of a run's apply: for a thousand delegators at a time (those whose grants
differed from the cache's when read, and those who left), the grants read compared with the
cache's again and only the differences written, each with its DelegationChange. Inside the
apply's transaction (sync/apply.py); nothing is written when nothing changed."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from django.db import connection

from delegation.models import Delegation, DelegationChange, SyncRun
from delegation.sync import cache, sql, staging
from delegation.sync.cache import ACTION_FIELDS, GrantColumns
from delegation.sync.diff import GrantDiff, diff_grants, grant_key, split_key


def _write(run: SyncRun, diff: GrantDiff, columns: GrantColumns, when, baseline: bool) -> None:
    # Key order (delegator, delegate) keeps most index inserts appending: 2-3x faster on SQLite.
    diff.insert.sort()
    grant_columns = ("is_active", "created_in_teams", *ACTION_FIELDS)
    sql.insert(
        Delegation,
        ("delegator", "delegate", *grant_columns, "first_seen", "last_changed"),
        ((*split_key(key), *columns.values(packed), when, when) for key, packed in diff.insert),
    )
    sql.update(
        Delegation,
        (*grant_columns, "last_changed"),
        ((*columns.values(after), when, pk) for pk, _, _, after in diff.update),
    )
    sql.delete(Delegation, (pk for pk, _, _ in diff.remove))
    kind = DelegationChange.Kind
    # A baseline's grants were there before the portal looked: no "added" rows for them.
    added = () if baseline else ((key, kind.ADDED, None, packed) for key, packed in diff.insert)
    changes = itertools.chain(
        added,
        ((key, kind.CHANGED, before, after) for _, key, before, after in diff.update),
        ((key, kind.REMOVED, before, None) for _, key, before in diff.remove),
    )
    sql.insert(
        DelegationChange,
        ("run", "at", "delegator", "delegate", "kind", "before", "after"),
        (
            (run.pk, when, *split_key(key), what, columns.json(before), columns.json(after))
            for key, what, before, after in changes
        ),
    )


def _apply_chunk(run, people: list[tuple[int, str | None]], columns, when, baseline) -> tuple:
    """people: (pk, object id) of people read in full, (pk, None) of people who left."""
    read = {oid: pk for pk, oid in people if oid is not None}
    wanted = {
        grant_key(delegator, delegate): packed
        for delegator, delegate, packed in staging.staged_grants(run.pk, read)
    }
    pks = sorted(pk for pk, _ in people)
    diff = diff_grants(cache.stored_grants(pks), wanted, set(pks))
    _write(run, diff, columns, when, baseline)
    return len(diff.insert), len(diff.update), len(diff.remove)


def apply_grants(
    run: SyncRun, removed_pks: Iterable[int], at, baseline: bool = False
) -> tuple[int, int, int]:
    """Make the cache hold what the run read for each person read in full, and nothing for
    the people who left; (added, changed, removed). With `baseline`, the grants added get no
    DelegationChange rows (sync/apply.py says when)."""
    when = connection.ops.adapt_datetimefield_value(at)
    columns = GrantColumns()
    totals = (0, 0, 0)
    people = itertools.chain(staging.read_delegators(run.pk), ((pk, None) for pk in removed_pks))
    for chunk in sql.chunks(people):
        counts = _apply_chunk(run, chunk, columns, when, baseline)
        totals = tuple(a + b for a, b in zip(totals, counts, strict=True))
    return totals
