"""Users: the listing with $select, $top, $filter, $expand=manager and paging; one user; /me."""

from __future__ import annotations

import re

from graphsim.answers import GraphRequest, Resp, resource_not_found
from graphsim.graph.paging import next_link, skip_offset
from graphsim.tenant.model import DEFAULT_SELECT, USER_PROPS

SELECT_CANON = {prop.lower(): prop for prop in USER_PROPS}
USER_FILTER = re.compile(
    r"^\s*(?:startswith\((\w+),\s*'((?:[^']|'')*)'\)"
    r"|(\w+)\s+eq\s+(?:'((?:[^']|'')*)'|(true|false)))\s*$",
    re.I,
)
FILTERABLE = {
    "displayname",
    "userprincipalname",
    "mail",
    "givenname",
    "surname",
    "jobtitle",
    "department",
    "id",
    "accountenabled",
}


def user_filter(text: str):
    """The basics of $filter on users: startswith(prop,'x'), prop eq 'x' | true | false,
    joined by `and`. Anything else is a 400, as Graph answers unsupported queries."""
    predicates = []
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.I):
        found = USER_FILTER.match(clause)
        if found is None:
            raise ValueError(f"Unsupported or invalid query filter clause: {clause}")
        starts_prop, starts_value, eq_prop, eq_text, eq_bool = found.groups()
        prop = (starts_prop or eq_prop).lower()
        if prop not in FILTERABLE:
            raise ValueError(f"Unsupported or invalid query filter clause: {clause}")
        attr = SELECT_CANON[prop] if prop != "id" else "id"
        if starts_prop:
            prefix = starts_value.replace("''", "'").lower()
            predicates.append(
                lambda user, attr=attr, prefix=prefix: (
                    (getattr(user, attr) or "").lower().startswith(prefix)
                )
            )
        elif eq_bool:
            wanted = eq_bool.lower() == "true"
            predicates.append(lambda user, attr=attr, wanted=wanted: getattr(user, attr) is wanted)
        else:
            value = eq_text.replace("''", "'").lower()
            predicates.append(
                lambda user, attr=attr, value=value: str(getattr(user, attr) or "").lower() == value
            )
    return lambda user: all(predicate(user) for predicate in predicates)


def parse_select(query: dict) -> tuple[tuple, str]:
    """The properties to return (id always among them) and $select as it was written."""
    raw = query.get("$select") or query.get("select")
    if not raw:
        return DEFAULT_SELECT, ""
    props = []
    for name in raw.split(","):
        name = name.strip()
        prop = SELECT_CANON.get(name.lower())
        if prop is None:
            raise ValueError(
                f"Could not find a property named '{name}' on type 'microsoft.graph.user'."
            )
        if prop not in props:
            props.append(prop)
    if "id" not in props:
        props.append("id")
    return tuple(props), raw


# $expand=manager, optionally with its own $select ("manager($select=id)"): what Graph allows on
# the users listing ($levels only on one user). Graph's known issue: $expand on a collection of
# directory objects returns at most 100 of them per page, whatever $top asks for.
EXPAND_MANAGER = re.compile(r"^\s*manager(?:\(\s*\$select=([\w,\s]+)\))?\s*$", re.I)
EXPAND_PAGE_LIMIT = 100


def parse_expand(query: dict) -> tuple | None:
    """The manager's properties to return when $expand asks for the manager, else None."""
    raw = query.get("$expand")
    if raw is None:
        return None
    found = EXPAND_MANAGER.match(raw)
    if found is None:
        raise ValueError(f"Parsing OData Select and Expand failed: could not expand '{raw}'.")
    props, _ = parse_select({"$select": found.group(1)} if found.group(1) else {})
    return props


def with_manager(sim, user, body: dict, props: tuple) -> dict:
    """`body` with the user's manager expanded (absent when they have none, as Graph does)."""
    manager = sim.tenant.users.get(user.manager or "")
    if manager is not None:
        body["manager"] = {"@odata.type": "#microsoft.graph.user", **manager.to_graph(props)}
    return body


def _page_size(sim, raw: str | None) -> int:
    if raw is None:
        return sim.cfg.users_default_top
    try:
        top = int(raw)
    except ValueError:
        top = -1
    if not 1 <= top <= 999:
        raise ValueError(
            f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive."
        )
    return top


def list_users(sim, request: GraphRequest) -> Resp:
    ctx, query = request.ctx, request.query
    select, raw_select = parse_select(query)
    if "$search" in query or "$orderby" in query:
        raise ValueError("graphsim supports $select, $top, $filter and $skiptoken on /users.")
    text_filter = query.get("$filter")
    top_raw = query.get("$top")
    top = _page_size(sim, top_raw)
    expand = parse_expand(query)
    if expand is not None:
        top = min(top, EXPAND_PAGE_LIMIT)
    offset = skip_offset(sim, ctx, query, "u")
    users = sim.tenant.users
    order = sim.tenant.order
    if text_filter:
        matches = user_filter(text_filter)
        order = [uid for uid in order if matches(users[uid])]
    body = {
        "@odata.context": f"{ctx.base}/{ctx.version}/$metadata#users"
        + (f"({','.join(select)})" if raw_select else "")
    }
    if offset + top < len(order):
        body["@odata.nextLink"] = next_link(
            f"{ctx.base}/{ctx.version}/users",
            [
                ("$select", raw_select),
                ("$filter", text_filter),
                ("$expand", query.get("$expand", "")),
                ("$top", str(top) if top_raw is not None else ""),
                ("$skiptoken", sim.opaque.encode("u", offset + top)),
            ],
        )
    page = [users[uid] for uid in order[offset : offset + top]]
    if expand is None:
        body["value"] = [user.to_graph(select) for user in page]
    else:
        body["value"] = [with_manager(sim, user, user.to_graph(select), expand) for user in page]
    return Resp(200, body)


def _one_user(sim, request: GraphRequest, ref: str) -> Resp:
    ctx = request.ctx
    select, _ = parse_select(request.query)
    expand = parse_expand(request.query)
    user = sim.tenant.find_user(ref)
    if user is None:
        return resource_not_found(ctx, ref)
    body = {"@odata.context": f"{ctx.base}/{ctx.version}/$metadata#users/$entity"}
    body.update(user.to_graph(select))
    return Resp(200, body if expand is None else with_manager(sim, user, body, expand))


def get_user(sim, request: GraphRequest) -> Resp:
    return _one_user(sim, request, request.params["user"])


def me(sim, request: GraphRequest) -> Resp:
    return _one_user(sim, request, request.ctx.claims["oid"])
