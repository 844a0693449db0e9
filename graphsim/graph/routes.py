"""Graph's routes: which handler answers which path, and the permission it needs."""

from __future__ import annotations

import re
from typing import NamedTuple

from graphsim.calls import live, outgoing
from graphsim.graph import delegation, delegation_writes, delta, users

BOTH = ("v1.0", "beta")
BETA = ("beta",)
ANY_METHOD = "*"
PERSON = r"(?P<who>me|users/[^/]+)"
SETTINGS = PERSON + r"/communications/callSettings/(?P<kind>delegates|delegators)"
SETTINGS_TEMPLATE = "{who}/communications/callSettings/{kind}"
CALL = r"communications/calls/(?P<call>[^/]+)"


class Route(NamedTuple):
    versions: tuple
    method: str  # or ANY_METHOD
    pattern: re.Pattern
    template: str  # how stats name the route
    handler: object  # handler(sim, GraphRequest) -> Resp (or a coroutine of one)
    permission: str  # a key of graph.auth.PERMISSIONS


class RouteMatch(NamedTuple):
    template: str
    handler: object  # None: the path exists, but not for this method
    permission: str | None
    params: dict


def _route(versions, method, pattern, template, handler, permission) -> Route:
    return Route(versions, method, re.compile(pattern + "$", re.I), template, handler, permission)


ROUTES = [
    _route(BOTH, "GET", r"users", "users", users.list_users, "users"),
    _route(BOTH, "GET", r"users/delta(?:\(\))?", "users/delta", delta.delta, "users"),
    _route(BOTH, "GET", r"users/(?P<user>[^/]+)", "users/{id}", users.get_user, "users"),
    _route(BOTH, "GET", r"me", "me", users.me, "me"),
    _route(BETA, "GET", SETTINGS, SETTINGS_TEMPLATE, delegation.list_settings, "delegation"),
    _route(
        BETA, ANY_METHOD, SETTINGS, SETTINGS_TEMPLATE, delegation_writes.refuse_write, "delegation"
    ),
    _route(
        BETA,
        "GET",
        SETTINGS + r"/(?P<item>[^/]+)",
        SETTINGS_TEMPLATE + "/{id}",
        delegation.get_setting,
        "delegation",
    ),
    _route(
        BETA,
        ANY_METHOD,
        SETTINGS + r"/(?P<item>[^/]+)",
        SETTINGS_TEMPLATE + "/{id}",
        delegation_writes.refuse_write,
        "delegation",
    ),
    _route(
        BOTH, "POST", r"communications/calls", "communications/calls", outgoing.create_call, "calls"
    ),
    _route(BOTH, "GET", r"communications/calls", "communications/calls", live.list_calls, "calls"),
    _route(BOTH, "GET", CALL, "communications/calls/{id}", live.get_call, "calls"),
    _route(BOTH, "DELETE", CALL, "communications/calls/{id}", live.delete_call, "calls"),
    _route(
        BOTH,
        "GET",
        CALL + "/participants",
        "communications/calls/{id}/participants",
        live.participants,
        "calls",
    ),
    _route(
        BOTH,
        "POST",
        CALL + r"/(?P<action>transfer|redirect|keepAlive|answer|reject)",
        "communications/calls/{id}/{action}",
        live.call_action,
        "calls",
    ),
]


def match(version: str, method: str, path: str) -> RouteMatch | None:
    """The first route for the path and method; a match without handler when only the method
    is wrong (a 405); None for an unknown path."""
    wrong_method = None
    for route in ROUTES:
        if version not in route.versions:
            continue
        found = route.pattern.match(path)
        if found is None:
            continue
        if route.method not in (ANY_METHOD, method):
            wrong_method = route.template
            continue
        return RouteMatch(route.template, route.handler, route.permission, found.groupdict())
    if wrong_method:
        return RouteMatch(wrong_method, None, None, {})
    return None
