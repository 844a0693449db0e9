"""State changes and the signed commsNotifications that tell the callback URI about them:
queued per call (so each call's deliveries stay in order) and retried on failure."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import jwt

from graphsim.answers import now_iso
from graphsim.calls.model import Call, call_resource, result_info


def callback_token(sim) -> str:
    """The JWT that authenticates a notification, signed with the callback key."""
    now = int(time.time())
    claims = {
        "iss": sim.cfg.callback_issuer,
        "aud": sim.client_id,
        "tid": sim.tenant.tenant_id,
        "iat": now,
        "nbf": now - 60,
        "exp": now + 3600,
        "serviceurl": f"{sim.base}/",
    }
    key = sim.cb_key
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": key.kid})


def notify(sim, call: Call, change: str = "updated", extra: dict | None = None, times: int = 1):
    """Queues a notification of the call as it is now (with `extra` over it), `times` times."""
    data = call_resource(call, full=change == "created")
    if extra:
        data.update(extra)
    notification = {
        "@odata.type": "#microsoft.graph.commsNotification",
        "changeType": change,
        "resourceUrl": f"/communications/calls/{call.id}",
        "resourceData": data,
    }
    field = sim.cfg.callback_resource_field
    if field in ("resource", "both"):  # older payloads name it `resource`
        notification["resource"] = notification["resourceUrl"]
        if field == "resource":
            del notification["resourceUrl"]
    payload = {"@odata.type": "#microsoft.graph.commsNotifications", "value": [notification]}
    for _ in range(times):
        call.queue.put_nowait(payload)
    if call.worker is None:
        call.worker = asyncio.create_task(_deliver_loop(sim, call))


def set_state(sim, call: Call, state: str, times: int = 1, change: str = "updated"):
    """Moves the call to `state` and notifies the callback URI."""
    call.state = state
    call.history.append(state)
    if state == "terminated":
        sim.calls.active.discard(call.id)
        sim.calls.ended[call.id] = time.time()
    notify(sim, call, change, times=times)


def end_call(sim, call: Call, code: int, subcode: int, message: str, terminating=False):
    """Terminates an active call with this resultInfo (through `terminating` if asked)."""
    if not call.active:
        return
    if terminating:
        set_state(sim, call, "terminating")
    call.result_info = result_info(code, subcode, message)
    set_state(sim, call, "terminated", change="deleted")


async def _deliver_loop(sim, call: Call):
    while True:
        payload = await call.queue.get()
        await _deliver(sim, call, payload)


async def _deliver(sim, call: Call, payload: dict):
    cfg, stats = sim.cfg, sim.stats
    entry = {
        "state": payload["value"][0]["resourceData"].get("state"),
        "changeType": payload["value"][0]["changeType"],
        "at": now_iso(),
        "attempts": 0,
        "status": None,
    }
    call.notifications.append(entry)
    for attempt in range(cfg.callback_retries + 1):
        entry["attempts"] = attempt + 1
        try:
            answer = await sim.calls.http().post(
                call.callback_uri,
                json=payload,
                headers={
                    "Authorization": "Bearer " + callback_token(sim),
                    "client-request-id": str(uuid.uuid4()),
                    "User-Agent": "graphsim-callbacks/1.0",
                },
            )
            entry["status"] = answer.status_code
            if answer.status_code < 500 and answer.status_code != 429:
                stats.callbacks_sent += 1
                return
        except (httpx.HTTPError, OSError) as e:
            entry["status"] = f"error: {type(e).__name__}"
        if attempt < cfg.callback_retries:
            await asyncio.sleep(cfg.callback_backoff_ms / 1000 * (2**attempt))
    stats.callbacks_failed += 1
