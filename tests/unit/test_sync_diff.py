"""What a sync writes, decided by plain functions over compact tuples."""

from __future__ import annotations

from datetime import UTC, datetime

from delegation.sync.diff import (
    diff_grants,
    diff_people,
    from_micros,
    grant_fields,
    grant_json,
    grant_key,
    same_person,
    split_key,
)
from portal.graph.delegations import grant_from_item, micros, pack, parse_created, unpack
from portal.graph.directory import MANAGER_UNSAID, PERSON_FIELDS, person_fields, person_tuple

ALICE = "11111111-1111-1111-1111-111111111111"
BOB = "22222222-2222-2222-2222-222222222222"
CAROL = "33333333-3333-3333-3333-333333333333"


def person(oid, name="Name", enabled=True, voice=False, manager=None):
    return (oid, name, f"{name}@contoso.test", "", "Sales", "", enabled, voice, manager)


# ------------------------------------------------------------------ packing
def test_a_grant_packs_into_one_int_and_back():
    created = micros(datetime(2025, 3, 1, 8, 30, 15, 250000, tzinfo=UTC))
    for active in (True, False):
        for bits in (0, 1, 0b10110, 0b11111):
            for when in (None, 0, created):
                assert unpack(pack(active, bits, when)) == (active, bits, when)


def test_grant_json_is_what_delegation_change_stores():
    packed = pack(True, 0b00011, micros(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)))
    assert grant_json(packed) == {
        "is_active": True,
        "created_in_teams": "2025-01-02T03:04:05Z",
        "make_calls": True,
        "receive_calls": True,
        "manage_settings": False,
        "pick_up_held_calls": False,
        "join_active_calls": False,
    }
    assert grant_fields(pack(False, 0, None))["created_in_teams"] is None
    assert from_micros(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_keys_split_back_into_delegator_and_delegate():
    assert split_key(grant_key(123456, 7)) == (123456, 7)


# ------------------------------------------------------------------ validating Graph's items
def test_a_delegation_item_is_read_when_it_has_the_documented_shape():
    item = {
        "@odata.type": "#microsoft.graph.delegationSettings",
        "id": BOB.upper(),
        "createdDateTime": "2025-01-02T03:04:05Z",
        "isActive": False,
        "allowedActions": {"makeCalls": True, "joinActiveCalls": True, "futureThing": "x"},
        "unknownProperty": {"ignored": True},
    }
    delegate, packed = grant_from_item(item)
    assert delegate == BOB
    assert unpack(packed) == (False, 0b10001, micros(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)))


def test_a_delegation_item_we_cannot_trust_is_refused():
    good = {"id": BOB, "isActive": True, "allowedActions": {"makeCalls": True}}
    assert grant_from_item(good) is not None
    for bad in (
        {**good, "id": "../../me"},
        {**good, "id": 42},
        {**good, "isActive": "yes"},
        {**good, "allowedActions": {"makeCalls": 1}},
        {**good, "allowedActions": ["makeCalls"]},
        {**good, "createdDateTime": "yesterday"},
        {**good, "createdDateTime": "2025-01-01T00:00:00Z" + "0" * 50},
        "not an object",
    ):
        assert grant_from_item(bad) is None, bad


def test_created_date_time_accepts_fractions_and_offsets():
    assert parse_created("2025-01-02T03:04:05.5Z") == parse_created("2025-01-02T04:04:05.5+01:00")
    assert parse_created(None) is None


def test_a_person_from_graph_is_bounded_and_checked():
    fields = person_fields(
        {"id": ALICE, "displayName": "x" * 1000, "mail": None, "accountEnabled": False}
    )
    assert len(fields["displayName"]) == 256
    assert fields["mail"] == "" and fields["accountEnabled"] is False
    assert "department" not in fields  # absent stays absent: delta may send only changes
    assert person_fields({"id": "not-a-guid"}) is None
    assert person_fields({"id": ALICE, "accountEnabled": "true"}) is None


def test_a_partial_person_keeps_the_stored_fields_it_does_not_carry():
    stored = person(ALICE, "Alice")
    merged = person_tuple({"id": ALICE, "displayName": "Alice B."}, stored)
    assert merged == (ALICE, "Alice B.", *stored[2:])
    assert person_tuple({"id": BOB}) == (BOB, "", "", "", "", "", True, False, None)


