"""Graph's routes: which handler answers which path, and the permission it needs."""

from __future__ import annotations

import re
from typing import NamedTuple

from graphsim.calls import live, outgoing
from graphsim.graph import delegation, delta, users
from graphsim.graph import delegation_writes as writes

BOTH = ("v1.0", "beta")
BETA = ("beta",)
ANY_METHOD = "*"
PERSON = r"(?P<who>me|users/[^/]+)"
SETTINGS = PERSON + r"/communications/callSettings/(?P<kind>delegates|delegators)"
SETTINGS_NAME = "{who}/communications/callSettings/{kind}"
SETTING = SETTINGS + r"/(?P<item>[^/]+)"
SETTING_NAME = SETTINGS_NAME + "/{id}"
CALLS = "communications/calls"
CALL = CALLS + r"/(?P<call>[^/]+)"
CALL_NAME = CALLS + "/{id}"
CALL_ACTION = CALL + r"/(?P<action>transfer|redirect|keepAlive|answer|reject)"


class Route(NamedTuple):
    versions: tuple
    method: str  # or ANY_METHOD
    pattern: re.Pattern
    template: str  # the route's name in stats
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
    _route(BETA, "GET", SETTINGS, SETTINGS_NAME, delegation.list_settings, "delegation"),
    _route(BETA, "POST", SETTINGS, SETTINGS_NAME, writes.add_delegate, "delegation"),
    _route(BETA, ANY_METHOD, SETTINGS, SETTINGS_NAME, writes.unsupported_write, "delegation"),
    _route(BETA, "GET", SETTING, SETTING_NAME, delegation.get_setting, "delegation"),
    _route(BETA, "PATCH", SETTING, SETTING_NAME, writes.change_delegate, "delegation"),
    _route(BETA, "DELETE", SETTING, SETTING_NAME, writes.remove_delegate, "delegation"),
    _route(BETA, ANY_METHOD, SETTING, SETTING_NAME, writes.unsupported_write, "delegation"),
    _route(BOTH, "POST", CALLS, CALLS, outgoing.create_call, "calls"),
    _route(BOTH, "GET", CALLS, CALLS, live.list_calls, "calls"),
    _route(BOTH, "GET", CALL, CALL_NAME, live.get_call, "calls"),
    _route(BOTH, "DELETE", CALL, CALL_NAME, live.delete_call, "calls"),
    _route(
        BOTH, "GET", CALL + "/participants", CALL_NAME + "/participants", live.participants, "calls"
    ),
    _route(BOTH, "POST", CALL_ACTION, CALL_NAME + "/{action}", live.call_action, "calls"),
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
