"""CSV export of the organisation table, streamed row by row so 300,000 grants never sit in
memory at once."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import QuerySet

from delegation.models import Delegation
from portal import allowed_actions

BOM = "\ufeff"  # lets Excel open the file as UTF-8
CHUNK_SIZE = 2000
# A cell Excel or Sheets would read as a formula (OWASP "CSV injection"); tab and CR too.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

HEADER = [
    "Delegator",
    "Delegator UPN",
    "Delegator object id",
    "Department",
    "Delegate",
    "Delegate UPN",
    "Delegate object id",
    "Active",
    *[action.label for action in allowed_actions.ACTIONS],
    "Created in Teams",
    "First seen",
    "Last changed",
]
_COLUMNS = [
    "delegator__display_name",
    "delegator__upn",
    "delegator__object_id",
    "delegator__department",
    "delegate__display_name",
    "delegate__upn",
    "delegate__object_id",
    "is_active",
    *allowed_actions.FIELDS,
    "created_in_teams",
    "first_seen",
    "last_changed",
]


def safe_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Echo:
    """csv.writer wants a file; this one hands each formatted line back instead."""

    def write(self, value: str) -> str:
        return value


def csv_lines(qs: QuerySet[Delegation]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(HEADER)
    for row in qs.values_list(*_COLUMNS).iterator(chunk_size=CHUNK_SIZE):
        yield writer.writerow([safe_cell(v) for v in row])
