"""Placing a call (POST /communications/calls) and how it then progresses: establishing, then
established, or ended as no answer or unreachable, with the notifications out of order or twice
as the disorder setting asks."""

from __future__ import annotations

import asyncio

from graphsim.answers import GraphRequest, Resp, bad_request, graph_error
from graphsim.calls.model import NOT_ANSWERING, Call, Target, call_resource, entity_context
from graphsim.calls.notify import end_call, notify, set_state
from graphsim.calls.targets import behaviour_of, call_targets, callback_problem

MAX_USER_TARGETS = 5


def create_call(sim, request: GraphRequest) -> Resp:
    ctx, body = request.ctx, request.body
    if not isinstance(body, dict):
        return bad_request(ctx, "A call body is required.")
    problem = callback_problem(sim, body.get("callbackUri"))
    if problem:
        return bad_request(ctx, problem)
    if not isinstance(body.get("mediaConfig"), dict):
        return bad_request(ctx, "mediaConfig is required.")
    infos = body.get("targets")
    if not isinstance(infos, list) or not infos:
        return bad_request(ctx, "At least one target is required.")
    targets = call_targets(sim, infos)
    refused = _refusal(sim, request, targets)
    if refused is not None:
        return refused
    call = _new_call(sim, body, targets)
    out = {"@odata.context": entity_context(ctx)}
    out.update(call_resource(call))
    location = f"{ctx.base}/{ctx.version}/communications/calls/{call.id}"
    return Resp(201, out, {"Location": location})


def _from_application_instance(source) -> bool:
    """Is the call placed as a resource account (needed to call phone numbers)?"""
    return bool(
        isinstance(source, dict)
        and isinstance(source.get("identity"), dict)
        and isinstance(source["identity"].get("applicationInstance"), dict)
        and source["identity"]["applicationInstance"].get("id")
    )


def _refusal(sim, request: GraphRequest, targets: list[Target]) -> Resp | None:
    ctx, body = request.ctx, request.body
    if sum(1 for target in targets if target.kind == "user") > MAX_USER_TARGETS:
        return bad_request(ctx, "A group call can have at most 5 user targets.")
    phones = any(target.kind == "phone" for target in targets)
    if phones and not _from_application_instance(body.get("source")):
        return bad_request(
            ctx,
            "Calls to phone numbers need source.identity.applicationInstance "
            "(a resource account with a phone number).",
        )
    tid = body.get("tenantId")
    if tid and tid != sim.tenant.tenant_id:
        return bad_request(ctx, f"Unknown tenantId '{tid}'.")
    if len(targets) > 1 and "Calls.InitiateGroupCall.All" not in ctx.claims["_roles"]:
        return graph_error(
            ctx,
            403,
            "Forbidden",
            "Application does not have permission Calls.InitiateGroupCall.All.",
        )
    limit = sim.cfg.max_concurrent_calls
    if len(sim.calls.active) >= limit:
        return graph_error(
            ctx,
            403,
            "Forbidden",
            f"The application has reached the limit of {limit} concurrent calls.",
        )
    return None


def _new_call(sim, body: dict, targets: list[Target]) -> Call:
    call = Call(sim.calls.new_id())
    call.callback_uri = body["callbackUri"]
    call.targets = body["targets"]
    call.source = body.get("source") or {
        "@odata.type": "#microsoft.graph.participantInfo",
        "identity": {"application": {"id": sim.client_id, "displayName": "Delegation portal"}},
    }
    call.modalities = body.get("requestedModalities") or ["audio"]
    call.media_config = body["mediaConfig"]
    call.tenant_id = sim.tenant.tenant_id
    call.subject = body.get("subject")
    call.app_instance = _from_application_instance(body.get("source"))
    call.history.append("establishing")
    sim.calls.add(call)
    call.tasks.append(asyncio.create_task(_progress(sim, call, targets)))
    return call


def _disorder(sim) -> tuple[bool, bool]:
    """(swap, duplicate): deliver `established` before `establishing`; deliver each twice."""
    mode = sim.cfg.callback_disorder
    if mode == "random":
        rate = sim.cfg.callback_disorder_rate
        return sim.calls.rng.random() < rate, sim.calls.rng.random() < rate
    return mode in ("swap", "both"), mode in ("duplicate", "both")


async def _progress(sim, call: Call, targets: list[Target]):
    cfg = sim.cfg
    swap, duplicate = _disorder(sim)
    times = 2 if duplicate else 1
    await asyncio.sleep(cfg.establish_ms / 1000)
    if not call.active or call.state != "establishing":
        return
    if not swap:
        notify(sim, call, "updated", times=times)
    await asyncio.sleep(cfg.answer_ms / 1000)
    if not call.active or call.state != "establishing":
        return
    behaviours = [behaviour_of(sim, target) for target in targets]
    late_establishing = {"state": "establishing", "resultInfo": None}
    if any(behaviour not in NOT_ANSWERING for behaviour in behaviours):
        set_state(sim, call, "established", times=times)
        if swap:  # the earlier state arrives late
            notify(sim, call, "updated", extra=late_establishing)
        return
    if swap:
        notify(sim, call, "updated", extra=late_establishing)
    if "noanswer" in behaviours:
        end_call(sim, call, 408, 10057, "The call was not answered.")
    else:
        end_call(sim, call, 480, 10076, "The callee is unreachable.")
