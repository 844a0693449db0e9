"""Graph's call notifications (GRAPH_CONTRACT §6-§7), read into typed values.

The receiver authenticates the sender (`callback_auth`) and then hands the body to `parse`; the
calls app works from `CallNotification`s and never reads Graph's JSON itself. Reading is lenient
where Graph is known to vary (`resource` or `resourceUrl`, `subcode` or `subCode`, numbers as
numbers or strings) and strict only about the envelope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from portal.graph import untrusted_json

MAX_ITEMS = 50  # Graph sends a handful; a bigger body is not a notification we understand
MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 32  # a participant notification nests about 10 deep

_CALL_RESOURCE = re.compile(r"/communications/calls/([^/?#]+)")


class NotificationShapeError(ValueError):
    """The body is not a commsNotifications envelope (an object with a `value` list)."""


class ResultInfo(NamedTuple):
    code: str
    subcode: str
    message: str


@dataclass(frozen=True)
class Caller:
    """Who is calling, for an incoming call: a Teams user (with an object id), a phone number
    or an application (display name only); empty when the notification does not say."""

    display_name: str = ""
    object_id: str = ""


@dataclass(frozen=True)
class CallNotification:
    change_type: str  # created | updated | deleted
    call_id: str
    state: str
    result: ResultInfo | None
    caller: Caller
    raw: dict = field(repr=False)  # the item as received: stored, and what repeats are told by
    # Whom the caller dialled, for an incoming call that reached us for someone (empty if unsaid).
    called: Caller = Caller()

    @property
    def is_new_incoming_call(self) -> bool:
        return self.change_type == "created" and self.state == "incoming"


def parse_body(raw: bytes) -> list[CallNotification]:
    """The notifications of one delivery's raw body, read within bounds (size, depth, values
    the database can store). Raises untrusted_json.TooLarge, or another ValueError when the
    body is not a notification envelope we accept."""
    return parse(untrusted_json.loads(raw, max_bytes=MAX_BODY_BYTES, max_depth=MAX_DEPTH))


def parse(payload) -> list[CallNotification]:
    """Every call notification of one delivery; items that name no call are left out.

    Raises NotificationShapeError when the body is not a notification envelope at all."""
    items = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise NotificationShapeError("the body has no list of notifications")
    parsed = (_parse_item(item) for item in items[:MAX_ITEMS] if isinstance(item, dict))
    return [notification for notification in parsed if notification.call_id]


def _parse_item(item: dict) -> CallNotification:
    data = _dict(item.get("resourceData"))
    return CallNotification(
        change_type=str(item.get("changeType") or "")[:16],
        call_id=_call_id(item, data),
        state=str(data.get("state") or "")[:32],
        result=parse_result(data.get("resultInfo")),
        caller=_who(_dict(_dict(data.get("source")).get("identity"))),
        raw=item,
        called=_called(data),
    )


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _call_id(item: dict, data: dict) -> str:
    # Older payloads say `resource`, newer `resourceUrl` (contract §7): accept both. The call's
    # id is in the path; resourceData.id names a participant in participant notifications.
    resource = str(item.get("resourceUrl") or item.get("resource") or "")
    match = _CALL_RESOURCE.search(resource)
    if match:
        return match.group(1)[:128]
    return str(data.get("id") or "")[:128]


def _called(data: dict) -> Caller:
    """The person an incoming call was for: `incomingContext.onBehalfOf`, else a user among the
    call's targets (the application itself is no answer). Which of the two Teams fills for a
    call that reaches an application for someone is not documented: both are read."""
    on_behalf = _who(_dict(_dict(data.get("incomingContext")).get("onBehalfOf")))
    if on_behalf.object_id:
        return on_behalf
    targets = data.get("targets")
    for target in targets if isinstance(targets, list) else []:
        identity = _dict(_dict(target).get("identity"))
        if isinstance(identity.get("user"), dict):
            return _who(identity)
    return Caller()


def _who(identity: dict) -> Caller:
    """Who an identitySet names: a Teams user (with an object id), a phone number or an
    application (display name only)."""
    for kind in ("user", "phone", "application"):
        who = identity.get(kind)
        if isinstance(who, dict):
            object_id = str(who.get("id") or "")[:64] if kind == "user" else ""
            return Caller(str(who.get("displayName") or who.get("id") or "")[:256], object_id)
    return Caller()


def parse_result(result_info) -> ResultInfo | None:
    """resultInfo leniently: `subcode` or `subCode`, numbers as numbers or strings."""
    if not isinstance(result_info, dict):
        return None
    code = _text(result_info.get("code"), 16)
    subcode = _text(
        result_info.get("subcode", result_info.get("subCode", result_info.get("SubCode"))), 16
    )
    message = _text(result_info.get("message"), 512)
    if not (code or subcode or message):
        return None
    return ResultInfo(code, subcode, message)


def _text(value, limit: int) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()[:limit]
