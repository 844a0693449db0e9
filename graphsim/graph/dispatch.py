"""Graph's request pipeline for one request or $batch item: route, gate (throttling and faults),
permission, JSON body, handler."""

from __future__ import annotations

import asyncio
import json
import random
from urllib.parse import parse_qsl

from graphsim.answers import Ctx, GraphRequest, Refusal, Resp, bad_request, method_not_allowed
from graphsim.graph.auth import BearerTokens, authorize
from graphsim.graph.faults import answer_after_apply, gate
from graphsim.graph.routes import match

WITH_BODY = ("POST", "PATCH", "PUT")


class Graph:
    def __init__(self, sim):
        self.sim = sim
        self.bearer = BearerTokens(sim)
        self.rng = random.Random(sim.seed * 31 + 7)  # batch order, 503s' Retry-After

    async def dispatch(
        self, ctx: Ctx, method: str, path: str, query: str, body
    ) -> tuple[str, Resp]:
        """Runs one authenticated Graph request (top level or batch item): (route name, answer)."""
        path = path.strip("/")
        found = match(ctx.version, method, path)
        if found is None:
            segment = path.split("/")[-1] if path else ""
            return "unknown", bad_request(ctx, f"Resource not found for the segment '{segment}'.")
        route = f"{method} /{ctx.version}/{found.template}"
        if found.handler is None:
            return route, method_not_allowed(ctx)
        refused = await gate(self.sim, ctx, f"/{ctx.version}/{path}")
        if refused is not None:
            return route, refused
        answer = await self._handle(ctx, found, method, query, body)
        return route, await answer_after_apply(self.sim, ctx, answer)

    async def _handle(self, ctx: Ctx, found, method: str, query: str, body) -> Resp:
        refused = authorize(self.sim, found.permission, ctx)
        if refused is not None:
            return refused
        options = {name.lower(): value for name, value in parse_qsl(query, keep_blank_values=True)}
        try:
            json_body = _json_body(method, body)
        except ValueError:
            return bad_request(ctx, "Unable to read JSON request payload.")
        request = GraphRequest(ctx, method, found.params, options, json_body)
        return await _run(self.sim, found.handler, request)


def _json_body(method: str, body):
    if method in WITH_BODY and body:
        return json.loads(body) if isinstance(body, (bytes, str)) else body
    return body if isinstance(body, dict) else None


async def _run(sim, handler, request: GraphRequest) -> Resp:
    try:
        answer = handler(sim, request)
        if asyncio.iscoroutine(answer):
            answer = await answer
        return answer
    except Refusal as refusal:
        return refusal.answer
    except ValueError as e:
        return bad_request(request.ctx, str(e))
