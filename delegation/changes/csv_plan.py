"""The dry run of a CSV import: what each row would add, change or remove, and why a row may not.

`plan()` takes plain data (the cached grants touching the people in the file, who exists and is
enabled, what is already pending) and the rows from `csv_import.parse`, and runs each row through
`rules.check`. An import applies only when no row is refused: the file is fixed and imported
again, so a half-applied spreadsheet never has to be reasoned about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from delegation.changes import rules, snapshots
from delegation.changes.csv_import import ImportRow, PersonRef
from delegation.changes.rules import Person
from portal.allowed_actions import TEAMS_DELEGATION_LIMIT

UNCHANGED = "unchanged"
Pair = tuple[str, str]


@dataclass(frozen=True)
class Current:
    """What the portal knows now. `grants` must hold every cached grant in which a person of the
    file is delegator or delegate, or the 25/25 limits are counted short."""

    people: Mapping[str, Person]  # by object id, lower case
    ids_by_upn: Mapping[str, str]  # casefolded UPN -> object id
    grants: Mapping[Pair, Mapping]  # (delegator id, delegate id), lower case -> snapshot
    pending: Mapping[Pair, int] = field(default_factory=dict)  # pair -> pending request id
    pending_adds: Collection[Pair] = ()


@dataclass
class PlannedRow:
    line: int
    kind: str = ""  # add | change | remove | unchanged; "" when refused before it was known
    delegator_id: str = ""
    delegate_id: str = ""
    before: snapshots.Snapshot | None = None
    after: snapshots.Snapshot | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class Plan:
    rows: list[PlannedRow]

    def of_kind(self, kind: str) -> list[PlannedRow]:
        return [row for row in self.rows if row.kind == kind and not row.errors]

    @property
    def refused(self) -> list[PlannedRow]:
        return [row for row in self.rows if row.errors]

    @property
    def counts(self) -> dict[str, int]:
        kinds = (rules.ADD, rules.CHANGE, rules.REMOVE, UNCHANGED)
        return {**{kind: len(self.of_kind(kind)) for kind in kinds}, "refused": len(self.refused)}

    @property
    def can_apply(self) -> bool:
        return not self.refused and any(row.kind != UNCHANGED for row in self.rows)


def _resolve(ref: PersonRef, role: str, current: Current, errors: list[str]) -> str:
    if ref.object_id:
        return ref.object_id
    object_id = current.ids_by_upn.get(ref.upn.casefold(), "")
    if ref.upn and not object_id:
        errors.append(f"No one in the directory has the UPN “{ref.upn}” ({role.lower()}).")
    return object_id


def _person(object_id: str, current: Current) -> Person:
    # A grant may name an account the directory no longer lists: it can still be removed.
    return current.people.get(object_id) or Person(object_id, in_directory=False)


def plan(
    rows: list[ImportRow], current: Current, *, now: datetime, limit: int = TEAMS_DELEGATION_LIMIT
) -> Plan:
    delegates_of: dict[str, set[str]] = defaultdict(set)
    delegators_of: dict[str, set[str]] = defaultdict(set)
    for delegator, delegate in (*current.grants, *current.pending_adds):
        delegates_of[delegator].add(delegate)
        delegators_of[delegate].add(delegator)
    # Removals in the same file do not free a place: they may be applied after the adds, or fail.
    first_line: dict[Pair, int] = {}
    planned: list[PlannedRow] = []
    for row in rows:
        out = PlannedRow(row.line, errors=list(row.errors))
        planned.append(out)
        out.delegator_id = _resolve(row.delegator, "Delegator", current, out.errors)
        out.delegate_id = _resolve(row.delegate, "Delegate", current, out.errors)
        if out.errors:
            continue
        pair = (out.delegator_id, out.delegate_id)
        if pair in first_line:
            out.errors.append(f"The same delegator and delegate as line {first_line[pair]}.")
            continue
        first_line[pair] = row.line
        out.before = snapshots.normalised(current.grants.get(pair))
        out.after = None if row.remove else row.grant
        both = out.before is not None and out.after is not None
        if both and not snapshots.changed_keys(out.before, out.after):
            out.kind = UNCHANGED  # an unedited export row: nothing to do, nothing to refuse
            continue
        proposal = rules.Proposal(
            _person(out.delegator_id, current),
            _person(out.delegate_id, current),
            current=out.before,
            after=out.after,
            delegates_of_delegator=delegates_of[out.delegator_id],
            delegators_of_delegate=delegators_of[out.delegate_id],
            pending_request_id=current.pending.get(pair),
        )
        refusals = rules.check(proposal, now=now, limit=limit)
        out.errors += [refusal.words for refusal in refusals]
        if refusals:
            continue
        out.kind = rules.kind_of(out.before, out.after)
        if out.kind == rules.ADD:
            # The file's own adds count towards the limits of the rows after them.
            delegates_of[out.delegator_id].add(out.delegate_id)
            delegators_of[out.delegate_id].add(out.delegator_id)
    return Plan(planned)
