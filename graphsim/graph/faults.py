"""Throttling and injected faults, charged to each Graph request and each $batch item."""

from __future__ import annotations

import asyncio

from graphsim.answers import Ctx, DropConnection, Resp, graph_error

FORCED_CODES = {
    429: "TooManyRequests",
    503: "serviceNotAvailable",
    504: "gatewayTimeout",
    500: "generalException",
    404: "Request_ResourceNotFound",
    401: "InvalidAuthenticationToken",
    403: "Forbidden",
}


async def gate(sim, ctx: Ctx, path: str) -> Resp | None:
    """Charges the token bucket and maybe injects a fault: None lets the request through, else
    the answer to give. May raise DropConnection."""
    forced = _take_fail_next(sim.cfg, path)
    if forced is not None and forced.get("after_apply"):
        ctx.after_apply = forced  # see answer_after_apply: the request goes through first
        return None
    if forced is not None:
        return await _forced_fault(sim, ctx, forced)
    throttled = _throttle(sim, ctx)
    if throttled is not None:
        return throttled
    return await _random_fault(sim, ctx)


async def answer_after_apply(sim, ctx: Ctx, answer: Resp) -> Resp:
    """The answer to a handled request: `answer`, or the failure of a `fail_next` item with
    `after_apply` (the write happened; the client sees a 504, or nothing, and must find out)."""
    fault, ctx.after_apply = ctx.after_apply, None
    if fault is None:
        return answer
    failure = await _forced_fault(sim, ctx, fault)  # a slow one only delays the answer
    return answer if failure is None else failure


def _take_fail_next(cfg, path: str) -> dict | None:
    """The first `fail_next` item meant for `path` (removed from the list), if any."""
    for i, fault in enumerate(cfg.fail_next):
        wanted = fault.get("path_contains")
        if wanted and wanted not in path:
            continue
        return cfg.fail_next.pop(i)
    return None


async def _forced_fault(sim, ctx: Ctx, fault: dict) -> Resp | None:
    status = fault.get("status", 503)
    sim.stats.faults[f"forced_{status}"] += 1
    if status == "drop":
        if ctx.batch:
            return graph_error(ctx, 503, "serviceNotAvailable", "Injected failure.")
        raise DropConnection()
    if status == "slow":
        await asyncio.sleep(float(fault.get("ms", sim.cfg.slow_ms)) / 1000)
        return None
    headers = {}
    if fault.get("retry_after") is not None:
        headers["Retry-After"] = str(fault["retry_after"])
    code = fault.get("code") or FORCED_CODES.get(int(status), "generalException")
    message = fault.get("message") or "Injected failure."
    return graph_error(ctx, int(status), code, message, headers)


def _throttle(sim, ctx: Ctx) -> Resp | None:
    wait = sim.bucket.take(sim.cfg.throttle_rps, sim.cfg.throttle_burst)
    if wait is None:
        return None
    sim.stats.throttled += 1
    return graph_error(
        ctx,
        429,
        "TooManyRequests",
        "Too many requests. Application is over its request quota.",
        {"Retry-After": sim.bucket.format_retry_after(wait)},
    )


async def _random_fault(sim, ctx: Ctx) -> Resp | None:
    kind = sim.faults.pick(sim.cfg)
    if kind is None:
        return None
    if kind == "drop" and ctx.batch:
        return None  # a dropped connection applies to the whole request only
    sim.stats.faults[kind] += 1
    if kind == "429":
        sim.stats.throttled += 1
        return graph_error(ctx, 429, "TooManyRequests", "Too many requests.")
    if kind == "503":
        retry = {"Retry-After": "1"} if sim.graph.rng.random() < 0.5 else None
        return graph_error(
            ctx, 503, "serviceNotAvailable", "Service unavailable. Please try again later.", retry
        )
    if kind == "504":
        return graph_error(ctx, 504, "gatewayTimeout", "Gateway timeout.")
    if kind == "slow":
        await asyncio.sleep(sim.cfg.slow_ms / 1000)
        return None
    if kind == "drop":
        raise DropConnection()
    return None