VOICE, MANAGER = PERSON_FIELDS.index("voiceEnabled"), PERSON_FIELDS.index("managerId")
TEAMS_PHONE = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"  # MCOEV
SKYPE_ONLINE = "0feaeb32-d00e-4d66-bd5a-43b5b83db82c"  # MCOSTANDARD, the same service


def plan(plan_id, status="Enabled", service="MicrosoftCommunicationsOnline"):
    return {"servicePlanId": plan_id, "capabilityStatus": status, "service": service}


def test_a_working_teams_phone_plan_makes_a_person_voice_enabled():
    def voice(plans):
        return person_fields({"id": ALICE, "assignedPlans": plans}).get("voiceEnabled")

    assert voice([plan(SKYPE_ONLINE), plan(TEAMS_PHONE)]) is True
    assert voice([plan(TEAMS_PHONE.upper(), "Warning")]) is True  # grace period: still works
    for status in ("Deleted", "Suspended", "LockedOut"):
        assert voice([plan(TEAMS_PHONE, status)]) is False
    assert voice([plan(SKYPE_ONLINE)]) is False  # the service name alone is not Teams Phone
    assert voice([]) is False
    # Not a list of plans: not said (a delta keeps what the cache knows).
    assert voice(None) is None and voice("MCOEV") is None
    assert voice([None, 3, plan(TEAMS_PHONE)]) is True


def test_a_listed_person_without_plans_is_not_voice_enabled_and_a_delta_keeps_the_stored_flag():
    listed = person_tuple(person_fields({"id": ALICE, "displayName": "Alice"}))
    assert listed[VOICE] is False
    stored = person(ALICE, "Alice", voice=True)
    assert person_tuple(person_fields({"id": ALICE, "jobTitle": "Lawyer"}), stored)[VOICE] is True


def test_an_expanded_manager_is_read_and_delta_reports_it_as_manager_delta():
    ref = {"@odata.type": "#microsoft.graph.user"}
    listed = person_tuple(person_fields({"id": ALICE, "manager": {**ref, "id": BOB.upper()}}))
    assert listed[MANAGER] == BOB  # object ids are kept in lower case
    assert person_tuple(person_fields({"id": ALICE}))[MANAGER] is None  # a new person: none
    # The sync's listing does not expand it: its people say nothing of the manager.
    unsaid_listed = person_tuple(person_fields({"id": ALICE}), manager=MANAGER_UNSAID)
    assert unsaid_listed[MANAGER] == MANAGER_UNSAID
    stored = person(ALICE, "Alice", manager=BOB)
    unsaid = person_fields({"id": ALICE, "jobTitle": "Lawyer"})
    assert person_tuple(unsaid, stored)[MANAGER] == BOB  # a delta without manager@delta
    moved = person_fields({"id": ALICE, "manager@delta": [{**ref, "id": CAROL}]})
    assert person_tuple(moved, stored)[MANAGER] == CAROL
    gone = [{**ref, "id": BOB, "@removed": {"reason": "deleted"}}]
    taken_away = person_fields({"id": ALICE, "manager@delta": gone})
    assert person_tuple(taken_away, stored)[MANAGER] is None
    bad = person_fields({"id": ALICE, "manager": {"id": "../x"}, "manager@delta": "x"})
    assert person_tuple(bad, stored)[MANAGER] == BOB  # a malformed manager@delta says nothing


# ------------------------------------------------------------------ people
def test_people_new_changed_and_gone_are_the_only_rows_written():
    stored = {
        ALICE: (1, person(ALICE, "Alice"), True, False),
        BOB: (2, person(BOB, "Bob"), True, False),
        CAROL: (3, person(CAROL, "Carol"), True, False),
    }
    dave = "44444444-4444-4444-4444-444444444444"
    diff = diff_people(
        stored, [person(ALICE, "Alice"), person(BOB, "Robert"), person(dave, "Dave")], [CAROL]
    )
    assert diff.insert == [person(dave, "Dave")]
    assert diff.update == [(2, person(BOB, "Robert"))]
    assert diff.remove == [3]


def test_nothing_changed_means_nothing_to_write():
    stored = {ALICE: (1, person(ALICE), True, False)}
    diff = diff_people(stored, [person(ALICE)], [])
    assert (diff.insert, diff.update, diff.remove) == ([], [], [])


