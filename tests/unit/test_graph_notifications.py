"""Reading Graph's call notifications (GRAPH_CONTRACT §6-§7) from stored payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.graph.notifications import (
    Caller,
    NotificationShapeError,
    ResultInfo,
    parse,
)

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads" / "graph"


def load(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text())


def test_a_call_from_ringing_to_ended_reads_as_three_notifications_with_its_result():
    created, established, terminated = parse(load("call_lifecycle.json"))
    call_id = "491f0b00-ffff-4bc9-a43e-b226498ec22a"
    assert (created.change_type, created.call_id) == ("created", call_id)
    assert created.state == "establishing"
    assert created.result is None and not created.is_new_incoming_call
    assert (established.state, established.result) == ("established", None)
    assert (terminated.change_type, terminated.state) == ("deleted", "terminated")
    assert terminated.result == ResultInfo("200", "5001", "The conversation has ended.")


def test_a_failed_transfer_is_established_with_its_result():
    (item,) = parse(load("transfer_failed.json"))
    assert item.state == "established"
    assert item.result == ResultInfo("500", "7000", "Transfer failed.")


def test_an_incoming_call_names_its_caller():
    (item,) = parse(load("incoming_call.json"))
    assert item.is_new_incoming_call
    assert item.caller == Caller("Adele Vance", "8b081ef6-4792-4def-b2c9-c363a1bf41d5")


def test_an_incoming_call_names_nobody_it_was_for_when_the_notification_does_not_say():
    (item,) = parse(load("incoming_call.json"))
    assert item.called == Caller()


@pytest.mark.parametrize(
    "payload", ["incoming_call_for_someone.json", "incoming_call_to_a_user_target.json"]
)
def test_an_incoming_call_names_whom_the_caller_dialled_in_either_place_graph_may_put_it(payload):
    (item,) = parse(load(payload))
    assert item.called == Caller("Megan Bowen", "5e6f7a8b-2222-4c3d-8e9f-0a1b2c3d4e5f")


def test_a_caller_on_a_phone_is_named_by_the_number():
    (item,) = parse(load("incoming_call_for_someone.json"))
    assert item.caller == Caller("+14255550199", "")


def test_the_older_resource_key_subcode_spelling_and_numbers_as_strings_are_accepted():
    (item,) = parse(load("legacy_resource_strings.json"))
    assert item.call_id == "2f1e0d00-bbbb-4c3d-8e9f-a0b1c2d3e4f5"
    assert item.result == ResultInfo("408", "10057", "No answer.")


def test_a_duplicate_is_parsed_twice_and_identically_so_the_store_can_tell_the_repeat():
    first, second = parse(load("duplicate.json"))
    assert first == second and first.raw == second.raw


def test_the_raw_item_is_kept_as_received():
    payload = load("transfer_failed.json")
    (item,) = parse(payload)
    assert item.raw == payload["value"][0]


@pytest.mark.parametrize("body", [[], "text", None, {}, {"value": {}}, {"value": "x"}])
def test_a_body_that_is_not_a_notification_envelope_is_one_typed_error(body):
    with pytest.raises(NotificationShapeError):
        parse(body)


def test_items_that_name_no_call_are_left_out():
    body = {"value": ["not an item", {"changeType": "updated", "resourceData": {}}]}
    assert parse(body) == []
