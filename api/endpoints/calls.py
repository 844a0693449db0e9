"""Calls: the list and one call (as the calls pages restrict them), starting one, transferring
and ending one. The calls services hold the rules (capability, or a grant with makeCalls, with
the live re-check); an application needs the app role Calls.Initiate to write at all."""

from __future__ import annotations

from django import forms
from ninja import Path, Query, Router, Status

from api import idempotency, pagination, schemas
from api.auth import require
from api.problems import ApiProblem, responses
from calls import selectors
from calls.forms import normalise_phone
from calls.models import Call, CallAction
from calls.services.live import call_end, call_transfer
from calls.services.outcome import CallRefused
from calls.services.start import call_start
from portal.db import newest_first

router = Router(tags=["calls"])
CallPage = schemas.page_of(schemas.Call)
PAGE_SIZE = 50
CallId = Path(..., ge=1, le=2**62)
KEY_REUSED = ApiProblem(409, "This Idempotency-Key was used for another write.", ["key_reused"])


def _refused(refused: CallRefused) -> ApiProblem:
    return ApiProblem(403, refused.reason, ["call_refused"])


def _invalid(words: str) -> ApiProblem:
    return ApiProblem(422, words, ["invalid"])


def _app_may(request, capability: str) -> None:
    """An application writes with its app role Calls.Initiate only; a person's rights are
    decided by the calls services, as on the pages."""
    if request.api_caller.is_app:
        require(request, capability)


@router.get("/calls", response=responses({200: CallPage}))
def list_calls(request, cursor: str = Query("", max_length=400)):
    """Newest first: every call with Calls.Initiate (or helpdesk), else the caller's own."""
    before = pagination.decode(cursor, "calls")
    rows, next_id = newest_first(selectors.calls_for_user(request.auth), before, PAGE_SIZE)
    return {
        "items": [schemas.call_out(call) for call in rows],
        "next_cursor": pagination.encode("calls", next_id) if next_id else None,
    }


@router.get("/calls/{call_id}", response=responses({200: schemas.Call}, 404))
def get_call(request, call_id: int = CallId):
    return schemas.call_out(selectors.call_for_user(request.auth, call_id))


@router.post("/calls", response=responses({201: schemas.Call}, 409))
def start_call(request, body: schemas.CallIn, idempotency_key: str = idempotency.IdempotencyKey):
    """Place a call to a person or a number, one's own or on behalf of a delegator. Saved
    first, then placed through Graph by the worker; poll the call for its state."""
    _app_may(request, "place_calls_any")
    user = request.auth
    if Call.objects.filter(idempotency_key=idempotency_key).exclude(started_by=user).exists():
        raise KEY_REUSED
    try:
        result = call_start(
            user=user,
            idempotency_key=idempotency_key,
            request=request,
            **_start_arguments(request, body),
        )
    except CallRefused as refused:
        raise _refused(refused) from refused
    return Status(201, schemas.call_out(result.call, result.note))


def _start_arguments(request, body: schemas.CallIn) -> dict:
    if bool(body.person_object_id) == bool(body.phone):
        raise _invalid("Call either a person (person_object_id) or a phone number (phone).")
    object_id = (body.person_object_id or "").lower()
    person = selectors.directory_person(object_id) if object_id else None
    if object_id and person is None:
        raise _invalid("That person is not in the directory, or cannot be called.")
    try:
        phone = normalise_phone(body.phone) if body.phone else ""
    except forms.ValidationError as exc:
        raise _invalid(" ".join(exc.messages)) from exc
    ring_first = body.ring_me_first
    if request.api_caller.is_app and ring_first:
        raise _invalid("An application has no Teams line to ring first.")
    return {
        "person": person,
        "phone": phone,
        "on_behalf_of": _delegator(request.auth, body.on_behalf_of_object_id),
        "ring_me_first": not request.api_caller.is_app if ring_first is None else ring_first,
    }


def _delegator(user, object_id: str | None):
    """The delegator chosen, among those whose grant lets the caller make calls (the form's
    choices); the service then checks that grant again, live."""
    if not object_id:
        return None
    found = {d.object_id: d for d in selectors.eligible_delegators(user)}.get(object_id.lower())
    if found is None:
        raise ApiProblem(
            403, "That person does not let you make calls on their behalf.", ["call_refused"]
        )
    return found


def _action_key_free(user, call: Call, key: str) -> None:
    other = CallAction.objects.filter(idempotency_key=key).exclude(call=call, requested_by=user)
    if other.exists():
        raise KEY_REUSED


def _acted(request, call: Call, service, key: str, **arguments):
    _action_key_free(request.auth, call, key)
    try:
        result = service(
            user=request.auth, call=call, idempotency_key=key, request=request, **arguments
        )
    except CallRefused as refused:
        raise _refused(refused) from refused
    call.refresh_from_db()
    return Status(202, schemas.call_action_out(result.action, call))


@router.post("/calls/{call_id}/transfer", response=responses({202: schemas.CallAction}, 404, 409))
def transfer_call(
    request,
    body: schemas.TransferIn,
    call_id: int = CallId,
    idempotency_key: str = idempotency.IdempotencyKey,
):
    """Transfer a connected call (blind, or replacing one's consultation call). Sent to Graph
    by the worker; the call's state follows Microsoft's notifications."""
    _app_may(request, "act_on_any_call")
    call = selectors.call_for_user(request.auth, call_id)
    target = selectors.directory_person(body.target_object_id.lower())
    if target is None:
        raise _invalid("That person is not in the directory, or cannot be called.")
    replaces = None
    if body.replaces_call_id is not None:
        others = selectors.my_other_connected_calls(request.auth, call)
        replaces = others.filter(pk=body.replaces_call_id).first()
        if replaces is None:
            raise _invalid("The consultation call has ended or is not yours.")
    return _acted(request, call, call_transfer, idempotency_key, target=target, replaces=replaces)


@router.post("/calls/{call_id}/end", response=responses({202: schemas.CallAction}, 404, 409))
def end_call(request, call_id: int = CallId, idempotency_key: str = idempotency.IdempotencyKey):
    """Hang up a call (for everyone on it)."""
    _app_may(request, "act_on_any_call")
    call = selectors.call_for_user(request.auth, call_id)
    return _acted(request, call, call_end, idempotency_key)
