"""Reading an uploaded CSV of delegations: the organisation export's columns, so that export,
edit in a spreadsheet, import round-trips.

A problem with the file as a whole (too big, not UTF-8, wrong columns, too many rows) refuses it
with `FileRefused`; a problem with one row (a formula, a value not yes/no, a duplicate) is kept
on that row, for the dry run to show. Nothing here looks people up: `csv_plan` does.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from delegation.changes.snapshots import Snapshot
from delegation.exports import _FORMULA_STARTS, BOM, HEADER
from portal.allowed_actions import ACTIONS
from portal.graph.directory import is_object_id

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_ROWS = 5000
REMOVE_COLUMN = "Remove"  # not in the export: an importer adds it to plan removals
IDENTITY_COLUMNS = ("Delegator object id", "Delegator UPN", "Delegate object id", "Delegate UPN")
GRANT_COLUMNS: dict[str, str] = {"Active": "is_active", **{a.label: a.field for a in ACTIONS}}
REQUIRED_COLUMNS = (*IDENTITY_COLUMNS, *GRANT_COLUMNS)
# The export's other columns (names, department, dates) are accepted and ignored: the directory,
# not the file, says who a person is.
IGNORED_COLUMNS = tuple(column for column in HEADER if column not in REQUIRED_COLUMNS)
KNOWN_COLUMNS = (*REQUIRED_COLUMNS, *IGNORED_COLUMNS, REMOVE_COLUMN)
_YES_NO = {"yes": True, "no": False}


class FileRefused(Exception):
    """The file cannot be read as a whole; `words` say why, for the page."""

    def __init__(self, words: str):
        super().__init__(words)
        self.words = words


@dataclass(frozen=True)
class PersonRef:
    """A person as the file names them: by object id, or by UPN when the id cell is empty."""

    object_id: str = ""
    upn: str = ""

    @property
    def key(self) -> str:
        return self.object_id or self.upn.casefold()


@dataclass
class ImportRow:
    line: int
    delegator: PersonRef
    delegate: PersonRef
    grant: Snapshot | None  # None when a cell could not be read, or on a removal
    remove: bool = False
    errors: list[str] = field(default_factory=list)


def read_limited(upload, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """At most max_bytes from a file-like: a 50 MB upload is refused after reading one byte
    past the limit, never held whole."""
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileRefused(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
    return data


def decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileRefused(
            f"The file is not UTF-8: line {line}, byte {exc.start + 1} (0x{data[exc.start]:02X})."
            " Save it as “CSV UTF-8”."
        ) from None
    if "\x00" in text:
        # Valid UTF-8 with NULs is nearly always UTF-16 saved without its byte order mark.
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FileRefused(f"The file holds NUL bytes (line {line}): save it as “CSV UTF-8”.")
    return text.removeprefix(BOM)


def _columns(header: list[str]) -> list[str]:
    names = [cell.strip().removeprefix(BOM) for cell in header]
    canonical = {column.casefold(): column for column in KNOWN_COLUMNS}
    if len(names) == 1 and ";" in names[0]:
        raise FileRefused("The columns are separated by semicolons; save the file with commas.")
    unknown = [name for name in names if name.casefold() not in canonical]
    if unknown:
        raise FileRefused("Unknown columns: " + ", ".join(f"“{n}”" for n in unknown) + ".")
    columns = [canonical[name.casefold()] for name in names]
    twice = sorted({column for column in columns if columns.count(column) > 1})
    if twice:
        raise FileRefused("Columns given twice: " + ", ".join(f"“{c}”" for c in twice) + ".")
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise FileRefused("Missing columns: " + ", ".join(f"“{c}”" for c in missing) + ".")
    return columns


def unescape(cell: str) -> str | None:
    """The cell's text, without the one `'` the export puts before formula-like text; None when
    the cell is a formula (starts with = + - @ tab or CR): a spreadsheet would run it."""
    if cell.startswith("'") and cell[1:].startswith(_FORMULA_STARTS):
        return cell[1:]
    return None if cell.startswith(_FORMULA_STARTS) else cell


def _person(cells: dict[str, str], role: str, errors: list[str]) -> PersonRef:
    object_id = cells[f"{role} object id"].strip().lower()
    upn = cells[f"{role} UPN"].strip()
    if object_id and not is_object_id(object_id):
        errors.append(f"“{role} object id” is not an object id.")
        object_id = ""
    elif not object_id and not upn:
        errors.append(f"The {role.lower()} has neither an object id nor a UPN.")
    return PersonRef(object_id, upn)


def _yes_no(cells: dict[str, str], column: str, errors: list[str]) -> bool | None:
    value = _YES_NO.get(cells.get(column, "").strip().casefold())
    if value is None:
        errors.append(f"“{column}” must be yes or no, not “{cells.get(column, '')[:40]}”.")
    return value


def _row(line: int, columns: list[str], raw: list[str]) -> ImportRow:
    errors: list[str] = []
    if len(raw) != len(columns):
        errors.append(f"The row has {len(raw)} cells; the header has {len(columns)}.")
        raw = (raw + [""] * len(columns))[: len(columns)]
    cells: dict[str, str] = {}
    for column, cell in zip(columns, raw, strict=True):
        text = unescape(cell)
        if text is None:
            errors.append(f"“{column}” holds a formula; type the value instead.")
            text = ""
        cells[column] = text
    delegator = _person(cells, "Delegator", errors)
    delegate = _person(cells, "Delegate", errors)
    remove = bool(cells.get(REMOVE_COLUMN, "").strip()) and _yes_no(cells, REMOVE_COLUMN, errors)
    grant: Snapshot | None = None
    if not remove:
        values = {key: _yes_no(cells, column, errors) for column, key in GRANT_COLUMNS.items()}
        if None not in values.values():
            grant = values
    return ImportRow(line, delegator, delegate, grant, bool(remove), errors)


def parse(
    upload, *, max_bytes: int = DEFAULT_MAX_BYTES, max_rows: int = DEFAULT_MAX_ROWS
) -> list[ImportRow]:
    """The file's rows, each with its own errors; FileRefused when the file cannot be used."""
    text = decode(read_limited(upload, max_bytes))
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[ImportRow] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        header = next(reader, None)
        if not header:
            raise FileRefused("The file is empty.")
        columns = _columns(header)
        for raw in reader:
            if not any(cell.strip() for cell in raw):
                continue
            if len(rows) == max_rows:
                raise FileRefused(f"The file has more than {max_rows:,} rows.")
            row = _row(reader.line_num, columns, raw)
            pair = (row.delegator.key, row.delegate.key)
            if all(pair) and pair in seen:
                row.errors.append(f"The same delegator and delegate as line {seen[pair]}.")
            seen.setdefault(pair, row.line)
            rows.append(row)
    except csv.Error as exc:
        raise FileRefused(
            f"The file is not valid CSV near line {reader.line_num}: {exc}."
        ) from None
    return rows
