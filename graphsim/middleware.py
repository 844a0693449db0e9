"""Around every request: request ids, in-flight and per-route counters, latency, the loopback
rule of the test hooks, and each answer written in one TLS record."""

from __future__ import annotations

import asyncio
import uuid

from graphsim.loopback import is_loopback_host


class _Buffered:
    """Stands in for the server's transport while a response is written: one write, not two
    (each TLS write is a system call, and those dominate the cost of a small answer)."""

    def __init__(self, real):
        self.real = real
        self.parts: list[bytes] = []
        self.close_after = False

    def write(self, data):
        self.parts.append(data)

    def close(self):
        self.close_after = True

    def __getattr__(self, name):
        return getattr(self.real, name)


async def _send_coalesced(cycle, send, start, body):
    real = cycle.transport
    buffered = _Buffered(real)
    cycle.transport = buffered
    try:
        await send(start)
        await send(body)
    finally:
        cycle.transport = real
        if buffered.parts and not real.is_closing():
            real.write(b"".join(buffered.parts))
        if buffered.close_after:
            real.close()


def _client_request_id(scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"client-request-id":
            return value.decode("latin-1")
    return None


class Outer:
    """The outermost ASGI layer, around the Starlette app."""

    def __init__(self, app, sim):
        self.app = app
        self.sim = sim

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        is_hook = scope["path"].startswith("/_sim")
        rid = str(uuid.uuid4())
        crid = _client_request_id(scope)
        scope["graphsim.rid"] = rid
        scope["graphsim.crid"] = crid
        cycle = getattr(send, "__self__", None)  # uvicorn's response cycle, with the transport
        scope["graphsim.transport"] = getattr(cycle, "transport", None)
        if scope["graphsim.transport"] is None:
            cycle = None
        extra = [(b"request-id", rid.encode())]
        if crid:
            extra.append((b"client-request-id", crid.encode("latin-1")))
        if is_hook and not is_loopback_host((scope.get("client") or ("",))[0]):
            # test hooks answer loopback callers only, even when --host exposes the server
            await _loopback_only(send, extra)
            return
        answer = _AnswerWriter(send, cycle, extra)
        if is_hook:
            await self.app(scope, receive, answer.send)
            return
        await self._counted(scope, receive, answer)

    async def _counted(self, scope, receive, answer: _AnswerWriter):
        """A Graph, identity or callback-keys request: counted, delayed by the latency."""
        stats, cfg = self.sim.stats, self.sim.cfg
        stats.total += 1
        stats.in_flight += 1
        stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
        try:
            if cfg.latency_ms or cfg.jitter_ms:
                jitter = (
                    self.sim.lat_rng.uniform(-cfg.jitter_ms, cfg.jitter_ms)
                    if cfg.jitter_ms
                    else 0.0
                )
                delay = cfg.latency_ms + jitter
                if delay > 0:
                    await asyncio.sleep(delay / 1000)
            await self.app(scope, receive, answer.send)
            if scope.get("graphsim.dropped"):
                answer.status = "dropped"
        finally:
            stats.in_flight -= 1
            stats.routes[scope.get("graphsim.route") or "other"][answer.status] += 1


class _AnswerWriter:
    """Adds the request ids to the answer, notes its status, and holds the start of a response
    back to send it with the body."""

    def __init__(self, send, cycle, extra_headers: list):
        self.real_send = send
        self.cycle = cycle
        self.extra_headers = extra_headers
        self.status = 0
        self.held = []

    async def send(self, message):
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message["headers"] = list(message.get("headers", [])) + self.extra_headers
            if self.cycle is not None:
                self.held.append(message)  # sent with the body, in one TLS record
                return
        elif self.held and not message.get("more_body"):
            await _send_coalesced(self.cycle, self.real_send, self.held.pop(), message)
            return
        elif self.held:
            await self.real_send(self.held.pop())
        await self.real_send(message)


async def _loopback_only(send, extra_headers: list):
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/json")] + extra_headers,
        }
    )
    await send({"type": "http.response.body", "body": b'{"error":"loopback only"}'})
