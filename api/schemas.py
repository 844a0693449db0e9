"""The shapes the API answers with: plain copies of the cached rows, no internal ids of people."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema
from pydantic import create_model

from portal.allowed_actions import FIELDS

OBJECT_ID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
KEY = r"^[A-Za-z0-9._:-]{8,64}$"


class Person(Schema):
    object_id: str
    display_name: str
    upn: str
    mail: str
    department: str
    job_title: str
    account_enabled: bool
    in_directory: bool


class PersonRef(Schema):
    object_id: str
    display_name: str
    upn: str


class Grant(Schema):
    id: int
    delegator: PersonRef
    delegate: PersonRef
    is_active: bool
    actions: dict[str, bool]
    first_seen: datetime | None
    last_changed: datetime | None


class SyncRun(Schema):
    id: int
    trigger: str
    status: str
    users_mode: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    people: int
    baseline_grants: int  # the first sync's grants, recorded as found rather than as added
    delegations_added: int
    delegations_changed: int
    delegations_removed: int


class Actions(Schema):
    is_active: bool = True
    make_calls: bool = False
    receive_calls: bool = False
    manage_settings: bool = False
    pick_up_held_calls: bool = False
    join_active_calls: bool = False


class ChangeRequestIn(Schema):
    delegator_object_id: str = Field(pattern=OBJECT_ID)
    delegate_object_id: str = Field(pattern=OBJECT_ID)
    after: Actions | None = Field(None, description="The grant wanted; null removes the delegate")
    reason: str = Field("", max_length=1000)


class ChangeRequest(Schema):
    id: int
    kind: str
    status: str
    delegator_object_id: str
    delegate_object_id: str
    before: dict | None
    after: dict | None
    reason: str
    requested_by_name: str
    acting_as: str
    method: str
    failure: str
    created_at: datetime
    applied_at: datetime | None


def page_of(item_schema):
    """A page of `item_schema`: its items and the cursor of the next page (null on the last)."""
    return create_model(
        f"{item_schema.__name__}Page",
        __base__=Schema,
        items=(list[item_schema], ...),
        next_cursor=(str | None, None),
    )


def person_ref(p) -> dict:
    return {"object_id": p.object_id, "display_name": p.display_name, "upn": p.upn}


def grant_out(g) -> dict:
    return {
        "id": g.id,
        "delegator": person_ref(g.delegator),
        "delegate": person_ref(g.delegate),
        "is_active": g.is_active,
        "actions": {field: getattr(g, field) for field in FIELDS},
        "first_seen": g.first_seen,
        "last_changed": g.last_changed,
    }
