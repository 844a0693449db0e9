"""The shapes the API answers with: plain copies of the cached rows, no internal ids of people."""

from __future__ import annotations

from datetime import date, datetime

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


class CallIn(Schema):
    person_object_id: str | None = Field(None, pattern=OBJECT_ID, description="Whom to call")
    phone: str | None = Field(None, max_length=32, description="Or a phone number to call")
    on_behalf_of_object_id: str | None = Field(
        None, pattern=OBJECT_ID, description="The delegator whose grant lets the caller call"
    )
    ring_me_first: bool | None = Field(
        None,
        description="Ring the caller's own Teams first, then put them through (a person's "
        "default, as the call page does); an application has no line of its own: false.",
    )


class TransferIn(Schema):
    target_object_id: str = Field(pattern=OBJECT_ID)
    replaces_call_id: int | None = Field(
        None, ge=1, le=2**62, description="The caller's consultation call (a consultative transfer)"
    )


class Call(Schema):
    id: int
    direction: str
    state: str
    state_label: str
    mode: str
    target_kind: str
    target_object_id: str
    target_phone: str
    target_display: str
    on_behalf_of_object_id: str | None
    started_by_name: str
    result: str
    error: str
    note: str = ""
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None


class CallAction(Schema):
    id: int
    kind: str
    outcome: str
    message: str
    target_object_ids: list[str]
    created_at: datetime
    finished_at: datetime | None
    call: Call


def call_out(call, note: str = "") -> dict:
    return {
        "id": call.pk,
        "direction": call.direction,
        "state": call.state,
        "state_label": call.state_label,
        "mode": call.mode,
        "target_kind": call.target_kind,
        "target_object_id": call.target_object_id,
        "target_phone": call.target_phone,
        "target_display": call.target_label,
        "on_behalf_of_object_id": call.on_behalf_of.object_id if call.on_behalf_of_id else None,
        "started_by_name": str(call.started_by) if call.started_by_id else "",
        "result": call.result_label,
        "error": call.error,
        "note": note,
        "created_at": call.created_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
    }


def call_action_out(action, call) -> dict:
    return {
        "id": action.pk,
        "kind": action.kind,
        "outcome": action.outcome,
        "message": action.message,
        "target_object_ids": [t.get("id", "") for t in action.targets],
        "created_at": action.created_at,
        "finished_at": action.finished_at,
        "call": call_out(call),
    }


class Campaign(Schema):
    id: int
    name: str
    scope: str  # all, department or risk
    scope_value: str  # the department or the risk rule's id
    reviewers: str  # manager (the delegator's) or named
    due_on: date
    when_unreviewed: str  # keep or revoke, when the campaign closes
    status: str  # open or closed
    started_at: datetime
    closed_at: datetime | None
    closed_automatically: bool  # closed by itself the day after its due date
    items_total: int
    decided: int  # items with a decision, by a reviewer or at closing


class ReviewerProgress(Schema):
    reviewer: PersonRef | None  # None: the items nobody could be assigned
    assigned: int
    kept: int
    revoked: int


class CampaignDetail(Campaign):
    reviewers_progress: list[ReviewerProgress]


def campaign_of(c, decided: int) -> dict:
    fields = ("id", "name", "scope", "scope_value", "reviewers", "due_on", "when_unreviewed")
    more = ("status", "started_at", "closed_at", "closed_automatically", "items_total")
    return {**{f: getattr(c, f) for f in (*fields, *more)}, "decided": decided}


def reviewer_progress(p) -> dict:
    who = person_ref(p.reviewer) if p.reviewer else None
    return {"reviewer": who, "assigned": p.total, "kept": p.kept, "revoked": p.revoked}
