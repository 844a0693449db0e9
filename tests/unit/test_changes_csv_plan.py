"""The dry run of an import: adds, changes, removes, unchanged rows and each row's errors."""

import csv
import io
from datetime import UTC, datetime

from delegation.changes.csv_import import REQUIRED_COLUMNS, parse
from delegation.changes.csv_plan import UNCHANGED, Current, plan
from delegation.changes.rules import Person
from delegation.changes.snapshots import snapshot
from delegation.exports import _COLUMNS, csv_lines

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ANN = "aaaaaaaa-0000-0000-0000-000000000001"
BOB = "bbbbbbbb-0000-0000-0000-000000000002"
CAT = "cccccccc-0000-0000-0000-000000000003"
PEOPLE = {
    ANN: Person(ANN, "=Ann Lee", has_voice_licence=True),
    BOB: Person(BOB, "Bob Roe"),
    CAT: Person(CAT, "Cat Poe"),
}
UPNS = {"ann@contoso.test": ANN, "bob@contoso.test": BOB, "cat@contoso.test": CAT}
CALLS = snapshot(make_calls=True, receive_calls=True)


def current(grants=None, **kw) -> Current:
    return Current(PEOPLE, UPNS, grants if grants is not None else {(ANN, BOB): CALLS}, **kw)


def upload(rows, header=(*REQUIRED_COLUMNS, "Remove")) -> list:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return parse(io.BytesIO(out.getvalue().encode()))


def line(delegator, delegate, grant, remove="no"):
    flags = ["yes" if grant[key] else "no" for key in grant]
    return [delegator, "", delegate, "", *flags, remove]


class ExportRows:
    """Stands in for the queryset the export streams from: values_list(...).iterator()."""

    def __init__(self, rows):
        self.rows = rows

    def values_list(self, *columns):
        assert list(columns) == _COLUMNS
        return self

    def iterator(self, chunk_size):
        return iter(self.rows)


def exported(grants) -> bytes:
    rows = []
    for (delegator, delegate), grant in grants.items():
        upn = {v: k for k, v in UPNS.items()}
        rows.append(
            (
                PEOPLE[delegator].label, upn[delegator], delegator, "-Sales",
                PEOPLE[delegate].label, upn[delegate], delegate,
                grant["is_active"], *(grant[k] for k in list(grant)[1:]),
                NOW, NOW, NOW,
            )
        )  # fmt: skip
    return "".join(csv_lines(ExportRows(rows))).encode()


def test_an_unedited_export_planned_against_the_same_cache_changes_nothing():
    grants = {(ANN, BOB): CALLS, (ANN, CAT): snapshot(is_active=False, manage_settings=True)}
    result = plan(parse(io.BytesIO(exported(grants))), current(grants), now=NOW)
    assert [row.kind for row in result.rows] == [UNCHANGED, UNCHANGED]
    assert result.refused == [] and not result.can_apply


def test_an_edited_flag_plans_a_change_with_before_and_after():
    wanted = snapshot(make_calls=True)
    result = plan(upload([line(ANN, BOB, wanted)]), current(), now=NOW)
    [row] = result.of_kind("change")
    assert (row.before, row.after) == (CALLS, wanted)
    assert result.can_apply


def test_a_new_pair_plans_an_add_and_a_remove_yes_plans_a_removal():
    rows = upload([line(ANN, CAT, CALLS), line(ANN, BOB, CALLS, remove="yes")])
    result = plan(rows, current(), now=NOW)
    assert result.counts == {"add": 1, "change": 0, "remove": 1, UNCHANGED: 0, "refused": 0}


def test_a_person_named_by_upn_is_found_in_the_directory():
    rows = upload([["", "Ann@Contoso.test", "", "cat@contoso.test", *["yes"] * 6, ""]])
    [row] = plan(rows, current(), now=NOW).of_kind("add")
    assert (row.delegator_id, row.delegate_id) == (ANN, CAT)


def test_an_unknown_upn_is_refused_in_words():
    rows = upload([["", "zed@contoso.test", BOB, "", *["yes"] * 6, ""]])
    [row] = plan(rows, current(), now=NOW).refused
    assert row.errors == ["No one in the directory has the UPN “zed@contoso.test” (delegator)."]


def test_the_same_pair_by_id_and_by_upn_is_a_duplicate():
    rows = upload([line(ANN, CAT, CALLS), ["", "ann@contoso.test", CAT, "", *["yes"] * 6, ""]])
    [row] = plan(rows, current(), now=NOW).refused
    assert row.errors == ["The same delegator and delegate as line 2."]


def test_the_files_own_adds_count_towards_the_25_limit():
    extra = [f"dddddddd-0000-0000-0000-{i:012d}" for i in range(26)]
    people = {**PEOPLE, **{d: Person(d, f"P{i}") for i, d in enumerate(extra)}}
    state = Current(people, UPNS, {})
    result = plan(upload([line(ANN, d, CALLS) for d in extra]), state, now=NOW)
    assert len(result.of_kind("add")) == 25
    [refused] = result.refused
    assert refused.line == 27 and "25 delegates" in refused.errors[0]
    assert not result.can_apply


def test_a_pair_with_a_pending_request_is_refused_naming_it():
    state = current(pending={(ANN, BOB): 12})
    [row] = plan(upload([line(ANN, BOB, snapshot())]), state, now=NOW).refused
    assert "#12" in row.errors[0]


def test_removing_a_grant_that_does_not_exist_is_a_row_error():
    [row] = plan(upload([line(BOB, CAT, CALLS, remove="yes")]), current(), now=NOW).refused
    assert row.errors == ["There is no such delegate to remove."]


def test_a_grant_of_a_person_gone_from_the_directory_can_be_removed():
    gone = "eeeeeeee-0000-0000-0000-000000000005"
    state = current({(ANN, gone): CALLS})
    result = plan(upload([line(ANN, gone, CALLS, remove="yes")]), state, now=NOW)
    assert len(result.of_kind("remove")) == 1


def test_parse_errors_stay_on_their_row_and_block_the_import():
    rows = upload([line(ANN, CAT, CALLS), [ANN, "", BOB, "", "=1+1", *["no"] * 5, ""]])
    result = plan(rows, current(), now=NOW)
    assert len(result.of_kind("add")) == 1 and len(result.refused) == 1
    assert not result.can_apply
