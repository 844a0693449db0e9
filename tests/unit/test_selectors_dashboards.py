"""Pure logic of the dashboards: search spellings, CSV cells, PowerShell quoting, formatting."""

from __future__ import annotations

import datetime
from datetime import UTC

import pytest
from django.http import QueryDict

from delegation import exports
from delegation.forms import DelegationFilterForm, row_id
from delegation.models import DirectoryUser, SyncRun
from delegation.reviews import powershell_quote, revoke_command
from delegation.selectors import people as selectors
from delegation.selectors import sync as selectors_sync
from delegation.templatetags.delegation_tags import (
    NAME_MAX,
    action_flags,
    change_actions,
    person_label,
)


def test_search_tries_the_spellings_names_and_addresses_are_written_in():
    assert selectors._case_variants("mar") == ["mar", "Mar", "MAR"]
    assert "Maria Smith" in selectors._case_variants("maria smith")


def test_prefix_match_is_a_range_bounded_by_the_next_character():
    q = selectors._starts_with("upn", "mar")
    assert dict(q.children) == {"upn__gte": "mar", "upn__lt": "mas", "upn__startswith": "mar"}


def test_prefix_match_covers_the_folded_name_and_each_address_spelling():
    sql = str(DirectoryUser.objects.filter(selectors.prefix_q("Åb")).query)
    assert sql.count('search_folded" >= ab ') == 1 and sql.count('"display_name"') == 1  # SELECT
    assert sql.count('upn" <') == 3 and sql.count('mail" >=') == 3


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_are_defused(text):
    assert exports.safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value, cell",
    [
        ("Maria", "Maria"),
        ("a=b", "a=b"),
        (True, "yes"),
        (False, "no"),
        (None, ""),
        (datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC), "2026-01-02T03:04:00+00:00"),
    ],
)
def test_ordinary_csv_cells_are_left_alone(value, cell):
    assert exports.safe_cell(value) == cell


def test_csv_header_names_every_allowed_action():
    assert len(exports.HEADER) == len(exports._COLUMNS)
    assert "Join active calls" in exports.HEADER


def test_powershell_literal_cannot_be_escaped_from():
    assert powershell_quote("o'brien@contoso.test") == "'o''brien@contoso.test'"
    assert powershell_quote("$(rm -rf)") == "'$(rm -rf)'"


def test_revoke_command_names_delegator_then_delegate():
    boss = DirectoryUser(object_id="b", upn="boss@contoso.test")
    ghost = DirectoryUser(object_id="ghost-id", upn="", in_directory=False)
    assert revoke_command(boss, ghost) == (
        "Remove-CsUserCallingDelegate -Identity 'boss@contoso.test' -Delegate 'ghost-id'"
    )


def test_change_records_are_read_in_the_shape_the_sync_writes():
    fields = change_actions({"is_active": True, "make_calls": True, "receive_calls": True})
    assert fields["actions"]["receive_calls"] and not fields["actions"]["join_active_calls"]
    assert not any(change_actions(None)["actions"].values())


def test_action_flags_list_the_five_actions_in_graph_order():
    flags = action_flags({"actions": {"make_calls": True}})
    assert [label for label, _ in flags][0] == "Make calls"
    assert [allowed for _, allowed in flags] == [True, False, False, False, False]


def test_long_names_are_cut_and_unknown_people_say_so():
    assert len(person_label(DirectoryUser(display_name="x" * 500))) == NAME_MAX
    assert person_label(DirectoryUser(object_id="abc", in_directory=False)) == (
        "unknown person (abc)"
    )


@pytest.mark.parametrize(
    "status, done, total, percent",
    [
        ("running", 0, 0, None),
        ("running", 1, 3, 33),
        ("succeeded", 0, 0, 100),
        ("failed", 5, 4, 100),
    ],
)
def test_run_percent(status, done, total, percent):
    run = SyncRun(status=status, progress_done=done, progress_total=total)
    assert selectors_sync.run_percent(run) == percent


def test_filter_form_drops_empty_filters_and_the_page():
    form = DelegationFilterForm(
        {"person": "  maria   smith ", "department": "", "active": "yes", "page": "3"}
    )
    filters, page = form.filters_and_page()
    assert filters == {"person": "maria smith", "active": "yes"}
    assert page == 3


def test_filter_form_refuses_unknown_actions_and_keeps_the_valid_filters():
    form = DelegationFilterForm({"action": "delete_everything", "active": "no", "page": "0"})
    filters, page = form.filters_and_page()
    assert filters == {"active": "no"}
    assert "action" in form.errors
    assert page == 1 and "page" in form.errors


def test_an_unbound_filter_form_filters_nothing_and_shows_the_first_page():
    form = DelegationFilterForm(None)
    assert form.filters_and_page() == ({}, 1)
    assert not form.errors


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", 42),
        ("0", 0),
        (None, None),
        ("", None),
        ("-3", None),
        (" 7", None),
        ("²", None),
        ("1_000", None),
        ("9" * 18, int("9" * 18)),
        ("9" * 19, None),
        ("9" * 5000, None),
    ],
)
def test_a_row_id_from_the_query_string_is_ascii_digits_or_nothing(value, expected):
    query = QueryDict(mutable=True)
    if value is not None:
        query["after"] = value
    assert row_id(query, "after") == expected


def test_run_duration_reads_in_seconds_then_minutes():
    from datetime import datetime, timedelta
    from types import SimpleNamespace

    from delegation.templatetags.delegation_tags import run_duration

    start = datetime(2026, 1, 1, tzinfo=UTC)
    run = lambda s: SimpleNamespace(started_at=start, finished_at=start + timedelta(seconds=s))  # noqa: E731
    assert run_duration(run(3.24)) == "3.2 s"
    assert run_duration(run(47)) == "47 s"
    assert run_duration(run(185)) == "3 min 5 s"
    assert run_duration(run(7300)) == "2 h 1 min"
    assert run_duration(SimpleNamespace(started_at=start, finished_at=None)) == ""
