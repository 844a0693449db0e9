"""Call delegation on beta, read side: a person's delegates or delegators, listed (with $filter,
$count and optional paging) or one by id."""

from __future__ import annotations

import re

from graphsim.answers import (
    GraphRequest,
    Refusal,
    Resp,
    graph_error,
    me_needs_delegated_token,
    resource_not_found,
)
from graphsim.graph.paging import next_link, skip_offset
from graphsim.tenant.model import ACTIONS, ACTIONS_OF, ALL_ACTIONS, Grant, User, iso

FILTER_CLAUSE = re.compile(r"^\s*(allowedActions/(\w+)|isActive)\s+eq\s+(true|false)\s*$", re.I)
ACTION_CANON = {name.lower(): name for name in ACTIONS}
SETTINGS_TYPE = "#microsoft.graph.delegationSettings"


def path_person(sim, request: GraphRequest) -> User:
    """The person of `/me/...` or `/users/{id}/...` (refused: app token on /me, unknown id)."""
    ctx, who = request.ctx, request.params["who"]
    if who.lower() == "me":
        if "scp" not in ctx.claims:
            raise Refusal(me_needs_delegated_token(ctx))
        ref = ctx.claims["oid"]
    else:
        ref = who.split("/", 1)[1]
    user = sim.tenant.find_user(ref)
    if user is None:
        raise Refusal(resource_not_found(ctx, ref))
    return user


def is_delegates(kind: str) -> bool:
    return kind.lower() == "delegates"


def grants_of(sim, user: User, kind: str) -> list[Grant]:
    index = sim.tenant.delegates_of if is_delegates(kind) else sim.tenant.delegators_of
    return index.get(user.id, ())


def setting_id(sim, grant: Grant, kind: str) -> str:
    """A delegationSettings' id: the other person's object id (or, in the `grant` id mode, an
    id of the grant itself; the contract leaves it unconfirmed)."""
    if sim.cfg.delegation_id_mode == "grant":
        return sim.tenant.gid(grant)
    return grant.delegate if is_delegates(kind) else grant.delegator


def find_setting(sim, user: User, kind: str, item: str) -> Grant | None:
    for grant in grants_of(sim, user, kind):
        if setting_id(sim, grant, kind) == item:
            return grant
    return None


def delegation_settings(grant: Grant, sid: str) -> dict:
    return {
        "@odata.type": SETTINGS_TYPE,
        "id": sid,
        "createdDateTime": iso(grant.created),
        "isActive": grant.active,
        "allowedActions": ACTIONS_OF[grant.bits & ALL_ACTIONS],
    }


def entity_context(ctx, user: User, kind: str) -> str:
    return (
        f"{ctx.base}/beta/$metadata#users('{user.id}')/communications/callSettings/{kind}/$entity"
    )


def get_setting(sim, request: GraphRequest) -> Resp:
    ctx, kind, item = request.ctx, request.params["kind"], request.params["item"]
    user = path_person(sim, request)
    grant = find_setting(sim, user, kind, item)
    if grant is None:
        raise Refusal(setting_not_found(ctx, user, kind, item))
    body = {"@odata.context": entity_context(ctx, user, kind)}
    body.update(delegation_settings(grant, item))
    return Resp(200, body)


def setting_not_found(ctx, user: User, kind: str, item: str) -> Resp:
    return graph_error(
        ctx, 404, "itemNotFound", f"No delegation '{item}' in {kind} of user '{user.id}'."
    )


def list_settings(sim, request: GraphRequest) -> Resp:
    ctx, query, kind = request.ctx, request.query, request.params["kind"]
    user = path_person(sim, request)
    text_filter = query.get("$filter") or query.get("filter")
    grants = list(grants_of(sim, user, kind))
    if text_filter:
        matches = _settings_filter(text_filter)
        grants = [grant for grant in grants if matches(grant)]
    count = (query.get("$count") or query.get("count") or "").lower()
    if count not in ("", "true", "false"):
        raise ValueError("$count must be true or false.")
    body = {
        "@odata.context": f"{ctx.base}/beta/$metadata#users('{user.id}')/communications/"
        f"callSettings/{kind}"
    }
    if count == "true":
        body["@odata.count"] = len(grants)
    offset = skip_offset(sim, ctx, query, "dl")
    size = sim.cfg.delegation_page_size
    if size > 0:
        page = grants[offset : offset + size]
        if offset + size < len(grants):
            body["@odata.nextLink"] = next_link(
                f"{ctx.base}/beta/{request.params['who']}/communications/callSettings/{kind}",
                [
                    ("$filter", text_filter),
                    ("$count", count),
                    ("$skiptoken", sim.opaque.encode("dl", offset + size)),
                ],
            )
    else:
        page = grants
    body["value"] = [delegation_settings(grant, setting_id(sim, grant, kind)) for grant in page]
    return Resp(200, body)


def _settings_filter(text: str):
    """`allowedActions/<action> eq true|false` and `isActive eq true|false`, joined by `and`."""
    predicates = []
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.I):
        found = FILTER_CLAUSE.match(clause)
        if found is None:
            raise ValueError(f"Invalid filter clause: {text}")
        wanted = found.group(3).lower() == "true"
        if found.group(2):
            name = ACTION_CANON.get(found.group(2).lower())
            if name is None:
                raise ValueError(
                    f"Could not find a property named '{found.group(2)}' on "
                    "type 'microsoft.graph.allowedActions'."
                )
            bit = 1 << ACTIONS.index(name)
            predicates.append(
                lambda grant, bit=bit, wanted=wanted: bool(grant.bits & bit) == wanted
            )
        else:
            predicates.append(lambda grant, wanted=wanted: grant.active == wanted)
    return lambda grant: all(predicate(grant) for predicate in predicates)
