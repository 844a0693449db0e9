"""Reading an uploaded CSV: the export's columns, UTF-8, no formulas, bounded size and rows."""

import csv
import io

import pytest

from delegation.changes.csv_import import (
    REQUIRED_COLUMNS,
    FileRefused,
    parse,
    unescape,
)
from delegation.exports import HEADER
from tests.support.factories import allowed

ANN = "aaaaaaaa-0000-0000-0000-000000000001"
BOB = "bbbbbbbb-0000-0000-0000-000000000002"
IMPORT_HEADER = [*REQUIRED_COLUMNS]


def csv_bytes(rows, header=IMPORT_HEADER, bom=False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def row(delegator_id=ANN, delegator_upn="", delegate_id=BOB, delegate_upn="", *flags):
    values = list(flags) or ["yes", "yes", "no", "no", "no", "no"]
    return [delegator_id, delegator_upn, delegate_id, delegate_upn, *values]


def parsed(data: bytes, **kw):
    return parse(io.BytesIO(data), **kw)


def test_every_column_the_import_needs_is_one_the_export_writes():
    assert set(REQUIRED_COLUMNS) <= set(HEADER)


def test_a_row_reads_as_two_people_and_a_full_grant():
    [only] = parsed(csv_bytes([row()], bom=True))
    assert only.line == 2 and only.errors == []
    assert (only.delegator.object_id, only.delegate.object_id) == (ANN, BOB)
    assert only.grant == allowed("make_calls")


def test_a_person_without_an_object_id_is_named_by_upn():
    [only] = parsed(csv_bytes([row("", "Ann@Contoso.test")]))
    assert only.delegator.object_id == "" and only.delegator.key == "ann@contoso.test"


def test_columns_may_come_in_any_order_and_case():
    header = [c.upper() for c in reversed(IMPORT_HEADER)]
    [only] = parsed(csv_bytes([list(reversed(row()))], header=header))
    assert only.errors == [] and only.grant["make_calls"] is True


def test_unknown_and_missing_columns_are_named():
    with pytest.raises(FileRefused, match="Unknown columns: “Colour”"):
        parsed(csv_bytes([], header=[*IMPORT_HEADER, "Colour"]))
    with pytest.raises(FileRefused, match="Missing columns: “Join active calls”"):
        parsed(csv_bytes([], header=IMPORT_HEADER[:-1]))


def test_a_semicolon_separated_file_is_explained():
    with pytest.raises(FileRefused, match="semicolons"):
        parsed(";".join(IMPORT_HEADER).encode())


def test_a_file_not_in_utf8_names_the_line_and_byte():
    data = csv_bytes([row(delegate_upn="zoë@contoso.test")]).decode().encode("latin-1")
    with pytest.raises(FileRefused, match=r"line 2, byte \d+ \(0xEB\)"):
        parsed(data)


def test_a_file_over_the_limit_is_refused_after_reading_one_byte_more():
    class Endless(io.RawIOBase):
        asked: list = []

        def read(self, n=-1):
            self.asked.append(n)
            return b"x" * n

    upload = Endless()
    with pytest.raises(FileRefused, match="larger than 5 MB"):
        parse(upload)
    assert upload.asked == [5 * 1024 * 1024 + 1]


def test_more_rows_than_allowed_refuses_the_file():
    with pytest.raises(FileRefused, match="more than 2 rows"):
        parsed(csv_bytes([row(), row(), row()]), max_rows=2)


def test_empty_lines_are_skipped_and_line_numbers_stay_true():
    rows = parsed(csv_bytes([row(), [], [""] * 10, row(delegator_id=BOB, delegate_id=ANN)]))
    assert [r.line for r in rows] == [2, 5]


@pytest.mark.parametrize("cell", ['=HYPERLINK("x")', "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_a_formula_cell_is_refused_on_its_row(cell):
    [only] = parsed(csv_bytes([row(delegate_upn=cell)]))
    assert any("formula" in error for error in only.errors)


def test_the_exports_quote_before_formula_like_text_is_taken_off():
    assert unescape("'=Sales") == "=Sales"
    assert unescape("'Tis") == "'Tis"
    assert unescape("=Sales") is None


def test_a_value_that_is_not_yes_or_no_is_refused_naming_the_column():
    [only] = parsed(csv_bytes([row(ANN, "", BOB, "", "yes", "maybe", "no", "no", "no", "no")]))
    assert only.grant is None
    assert only.errors == ["“Make calls” must be yes or no, not “maybe”."]


def test_a_garbled_object_id_and_a_person_with_no_identity_are_refused():
    [only] = parsed(csv_bytes([row("not-an-id", "", "", "")]))
    assert "“Delegator object id” is not an object id." in only.errors
    assert "The delegate has neither an object id nor a UPN." in only.errors


def test_a_second_row_for_the_same_pair_is_refused_naming_the_first():
    rows = parsed(csv_bytes([row(), row(ANN.upper())]))
    assert rows[0].errors == []
    assert rows[1].errors == ["The same delegator and delegate as line 2."]


def test_a_row_with_remove_yes_plans_a_removal_whatever_its_flags_say():
    header = [*IMPORT_HEADER, "Remove"]
    [only] = parsed(csv_bytes([[*row(ANN, "", BOB, "", *[""] * 6), "yes"]], header=header))
    assert only.remove and only.grant is None and only.errors == []


def test_a_short_row_is_refused_not_misread():
    [only] = parsed(csv_bytes([row()[:5]]))
    assert "The row has 5 cells; the header has 10." in only.errors


def test_an_empty_file_is_refused():
    with pytest.raises(FileRefused, match="empty"):
        parsed(b"")


def test_a_utf16_file_without_its_mark_is_refused_for_its_nul_bytes():
    with pytest.raises(FileRefused, match="NUL bytes"):
        parsed(csv_bytes([row()]).decode().encode("utf-16-le"))


def test_a_cell_past_the_csv_field_limit_is_refused_in_words():
    with pytest.raises(FileRefused, match="not valid CSV near line 2"):
        parsed(csv_bytes([]) + b'"' + b"x" * 200_000 + b'"\n')
