"""Cloud communications calls through Graph (GRAPH_CONTRACT §6), as plain-data functions.

Calls are placed and steered as the application (Calls.Initiate.All). Creating, transferring
and redirecting are not idempotent in Graph, so they are sent once (retry=False): a retry could
ring someone twice. Ending and keepAlive are safe to repeat and use the client's retries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

from portal.allowed_actions import BY_FIELD
from portal.graph.client import GraphClient
from portal.graph.errors import GraphError
from portal.graph.tokens import app_token_provider

CALLS = "/communications/calls"
_CALL_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True)
class Person:
    object_id: str
    display_name: str = ""


@dataclass(frozen=True)
class PlacedCall:
    graph_id: str
    state: str
    request_id: str


@dataclass(frozen=True)
class LiveGrant:
    is_active: bool
    make_calls: bool
    receive_calls: bool


def _app_request(method: str, path: str, *, json=None, retry: bool = True):
    client = GraphClient(app_token_provider())
    try:
        return client.request(method, path, json=json, retry=retry)
    finally:
        client.close()


def _person_info(person: Person) -> dict:
    user = {"@odata.type": "#microsoft.graph.identity", "id": person.object_id}
    if person.display_name:
        user["displayName"] = person.display_name[:256]
    return {
        "@odata.type": "#microsoft.graph.invitationParticipantInfo",
        "identity": {"@odata.type": "#microsoft.graph.identitySet", "user": user},
    }


def _phone_info(e164: str) -> dict:
    return {
        "@odata.type": "#microsoft.graph.invitationParticipantInfo",
        "identity": {
            "@odata.type": "#microsoft.graph.identitySet",
            "phone": {"@odata.type": "#microsoft.graph.identity", "id": e164},
        },
    }


def _call_path(graph_id: str, action: str = "") -> str:
    # Graph ids are GUID-like; refuse anything that could walk out of the calls collection
    # ("..", "%2F", a newline: the id comes from Graph's answers and notifications).
    if not _CALL_ID.fullmatch(graph_id or ""):
        raise GraphError("not a call id", status=404, code="itemNotFound")
    return f"{CALLS}/{graph_id}" + (f"/{action}" if action else "")


def create_call(
    *,
    callback_uri: str,
    person: Person | None = None,
    phone: str = "",
    subject: str = "",
    from_resource_account: bool = False,
) -> PlacedCall:
    """Place a call to one person or one E.164 number; Graph answers 201 `establishing`.

    A call to a number, or one that may later be transferred to a number, is placed from the
    resource account (`from_resource_account`)."""
    if (person is None) == (not phone):
        raise ValueError("exactly one of person or phone")
    body = {
        "@odata.type": "#microsoft.graph.call",
        "callbackUri": callback_uri,
        "requestedModalities": ["audio"],
        "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
        "targets": [_person_info(person) if person else _phone_info(phone)],
        "tenantId": settings.MS_TENANT_ID,
    }
    if subject:
        body["subject"] = subject[:256]
    if phone or from_resource_account:
        # A PSTN call, or its transfer, comes from a resource account with a number (§6).
        instance = {
            "@odata.type": "#microsoft.graph.identity",
            "id": settings.CALLS_APP_INSTANCE_ID,
        }
        body["source"] = {
            "@odata.type": "#microsoft.graph.participantInfo",
            "identity": {
                "@odata.type": "#microsoft.graph.identitySet",
                "applicationInstance": instance,
            },
        }
    resp = _app_request("POST", CALLS, json=body, retry=False)
    data = resp.body if isinstance(resp.body, dict) else {}
    graph_id = str(data.get("id") or "")[:128]
    if not graph_id:
        raise GraphError(
            "Graph accepted the call but gave no id", status=resp.status, request_id=resp.request_id
        )
    return PlacedCall(graph_id, str(data.get("state") or "establishing")[:32], resp.request_id)


def transfer_call(
    graph_id: str, target: Person | None, replaces_call_id: str = "", *, phone: str = ""
) -> str:
    """Blind transfer to a person or an E.164 number (the call must then come from the resource
    account), or consultative when `replaces_call_id` names the consultation call."""
    if (target is None) == (not phone):
        raise ValueError("exactly one of target or phone")
    transfer_target = _person_info(target) if target else _phone_info(phone)
    transfer_target["endpointType"] = "default"
    if replaces_call_id:
        transfer_target["replacesCallId"] = replaces_call_id
    resp = _app_request(
        "POST",
        _call_path(graph_id, "transfer"),
        json={"transferTarget": transfer_target},
        retry=False,
    )
    return resp.request_id


def redirect_call(graph_id: str, targets: list[Person], timeout_seconds: int = 20) -> str:
    """Ring every target at once (1..25); the first to answer takes the call."""
    body = {
        "targets": [_person_info(t) for t in targets[:25]],
        "timeout": max(15, min(90, int(timeout_seconds))),
    }
    resp = _app_request("POST", _call_path(graph_id, "redirect"), json=body, retry=False)
    return resp.request_id


def end_call(graph_id: str) -> str:
    resp = _app_request("DELETE", _call_path(graph_id))
    return resp.request_id


def keep_alive(graph_id: str) -> str:
    """Without one at least every 45 minutes Graph ends the call (408/8537)."""
    resp = _app_request("POST", _call_path(graph_id, "keepAlive"))
    return resp.request_id


def my_grant_from(token_provider, delegator_id: str) -> LiveGrant | None:
    """The signed-in person's grant from `delegator_id`, asked live with their own token; None
    when Graph says there is none (404)."""
    if not delegator_id or "/" in delegator_id:
        return None
    client = GraphClient(token_provider, max_retries=1)
    try:
        resp = client.request(
            "GET", f"/me/communications/callSettings/delegators/{delegator_id}", version="beta"
        )
    except GraphError as exc:
        if exc.status == 404:
            return None
        raise
    finally:
        client.close()
    data = resp.body if isinstance(resp.body, dict) else {}
    actions = data.get("allowedActions") if isinstance(data.get("allowedActions"), dict) else {}
    return LiveGrant(
        is_active=data.get("isActive") is True,
        make_calls=actions.get(BY_FIELD["make_calls"].graph_key) is True,
        receive_calls=actions.get(BY_FIELD["receive_calls"].graph_key) is True,
    )
