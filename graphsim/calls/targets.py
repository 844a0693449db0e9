"""Checks shared by the call handlers: callback URIs, call targets, and finding a call."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from graphsim.answers import Ctx, Refusal, graph_error
from graphsim.calls.model import Call, Target
from graphsim.loopback import is_loopback_host

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def callback_problem(sim, uri) -> str | None:
    """What is wrong with a callbackUri (https; http on loopback unless strict), or None."""
    if not isinstance(uri, str) or not uri:
        return "callbackUri is required."
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "callbackUri is not a valid URL."
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and is_loopback_host(parts.hostname) and not sim.cfg.strict_callbacks:
        return None
    return "callbackUri must be an https URL."


def call_target(sim, info) -> Target:
    """An invitationParticipantInfo as a Target; ValueError says what is wrong with it."""
    if not isinstance(info, dict) or not isinstance(info.get("identity"), dict):
        raise ValueError("Each target needs an identity.")
    identity = info["identity"]
    if isinstance(identity.get("user"), dict) and identity["user"].get("id"):
        uid = identity["user"]["id"]
        user = sim.tenant.find_user(uid)
        if user is None:
            raise ValueError(f"Target user '{uid}' was not found in the tenant.")
        return Target("user", user.id)
    if isinstance(identity.get("phone"), dict) and identity["phone"].get("id"):
        number = str(identity["phone"]["id"])
        if not E164.match(number):
            raise ValueError(f"Phone number '{number}' is not in E.164 format.")
        return Target("phone", number)
    if isinstance(identity.get("applicationInstance"), dict) or isinstance(
        identity.get("application"), dict
    ):
        raise ValueError("Calls to applications are not supported by graphsim.")
    raise ValueError("Each target identity needs a user or a phone.")


def call_targets(sim, infos: list) -> list[Target]:
    return [call_target(sim, info) for info in infos]


def behaviour_of(sim, target: Target) -> str | None:
    """How a target answers: the person's callBehavior (None: picks up); phones pick up."""
    if target.kind != "user":
        return None
    user = sim.tenant.users.get(target.ref)
    return user.callBehavior if user is not None else "unreachable"


def find_call(sim, ctx: Ctx, cid: str) -> Call:
    call = sim.calls.calls.get(cid)
    if call is None:
        raise Refusal(call_not_found(ctx, cid))
    return call


def call_not_found(ctx: Ctx, cid: str):
    return graph_error(ctx, 404, "itemNotFound", f"Call '{cid}' was not found.")
