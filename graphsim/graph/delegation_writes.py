"""Call delegation on beta, write side: add, change and remove a person's delegates, as
Microsoft's generated Graph beta SDK sends them. Undocumented in Graph: graphsim accepts them
(`delegation_writes` = accept) or refuses every one as a tenant that does not support them
(reject: `delegation_write_status`, 405 by default)."""

from __future__ import annotations

import re
from typing import NamedTuple

from graphsim.answers import (
    Ctx,
    GraphRequest,
    Refusal,
    Resp,
    graph_error,
    method_not_allowed,
    resource_not_found,
)
from graphsim.graph.delegation import (
    delegation_settings,
    entity_context,
    find_setting,
    is_delegates,
    path_person,
    setting_id,
    setting_not_found,
)
from graphsim.tenant.model import ACTIONS, MAX_DELEGATES, MAX_DELEGATORS, actions_to_bits

WRITE_SCOPE = "CallDelegation.ReadWrite"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class SettingsChange(NamedTuple):
    """What a POST or PATCH body asks: the delegate (POST only), the actions it names, and
    isActive (None when not given)."""

    delegate: str | None
    actions: dict
    active: bool | None


def refuse_write(sim, request: GraphRequest) -> Resp:
    """The answer of a tenant that refuses delegate writes (`delegation_write_status`)."""
    status = sim.cfg.delegation_write_status
    if status == 501:
        return graph_error(
            request.ctx, 501, "NotImplemented", "The requested operation is not supported."
        )
    return method_not_allowed(request.ctx, status)


def unsupported_write(sim, request: GraphRequest) -> Resp:
    """Any other write on delegates or delegators: refused in reject mode, else a 405."""
    if sim.cfg.delegation_writes == "reject":
        return refuse_write(sim, request)
    return method_not_allowed(request.ctx)


def _check_write(sim, request: GraphRequest) -> None:
    """Refuses a write the tenant or the token does not allow (raises Refusal)."""
    ctx = request.ctx
    if sim.cfg.delegation_writes == "reject":
        raise Refusal(refuse_write(sim, request))
    if not is_delegates(request.params["kind"]):
        # Teams changes delegation from the delegator's side; the SDK's writes on
        # `delegators` are not supported here
        raise Refusal(method_not_allowed(ctx))
    if "scp" not in ctx.claims or WRITE_SCOPE not in ctx.claims["_scp"]:
        raise Refusal(
            graph_error(
                ctx,
                403,
                "Forbidden",
                f"Missing scope permissions on the request. API requires one of '{WRITE_SCOPE}'.",
            )
        )


def add_delegate(sim, request: GraphRequest) -> Resp:
    """POST .../delegates: 201 with the new delegationSettings and its Location."""
    _check_write(sim, request)
    ctx, tenant, kind = request.ctx, sim.tenant, request.params["kind"]
    delegator = path_person(sim, request)
    change = _settings_change(request.body, creating=True)
    delegate = tenant.find_user(change.delegate)
    if delegate is None:
        return resource_not_found(ctx, change.delegate)
    _check_new_grant(sim, ctx, delegator.id, delegate.id)
    bits = actions_to_bits(change.actions)  # an action not named is not allowed
    active = True if change.active is None else change.active
    grant = tenant.set_grant(delegator.id, delegate.id, active, None, bits, check=False)
    sid = setting_id(sim, grant, kind)
    body = {"@odata.context": entity_context(ctx, delegator, kind)}
    body.update(delegation_settings(grant, sid))
    location = f"{ctx.base}/beta/users/{delegator.id}/communications/callSettings/{kind}/{sid}"
    return Resp(201, body, {"Location": location})


def _check_new_grant(sim, ctx: Ctx, delegator: str, delegate: str) -> None:
    """Refuses self-delegation, a delegate already there, and a grant past Teams' limits."""
    tenant = sim.tenant
    if delegator == delegate:
        raise ValueError("A person cannot be their own delegate.")
    if tenant.get_grant(delegator, delegate) is not None:
        message = f"'{delegate}' is already a delegate of '{delegator}'."
        raise Refusal(graph_error(ctx, 409, "delegateAlreadyExists", message))
    if len(tenant.delegates_of.get(delegator, ())) >= MAX_DELEGATES:
        why = f"'{delegator}' already has {MAX_DELEGATES} delegates"
        raise _limit_reached(ctx, "delegatesLimitReached", why)
    if len(tenant.delegators_of.get(delegate, ())) >= MAX_DELEGATORS:
        why = f"'{delegate}' is already a delegate of {MAX_DELEGATORS} people"
        raise _limit_reached(ctx, "delegatorsLimitReached", why)


def _limit_reached(ctx: Ctx, code: str, why: str) -> Refusal:
    return Refusal(graph_error(ctx, 400, code, f"{why}, the most Teams allows."))


def change_delegate(sim, request: GraphRequest) -> Resp:
    """PATCH .../delegates/{id}: the actions named replace those; 204, as Graph's updates."""
    _check_write(sim, request)
    grant = _existing(sim, request)
    change = _settings_change(request.body, creating=False)
    grant.bits = actions_to_bits(change.actions, grant.bits)
    if change.active is not None:
        grant.active = change.active
    return Resp(204, None)


def remove_delegate(sim, request: GraphRequest) -> Resp:
    """DELETE .../delegates/{id} (an If-Match header is accepted and not checked): 204."""
    _check_write(sim, request)
    grant = _existing(sim, request)
    sim.tenant.remove_grant(grant.delegator, grant.delegate)
    return Resp(204, None)


def _existing(sim, request: GraphRequest):
    kind, item = request.params["kind"], request.params["item"]
    delegator = path_person(sim, request)
    grant = find_setting(sim, delegator, kind, item)
    if grant is None:
        raise Refusal(setting_not_found(request.ctx, delegator, kind, item))
    return grant


def _settings_change(body, creating: bool) -> SettingsChange:
    """A delegationSettings body, checked (ValueError says what is wrong). It is an open type:
    unknown properties (and `@odata.type`) are ignored."""
    if not isinstance(body, dict):
        raise ValueError("The body must be a delegationSettings object.")
    delegate = None
    if creating:
        delegate = body.get("id")
        if not isinstance(delegate, str) or not GUID.match(delegate):
            raise ValueError("id must be the delegate's object id (a GUID).")
    actions = body.get("allowedActions") or {}
    if not isinstance(actions, dict):
        raise ValueError("allowedActions must be an object.")
    named = {name: actions[name] for name in ACTIONS if name in actions}
    for name, allowed in named.items():
        if not isinstance(allowed, bool):
            raise ValueError(f"allowedActions/{name} must be true or false.")
    active = body.get("isActive")
    if active is not None and not isinstance(active, bool):
        raise ValueError("isActive must be true or false.")
    return SettingsChange(delegate, named, active)
