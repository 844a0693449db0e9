"""A call once placed: read it and its participants, hang up, keep it alive, answer or reject
an incoming one, transfer an established one, redirect an incoming one."""

from __future__ import annotations

import asyncio
import time
import uuid

from graphsim.answers import GraphRequest, Resp, bad_request, graph_error
from graphsim.calls.model import (
    CONNECTED_STATES,
    NOT_ANSWERING,
    Call,
    Target,
    call_resource,
    entity_context,
    result_info,
)
from graphsim.calls.notify import end_call, set_state
from graphsim.calls.targets import (
    behaviour_of,
    call_not_found,
    call_target,
    call_targets,
    callback_problem,
    find_call,
)

PARTICIPANT_TYPE = "#microsoft.graph.participant"


def list_calls(sim, request: GraphRequest) -> Resp:
    calls = sim.calls.calls.values()
    return Resp(200, {"value": [call_resource(call) for call in calls if call.active]})


def get_call(sim, request: GraphRequest) -> Resp:
    call = find_call(sim, request.ctx, request.params["call"])
    out = {"@odata.context": entity_context(request.ctx)}
    out.update(call_resource(call))
    return Resp(200, out)


def participants(sim, request: GraphRequest) -> Resp:
    ctx = request.ctx
    call = find_call(sim, ctx, request.params["call"])
    people = [
        {
            "@odata.type": PARTICIPANT_TYPE,
            "id": str(uuid.uuid5(uuid.NAMESPACE_OID, call.id)),
            "info": call.source,
            "isMuted": False,
            "isInLobby": False,
            "mediaStreams": [],
        }
    ]
    if call.state in CONNECTED_STATES:
        for i, target in enumerate(call.targets):
            people.append(
                {
                    "@odata.type": PARTICIPANT_TYPE,
                    "id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{call.id}:{i}")),
                    "info": target,
                    "isMuted": False,
                    "isInLobby": False,
                    "mediaStreams": [{"mediaType": "audio", "direction": "sendReceive"}],
                }
            )
    context = f"{ctx.base}/{ctx.version}/$metadata#communications/calls('{call.id}')/participants"
    return Resp(200, {"@odata.context": context, "value": people})


def delete_call(sim, request: GraphRequest) -> Resp:
    call = find_call(sim, request.ctx, request.params["call"])
    if call.active:
        set_state(sim, call, "terminating")
        call.tasks.append(asyncio.create_task(_hang_up(sim, call)))
    return Resp(204, None)


async def _hang_up(sim, call: Call):
    await asyncio.sleep(sim.cfg.transfer_ms / 1000)
    end_call(sim, call, 200, 5001, "The conversation has ended.")


def call_action(sim, request: GraphRequest) -> Resp:
    """POST .../{action}: keepAlive, transfer, redirect, answer, reject."""
    ctx = request.ctx
    call = find_call(sim, ctx, request.params["call"])
    action = request.params["action"].lower()
    body = request.body if isinstance(request.body, dict) else {}
    if action == "keepalive":
        if not call.active:
            return call_not_found(ctx, call.id)
        call.last_keepalive = time.time()
        return Resp(200, None)
    if action == "transfer":
        return _transfer(sim, request, call, body)
    if action == "redirect":
        return _redirect(sim, request, call, body)
    if action in ("answer", "reject"):
        return _answer_or_reject(sim, request, call, body, action)
    return bad_request(ctx, "Unknown action.")


def _answer_or_reject(sim, request: GraphRequest, call: Call, body: dict, action: str) -> Resp:
    ctx = request.ctx
    if call.state != "incoming":
        return bad_request(ctx, f"Call is in state '{call.state}', not 'incoming'.")
    if action == "reject":
        end_call(sim, call, 603, 0, "The call was rejected.")
        return Resp(202, None)
    if callback_problem(sim, body.get("callbackUri") or call.callback_uri):
        return bad_request(ctx, "callbackUri must be https.")
    if body.get("callbackUri"):
        call.callback_uri = body["callbackUri"]
    call.last_keepalive = time.time()
    set_state(sim, call, "establishing")
    set_state(sim, call, "established")
    return Resp(202, None)


