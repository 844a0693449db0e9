"""Adding, changing and removing one delegate through Graph beta (GRAPH_CONTRACT §2, §9).

The writes are undocumented: a tenant may refuse them. Every failure is one of three kinds, and
the caller branches on the type:

- `WriteRefused`: the tenant does not take Graph writes (405, 501, any 403, or a 400 whose code
  is not one of a known request problem). Nothing was done; hand the request to Teams PowerShell.
  A 400 of unknown meaning falls back too: PowerShell then reports the real problem, and the
  request is not lost as a failure Graph never explained.
- `WriteRejected`: a definite no with Graph's reason (404 no such person or delegate, 409 already
  a delegate, a known 400 such as a limit, 401 after a refreshed token). Nothing was done.
- `WriteOutcomeUnknown`: no answer, a timeout, 408/429 or a 5xx. The write may or may not have
  happened: settle it by `read_delegates`, never by sending it again blindly. So a POST and a
  DELETE are sent once (`retry=False`); a PATCH, which gives the same result twice, keeps the
  client's retries.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal.allowed_actions import BY_FIELD, FIELDS, bit
from portal.graph.client import GraphClient
from portal.graph.delegations import (
    MAX_DELEGATES_PER_PAGE,
    delegates_url,
    grant_from_item,
    unpack,
)
from portal.graph.directory import is_object_id
from portal.graph.errors import GraphError, is_retryable

VERSION = "beta"
# 400 codes that describe the request itself, not the tenant's refusal (compared lower-case).
# Graph documents none for these writes: the limit codes are the ones graphsim answers (its
# README); any other 400 is taken as the tenant refusing writes, so PowerShell loses nothing.
REQUEST_PROBLEM_CODES = frozenset(
    {
        "invalidrequest",
        "request_invalidvalue",
        "limitexceeded",
        "quotaexceeded",
        "delegateslimitreached",
        "delegatorslimitreached",
    }
)


class WriteError(GraphError):
    """A delegate write failed; the subclass says what it means."""

    @classmethod
    def from_error(cls, error: GraphError) -> WriteError:
        return cls(
            error.message,
            status=error.status,
            code=error.code,
            request_id=error.request_id,
            client_request_id=error.client_request_id,
            retry_after=error.retry_after,
        )


class WriteRefused(WriteError):
    """The tenant does not accept delegate writes through Graph: use Teams PowerShell."""


class WriteRejected(WriteError):
    """Graph said no to this request, with its reason; nothing changed."""


class WriteOutcomeUnknown(WriteError):
    """No clear answer: re-read the delegator's delegates to learn what Teams holds."""


def classify(error: GraphError) -> WriteError:
    status = error.status
    if is_retryable(status):
        return WriteOutcomeUnknown.from_error(error)
    if status in (405, 501, 403):
        return WriteRefused.from_error(error)
    if status == 400 and error.code.lower() not in REQUEST_PROBLEM_CODES:
        return WriteRefused.from_error(error)
    return WriteRejected.from_error(error)


def _checked(*object_ids: str) -> None:
    for object_id in object_ids:
        if not is_object_id(object_id):
            raise ValueError(f"{object_id!r} is not an object id")


def allowed_actions_body(actions: Mapping[str, bool], *, complete: bool) -> dict[str, bool]:
    """Graph's allowedActions from our field names. `complete`: all five must be given (an add,
    as New-CsUserCallingDelegate wants them); else only those given are sent (a PATCH)."""
    unknown = set(actions) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown allowed actions: {', '.join(sorted(unknown))}")
    if complete and set(actions) != set(FIELDS):
        missing = ", ".join(field for field in FIELDS if field not in actions)
        raise ValueError(f"an add needs all five allowed actions; missing: {missing}")
    return {BY_FIELD[field].graph_key: bool(actions[field]) for field in FIELDS if field in actions}


def add_body(delegate_id: str, actions: Mapping[str, bool], is_active: bool = True) -> dict:
    return {
        "id": delegate_id,
        "allowedActions": allowed_actions_body(actions, complete=True),
        "isActive": bool(is_active),
    }