def test_a_person_back_in_the_directory_is_updated_and_a_removed_one_not_removed_twice():
    stored = {
        ALICE: (1, person(ALICE), True, True),  # removed earlier
        BOB: (2, person(BOB), False, False),  # known only as somebody's delegate
        CAROL: (3, person(CAROL), True, True),
    }
    diff = diff_people(stored, [person(ALICE), person(BOB)], [CAROL])
    assert diff.update == [(1, person(ALICE)), (2, person(BOB))]
    assert diff.remove == []


def test_a_listed_person_keeps_the_stored_manager_and_a_new_one_has_none():
    """The full listing says nothing of managers (no $expand): the cache's stands."""
    stored = {
        ALICE: (1, person(ALICE, "Alice", manager=BOB), True, False),
        BOB: (2, person(BOB, "Bob", manager=CAROL), True, False),
        CAROL: (3, person(CAROL, "Carol"), True, True),  # removed earlier, listed again
    }
    dave = "44444444-4444-4444-4444-444444444444"
    listed = [
        person(ALICE, "Alice", manager=MANAGER_UNSAID),  # unchanged
        person(BOB, "Robert", manager=MANAGER_UNSAID),  # renamed
        person(CAROL, "Carol", manager=MANAGER_UNSAID),
        person(dave, "Dave", manager=MANAGER_UNSAID),
    ]
    diff = diff_people(stored, listed, [])
    assert diff.insert == [person(dave, "Dave", manager=None)]
    # Updates keep the manager unsaid: the apply leaves the column alone.
    assert diff.update == [(2, listed[1]), (3, listed[2])]
    assert same_person(person(ALICE, manager=BOB), person(ALICE, manager=MANAGER_UNSAID))
    assert not same_person(person(ALICE, manager=BOB), person(ALICE, manager=None))


# ------------------------------------------------------------------ grants
def test_grants_added_changed_and_removed_are_found():
    old, new = pack(True, 0b1, None), pack(True, 0b11, None)
    stored = [(10, grant_key(1, 2), old), (11, grant_key(1, 3), old), (12, grant_key(1, 4), old)]
    wanted = {grant_key(1, 2): old, grant_key(1, 3): new, grant_key(1, 5): new}

    diff = diff_grants(stored, wanted, read_delegators={1})

    assert diff.insert == [(grant_key(1, 5), new)]
    assert diff.update == [(11, grant_key(1, 3), old, new)]
    assert diff.remove == [(12, grant_key(1, 4), old)]
    assert wanted == {}


def test_a_delegator_that_could_not_be_read_keeps_every_row():
    packed = pack(True, 0b1, None)
    stored = [(10, grant_key(7, 2), packed), (11, grant_key(7, 3), packed)]

    diff = diff_grants(stored, {}, read_delegators={1})

    assert (diff.insert, diff.update, diff.remove) == ([], [], [])


def test_a_change_of_activity_or_creation_time_alone_is_a_change():
    base = pack(True, 0b1, 1000)
    for other in (pack(False, 0b1, 1000), pack(True, 0b1, 2000), pack(True, 0b1, None)):
        diff = diff_grants([(10, grant_key(1, 2), base)], {grant_key(1, 2): other}, {1})
        assert diff.update == [(10, grant_key(1, 2), base, other)]


def test_the_fast_column_values_equal_the_plain_ones():
    import json

    from django.db import connection

    from delegation.sync.cache import GrantColumns
    from portal.allowed_actions import FIELDS as ACTION_FIELDS

    columns = GrantColumns()
    created = micros(datetime(2025, 3, 1, 8, 30, 15, 250000, tzinfo=UTC))
    for packed in (pack(True, 0b10101, created), pack(False, 0b01010, None), pack(True, 0, 0)):
        fields = grant_fields(packed)
        plain = (
            fields["is_active"],
            connection.ops.adapt_datetimefield_value(fields["created_in_teams"]),
            *(fields[name] for name in ACTION_FIELDS),
        )
        assert columns.values(packed) == plain
        stored = columns.json(packed)  # JSON text on SQLite, a Jsonb wrapper on PostgreSQL
        assert (json.loads(stored) if isinstance(stored, str) else stored.obj) == grant_json(packed)
    assert columns.json(None) is None
