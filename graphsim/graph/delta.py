"""users/delta: a first round pages through everyone, later rounds return only the changes
(removed people as `@removed`). Tokens carry the tenant's epoch: bumping it expires them all.

`manager` in $select (delta takes no $expand) adds `manager@delta`: the manager as a one-item
list of references, or, once the manager was taken away, the former one marked `@removed`."""

from __future__ import annotations

from graphsim.answers import GraphRequest, Resp, graph_error
from graphsim.graph.users import parse_select

TOKEN_KINDS = ("dt", "di", "dc")  # deltaLink, initial round page, changes page


def delta(sim, request: GraphRequest) -> Resp:
    ctx, query, tenant = request.ctx, request.query, sim.tenant
    if "$deltatoken" in query or "$skiptoken" in query:
        token = query.get("$deltatoken") or query.get("$skiptoken")
        if token == "latest":
            return _latest(sim, request)
        parts = sim.opaque.decode(token)
        if not parts or parts[0] not in TOKEN_KINDS or int(parts[1]) != tenant.epoch:
            return graph_error(
                ctx,
                400,
                "syncStateNotFound",
                "The specified sync state was not found or has expired. Start a new sync.",
            )
    else:
        raw_select = query.get("$select") or query.get("select") or ""
        _select(raw_select)  # refused here (400) when it names an unknown property
        parts = ["start", tenant.epoch, raw_select]
    raw_select = parts[-1]  # the $select sticks to the links, as Graph does
    select = _select(raw_select)
    if parts[0] in ("start", "di"):
        value, next_token, v_to = _everyone_page(sim, parts, select)
    else:
        value, next_token, v_to = _changes_page(sim, parts, select)
    body = {"@odata.context": f"{ctx.base}/{ctx.version}/$metadata#users"}
    url = f"{ctx.base}/{ctx.version}/users/delta"
    if next_token:
        body["@odata.nextLink"] = f"{url}?$skiptoken={next_token}"
    else:
        delta_token = sim.opaque.encode("dt", tenant.epoch, v_to, raw_select)
        body["@odata.deltaLink"] = f"{url}?$deltatoken={delta_token}"
    body["value"] = value
    return Resp(200, body)


def _latest(sim, request: GraphRequest) -> Resp:
    """`$deltatoken=latest`: no people, only a deltaLink from now on."""
    ctx, tenant = request.ctx, sim.tenant
    raw_select = request.query.get("$select") or request.query.get("select") or ""
    _select(raw_select)
    token = sim.opaque.encode("dt", tenant.epoch, tenant.version, raw_select)
    return Resp(
        200,
        {
            "@odata.context": f"{ctx.base}/{ctx.version}/$metadata#users",
            "@odata.deltaLink": f"{ctx.base}/{ctx.version}/users/delta?$deltatoken={token}",
            "value": [],
        },
    )


def _select(raw: str) -> tuple[tuple, bool]:
    """The user properties to return, and whether `manager` was asked for."""
    names = [name.strip() for name in raw.split(",")] if raw else []
    wants_manager = any(name.lower() == "manager" for name in names)
    rest = ",".join(name for name in names if name.lower() != "manager")
    props, _ = parse_select({"$select": rest} if rest else {})
    return props, wants_manager


def _person(sim, user, select: tuple) -> dict:
    props, wants_manager = select
    out = user.to_graph(props)
    if wants_manager:
        ref = {"@odata.type": "#microsoft.graph.user"}
        if user.manager in sim.tenant.users:
            out["manager@delta"] = [{**ref, "id": user.manager}]
        elif user.former_manager:
            removed = {"@removed": {"reason": "deleted"}}
            out["manager@delta"] = [{**ref, "id": user.former_manager, **removed}]
    return out


def _everyone_page(sim, parts: list, select) -> tuple[list, str | None, int]:
    """A page of the first round: everyone as of version v_to."""
    tenant, size = sim.tenant, sim.cfg.delta_page_size
    if parts[0] == "start":
        v_to, offset = tenant.version, 0
    else:
        v_to, offset = int(parts[2]), int(parts[3])
    users = tenant.users
    value = [_person(sim, users[uid], select) for uid in tenant.order[offset : offset + size]]
    next_token = None
    if offset + size < len(tenant.order):
        next_token = sim.opaque.encode("di", tenant.epoch, v_to, offset + size, parts[-1])
    return value, next_token, v_to


def _changes_page(sim, parts: list, select) -> tuple[list, str | None, int]:
    """A page of a later round: who changed between v_from and v_to."""
    tenant, size = sim.tenant, sim.cfg.delta_page_size
    if parts[0] == "dt":
        v_from, v_to, offset = int(parts[2]), tenant.version, 0
    else:
        v_from, v_to, offset = int(parts[2]), int(parts[3]), int(parts[4])
    changes = tenant.changes_between(v_from, v_to)
    value = []
    for uid, reason in changes[offset : offset + size]:
        user = tenant.users.get(uid)
        if user is None or reason is not None:
            value.append({"id": uid, "@removed": {"reason": reason or "deleted"}})
        else:
            value.append(_person(sim, user, select))
    next_token = None
    if offset + size < len(changes):
        next_token = sim.opaque.encode("dc", tenant.epoch, v_from, v_to, offset + size, parts[-1])
    return value, next_token, v_to
