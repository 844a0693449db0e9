"""The ASGI side of Graph: `/v1.0/...` and `/beta/...` requests in, Graph's answers out."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import Response

from graphsim.answers import GRAPH_CT, Ctx, DropConnection, Resp, dumps, graph_error
from graphsim.graph.batch import run_batch
from graphsim.graph.faults import answer_after_apply, gate
from graphsim.graph.routes import match

log = logging.getLogger("graphsim")


def graph_response(answer: Resp) -> Response:
    headers = dict(answer.headers)
    if answer.body is None:
        return Response(status_code=answer.status, headers=headers)
    headers.setdefault("Content-Type", GRAPH_CT)
    return Response(dumps(answer.body), status_code=answer.status, headers=headers, media_type=None)


def _context(sim, request: Request, version: str) -> Ctx:
    scope = request.scope
    return Ctx(scope["graphsim.rid"], scope["graphsim.crid"], None, sim.base, version)


async def graph_endpoint(sim, version: str, request: Request) -> Response:
    try:
        return graph_response(await _answer(sim, version, request))
    except DropConnection:
        scope = request.scope
        scope["graphsim.dropped"] = True
        transport = scope.get("graphsim.transport")
        if transport is None:
            raise  # unknown server: a 500 is the best we can do
        transport.abort()
        await asyncio.sleep(0.01)  # let the server see the connection lost
        return Response(status_code=500)
    except Exception as e:  # a graphsim bug: still answer in Graph's shape
        log.exception("graphsim failed on %s %s", request.method, request.url.path)
        ctx = _context(sim, request, version)
        return graph_response(
            graph_error(ctx, 500, "generalException", f"graphsim internal error: {e!r}")
        )


async def _answer(sim, version: str, request: Request) -> Resp:
    scope = request.scope
    path = request.path_params["path"]
    ctx = _context(sim, request, version)
    method = request.method
    refused = sim.graph.bearer.authenticate(request.headers.get("authorization"), ctx)
    if path.strip("/") == "$batch":
        scope["graphsim.route"] = f"POST /{version}/$batch"
        if refused is not None:
            return refused
        return await _batch(sim, ctx, request)
    if refused is not None:
        found = match(version, method, path.strip("/"))
        scope["graphsim.route"] = f"{method} /{version}/{found.template}" if found else "unknown"
        return refused
    body = await request.body() if method in ("POST", "PATCH", "PUT") else None
    query = scope["query_string"].decode("latin-1")
    route, answer = await sim.graph.dispatch(ctx, method, path, query, body)
    scope["graphsim.route"] = route
    return answer


async def _batch(sim, ctx: Ctx, request: Request) -> Resp:
    if request.method != "POST":
        return graph_error(ctx, 405, "Request_BadRequest", "Specified HTTP method is not allowed.")
    refused = await gate(sim, ctx, f"/{ctx.version}/$batch")
    if refused is not None:
        return refused
    answer = await run_batch(sim, ctx, await request.body())
    return await answer_after_apply(sim, ctx, answer)
