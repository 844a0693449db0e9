"""Change requests (the manage-delegations services): create, list, one's status, approve.
The services decide who may; their refusals come back as problems with the refusal codes."""

from __future__ import annotations

from ninja import Path, Query, Router, Status

from api import idempotency, pagination, schemas
from api.problems import ApiProblem, responses
from delegation.changes import selectors
from delegation.changes.services import decisions
from delegation.changes.services.request import ChangeRefused, request_change
from portal.db import newest_first

router = Router(tags=["change requests"])
ChangePage = schemas.page_of(schemas.ChangeRequest)
PAGE_SIZE = 50
STATUS_OF_CODE = {"not_allowed": 403, "own_request": 403, "not_found": 404, "key_reused": 409}


def _problem(refused: ChangeRefused) -> ApiProblem:
    status = next((STATUS_OF_CODE[c] for c in refused.codes if c in STATUS_OF_CODE), 422)
    if "not_waiting" in refused.codes:
        status = 409
    return ApiProblem(status, " ".join(refused.words), refused.codes)


@router.post("/change-requests", response=responses({201: schemas.ChangeRequest}, 409, 422))
def create_change_request(
    request, body: schemas.ChangeRequestIn, idempotency_key: str = idempotency.IdempotencyKey
):
    """Add, change (`after`) or remove (`after: null`) a delegate. Saved first, then applied
    through Graph (or waiting for approval) and verified; poll its status."""
    try:
        change = request_change(
            actor=request.auth,
            delegator_id=body.delegator_object_id,
            delegate_id=body.delegate_object_id,
            after=body.after.dict() if body.after else None,
            reason=body.reason,
            idempotency_key=idempotency_key,
            request=request,
        )
    except ChangeRefused as refused:
        raise _problem(refused) from refused
    return Status(201, change)


@router.get("/change-requests", response=responses({200: ChangePage}))
def list_change_requests(request, cursor: str = Query("", max_length=400)):
    """The requests the caller may see, newest first."""
    before = pagination.decode(cursor, "change-requests")
    rows, next_id = newest_first(selectors.requests_for_user(request.auth), before, PAGE_SIZE)
    return {
        "items": rows,
        "next_cursor": pagination.encode("change-requests", next_id) if next_id else None,
    }


@router.get("/change-requests/{request_id}", response=responses({200: schemas.ChangeRequest}, 404))
def get_change_request(request, request_id: int = Path(..., ge=1, le=2**62)):
    change = selectors.change_request_for_user(request.auth, request_id)
    if change is None:
        raise ApiProblem(404, "No such change request.", ["not_found"])
    return change


@router.post(
    "/change-requests/{request_id}/approve",
    response=responses({200: schemas.ChangeRequest}, 404, 409),
)
def approve_change_request(
    request,
    request_id: int = Path(..., ge=1, le=2**62),
    idempotency_key: str = idempotency.IdempotencyKey,
):
    """Approve a request awaiting approval (not one's own); it is then applied."""
    if idempotency.remembered(request.auth, "approve", idempotency_key) == request_id:
        return get_change_request(request, request_id)
    try:
        change = decisions.approve(actor=request.auth, request_id=request_id, request=request)
    except ChangeRefused as refused:
        raise _problem(refused) from refused
    idempotency.remember(request.auth, "approve", idempotency_key, request_id)
    return change