def _transfer(sim, request: GraphRequest, call: Call, body: dict) -> Resp:
    ctx = request.ctx
    if call.state != "established":
        return bad_request(
            ctx, f"Call is in state '{call.state}'; only established calls transfer."
        )
    try:
        target = call_target(sim, body.get("transferTarget"))
    except ValueError as e:
        return bad_request(ctx, f"transferTarget: {e}")
    if target.kind == "phone" and not call.app_instance:
        return bad_request(ctx, "Transfer to a phone number needs an application-instance call.")
    group = len(call.targets) > 1
    if body.get("transferee") is not None and not group:
        return bad_request(ctx, "transferee is only valid when transferring from a group call.")
    if group and body.get("transferee") is None:
        return bad_request(ctx, "transferee is required when transferring from a group call.")
    behaviour = behaviour_of(sim, target)
    if behaviour == "transferrefuse":  # refused at once: the call stays as it was
        return graph_error(ctx, 403, "Forbidden", "The transfer target does not take transfers.")
    set_state(sim, call, "transferring")
    call.tasks.append(asyncio.create_task(_transfer_progress(sim, call, behaviour)))
    return Resp(202, None)


# Why a transfer to a target who never picks up failed: (code, subcode, message) as the target's
# own call would end ("reason"), or Microsoft's generic transfer failure ("generic").
_TRANSFER_FAILURES = {
    "noanswer": (408, 10057, "The transfer target did not answer."),
    "unreachable": (480, 10076, "The transfer target could not be reached."),
}


def _transfer_failure(sim, behaviour: str | None) -> tuple[int, int, str] | None:
    if behaviour == "transferfail":
        return 500, 7000, "The transfer failed."
    if behaviour not in NOT_ANSWERING:
        return None
    code, subcode, message = _TRANSFER_FAILURES[behaviour]
    if sim.cfg.transfer_failure_result == "generic":
        return 500, 7000, message
    return code, subcode, message


async def _transfer_progress(sim, call: Call, behaviour: str | None):
    await asyncio.sleep(sim.cfg.transfer_ms / 1000)
    if call.state != "transferring":
        return
    failure = _transfer_failure(sim, behaviour)
    if failure is not None:
        call.result_info = result_info(*failure)
        set_state(sim, call, "established")  # the call goes back to its first target
        return
    set_state(sim, call, "transferAccepted")
    await asyncio.sleep(sim.cfg.transfer_ms / 1000)
    end_call(sim, call, 0, 7015, "The call was transferred.")


def _redirect(sim, request: GraphRequest, call: Call, body: dict) -> Resp:
    ctx = request.ctx
    if call.state != "incoming" or call.direction != "incoming":
        return bad_request(ctx, f"Call is in state '{call.state}'; only incoming calls redirect.")
    if call.incoming_deadline and time.time() > call.incoming_deadline:
        return bad_request(ctx, "The redirect window has passed.")
    infos = body.get("targets")
    if not isinstance(infos, list) or not 1 <= len(infos) <= 25:
        return bad_request(ctx, "targets must hold 1 to 25 entries.")
    targets = call_targets(sim, infos)
    timeout = body.get("timeout")
    if timeout is not None and not 15 <= _as_int(timeout) <= 90:
        return bad_request(ctx, "timeout must be 15 to 90 seconds.")
    new_callback = body.get("callbackUri")
    if new_callback:
        problem = callback_problem(sim, new_callback)
        if problem:
            return bad_request(ctx, problem)
        call.callback_uri = new_callback
    call.incoming_deadline = None
    call.targets = infos
    set_state(sim, call, "redirecting")
    call.tasks.append(asyncio.create_task(_redirect_progress(sim, call, targets)))
    return Resp(202, None)


def _as_int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


async def _redirect_progress(sim, call: Call, targets: list[Target]):
    await asyncio.sleep(sim.cfg.answer_ms / 1000)
    if any(behaviour_of(sim, target) not in NOT_ANSWERING for target in targets):
        end_call(sim, call, 200, 5001, "The call was redirected and answered by a target.")
    else:
        end_call(sim, call, 408, 10057, "No redirect target answered.")