def update_body(actions: Mapping[str, bool], is_active: bool | None = None) -> dict:
    body: dict = {}
    if actions:
        body["allowedActions"] = allowed_actions_body(actions, complete=False)
    if is_active is not None:
        body["isActive"] = bool(is_active)
    if not body:
        raise ValueError("an update must change something")
    return body


def _send(client: GraphClient, method: str, path: str, *, json=None, retry: bool) -> str:
    """Graph's request-id of the answer, or the classified WriteError."""
    try:
        answer = client.request(method, path, version=VERSION, json=json, retry=retry)
    except GraphError as error:
        raise classify(error) from error
    return answer.request_id


def add_delegate(
    client: GraphClient,
    delegator_id: str,
    delegate_id: str,
    actions: Mapping[str, bool],
    is_active: bool = True,
) -> str:
    _checked(delegator_id, delegate_id)
    body = add_body(delegate_id, actions, is_active)
    return _send(client, "POST", delegates_url(delegator_id), json=body, retry=False)


def update_delegate(
    client: GraphClient,
    delegator_id: str,
    delegate_id: str,
    actions: Mapping[str, bool],
    is_active: bool | None = None,
) -> str:
    _checked(delegator_id, delegate_id)
    body = update_body(actions, is_active)
    path = f"{delegates_url(delegator_id)}/{delegate_id}"
    return _send(client, "PATCH", path, json=body, retry=True)


def remove_delegate(client: GraphClient, delegator_id: str, delegate_id: str) -> str:
    _checked(delegator_id, delegate_id)
    path = f"{delegates_url(delegator_id)}/{delegate_id}"
    return _send(client, "DELETE", path, retry=False)


def snapshot_of(packed: int) -> dict[str, bool]:
    """{is_active, five fields} of a packed grant (the sync's compact form)."""
    is_active, bits, _ = unpack(packed)
    return {"is_active": is_active, **{field: bool(bits & bit(field)) for field in FIELDS}}


def snapshot_from_item(item) -> tuple[str, dict[str, bool]] | None:
    """(delegate id, {is_active, five fields}) from one delegationSettings, through the sync's
    own parser `grant_from_item`; None when the item is not one it trusts."""
    grant = grant_from_item(item)
    if grant is None:
        return None
    delegate_id, packed = grant
    return delegate_id, snapshot_of(packed)


def read_delegates_packed(client: GraphClient, delegator_id: str) -> dict[str, int]:
    """One delegator's delegates as Teams holds them now: delegate id -> packed grant (the
    sync's form, createdDateTime included, so a cache row written from it is one the next sync
    finds unchanged). Raises GraphError when the answer cannot be trusted whole: a
    verification must not guess."""
    _checked(delegator_id)
    delegates: dict[str, int] = {}
    # Not client.iter_pages: it reads a missing or garbled `value` as an empty page, and an
    # empty page would "verify" a removal that never happened.
    body = client.get(delegates_url(delegator_id), version=VERSION)
    while True:
        value = body.get("value")
        if not isinstance(value, list) or len(value) > MAX_DELEGATES_PER_PAGE:
            raise GraphError("Graph answered a delegates list we cannot read", status=502)
        for item in value:
            parsed = grant_from_item(item)
            if parsed is None:
                raise GraphError("Graph answered a delegate we cannot read", status=502)
            delegates[parsed[0]] = parsed[1]
        link = body.get("@odata.nextLink")
        if not isinstance(link, str) or not link:
            return delegates
        body = client.get(link)  # url_for refuses a link off Graph's host


def read_delegates(client: GraphClient, delegator_id: str) -> dict[str, dict[str, bool]]:
    """One delegator's delegates as Teams holds them now: delegate id -> snapshot. Raises
    GraphError when the answer cannot be trusted whole."""
    packed = read_delegates_packed(client, delegator_id)
    return {delegate_id: snapshot_of(grant) for delegate_id, grant in packed.items()}
