"""The test hooks under `/_sim/` (no auth; loopback callers only; not counted in stats): read
the counters and the truth, change settings and the tenant, make calls ring."""

from __future__ import annotations

import asyncio
import json
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graphsim.answers import dumps
from graphsim.calls.incoming import incoming_call
from graphsim.state import Bucket, Config
from graphsim.tenant.changes import apply_change

BIG_TENANT = 5000  # people past which /_sim/truth is serialised off the event loop


class BadHookBody(ValueError):
    """The body of a hook is not JSON: a 400."""


async def _json_body(request: Request) -> dict:
    """The parsed JSON body ({} when empty)."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as e:
        raise BadHookBody("body must be JSON") from e
    return body


def _bad(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def info(sim, request: Request):
    return JSONResponse(sim.info())


async def stats(sim, request: Request):
    return JSONResponse(sim.stats.as_dict())


async def reset(sim, request: Request):
    """Counters, the token bucket and pending token-endpoint failures; with `tenant`, `calls`
    or `config` also those."""
    asked = await _json_body(request)
    sim.stats.reset()
    sim.bucket = Bucket()
    sim.identity.clear_pending_failures()  # pending token endpoint failures are faults too
    if asked.get("tenant"):
        sim.tenant = sim.build_tenant()
        sim.tenant.epoch = int(time.time() * 1000) % 10**9  # old delta tokens now expire
    if asked.get("calls"):
        sim.calls.reset()
    if asked.get("config"):
        sim.cfg = Config.from_args(sim.args)
    return JSONResponse(
        {"ok": True, "users": len(sim.tenant.users), "delegations": sim.tenant.grant_count()}
    )


async def faults(sim, request: Request):
    """GET: every setting. POST: change some; unknown names or bad values are a 400."""
    if request.method == "GET":
        return JSONResponse(sim.cfg.as_dict())
    changes = await _json_body(request)
    if not isinstance(changes, dict):
        return _bad("body must be a JSON object")
    try:
        unknown = sim.cfg.update(changes)
    except (TypeError, ValueError) as e:
        return _bad(str(e))
    if unknown:
        return _bad(f"unknown settings: {', '.join(unknown)}")
    return JSONResponse(sim.cfg.as_dict())


async def tokens(sim, request: Request):
    """Revoke or expire refresh tokens, expire codes, make the token endpoint fail or slow."""
    asked = await _json_body(request)
    store = sim.identity
    out = {}
    revoke = asked.get("revoke")
    if revoke:
        people = revoke if isinstance(revoke, list) else [revoke]
        out["revoked"] = sum(store.revoke(_object_id(sim, who)) for who in people)
    if asked.get("expire_all_refresh"):
        out["expired"] = store.expire_all()
    if "fail_next" in asked:
        store.fail_next = int(asked["fail_next"])
        store.fail_status = int(asked.get("fail_status", 500))
    if "slow_next" in asked:
        store.slow_next = int(asked["slow_next"])
        store.slow_ms = float(asked.get("slow_ms", 2000))
    if "expire_codes" in asked:
        store.expire_codes()
    out.update(
        {
            "fail_next": store.fail_next,
            "slow_next": store.slow_next,
            "refresh_tokens": len(store.refresh),
        }
    )
    return JSONResponse(out)


def _object_id(sim, who: str) -> str:
    user = sim.tenant.find_user(who)
    return user.id if user else who


async def delta_expire(sim, request: Request):
    sim.tenant.epoch += 1
    return JSONResponse({"ok": True, "epoch": sim.tenant.epoch})


async def truth(sim, request: Request):
    tenant = sim.tenant
    grant_ids = bool(sim.cfg.delegation_id_mode == "grant" or request.query_params.get("grant_ids"))
    if len(tenant.users) > BIG_TENANT:
        doc = await asyncio.to_thread(lambda: dumps(tenant.truth(grant_ids)))
    else:
        doc = dumps(tenant.truth(grant_ids))
    return Response(doc, media_type="application/json")


async def change_tenant(sim, request: Request):
    change = await _json_body(request)
    done, error = apply_change(sim.tenant, change)
    if error is not None:
        done["error"] = error
        return JSONResponse(done, status_code=400)
    return JSONResponse(done)


async def user_lookup(sim, request: Request):
    user = sim.tenant.find_user(request.path_params["ref"])
    if user is None:
        return _bad("unknown user", 404)
    out = user.to_truth()
    for kind, index in (
        ("delegates", sim.tenant.delegates_of),
        ("delegators", sim.tenant.delegators_of),
    ):
        out[kind] = [grant.to_truth() for grant in index.get(user.id, ())]
    return JSONResponse(out)


async def incoming(sim, request: Request):
    status, out = incoming_call(sim, await _json_body(request))
    return JSONResponse(out, status_code=status)


async def calls(sim, request: Request):
    return JSONResponse({"value": sim.calls.snapshot()})


HOOKS = [
    ("/_sim", info, ["GET"]),
    ("/_sim/info", info, ["GET"]),
    ("/_sim/stats", stats, ["GET"]),
    ("/_sim/reset", reset, ["POST"]),
    ("/_sim/faults", faults, ["GET", "POST"]),
    ("/_sim/config", faults, ["GET", "POST"]),
    ("/_sim/tokens", tokens, ["POST"]),
    ("/_sim/delta/expire", delta_expire, ["POST"]),
    ("/_sim/truth", truth, ["GET"]),
    ("/_sim/tenant", change_tenant, ["POST"]),
    ("/_sim/users/{ref}", user_lookup, ["GET"]),
    ("/_sim/incoming-call", incoming, ["POST"]),
    ("/_sim/calls", calls, ["GET"]),
]


def _endpoint(sim, hook):
    async def endpoint(request: Request):
        try:
            return await hook(sim, request)
        except BadHookBody as e:
            return _bad(str(e))

    return endpoint


def hook_routes(sim) -> list[Route]:
    return [Route(path, _endpoint(sim, hook), methods=methods) for path, hook, methods in HOOKS]
