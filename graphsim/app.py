"""The ASGI application: Graph, the identity provider, the callback keys and the test hooks,
behind the middleware that counts and delays."""

from __future__ import annotations

import contextlib
import functools

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from graphsim import acs
from graphsim.calls import openid as callback_openid
from graphsim.graph.endpoint import graph_endpoint
from graphsim.hooks import hook_routes
from graphsim.identity import authorize, claims, discovery, tokens
from graphsim.middleware import Outer

GRAPH_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


def build_app(sim) -> Outer:
    def bound(handler, *args):
        return functools.partial(handler, sim, *args)

    async def root(request):
        return JSONResponse({"graphsim": True, "sim": f"{sim.base}/_sim"})

    callback_config = bound(callback_openid.openid_configuration)
    acs_routes = acs.acs_routes(
        access_key=lambda: sim.acs_key,
        entra_public_key=lambda: sim.id_key.key.public_key(),
        tenant_id=lambda: sim.tenant.tenant_id,
        sign=bound(claims.sign),
    )
    routes = (
        hook_routes(sim)
        + acs_routes
        + [
            Route(
                "/callbacks/v1/.well-known/OpenIdConfiguration", callback_config, methods=["GET"]
            ),
            Route(
                "/callbacks/v1/.well-known/openid-configuration", callback_config, methods=["GET"]
            ),
            Route("/callbacks/v1/keys", bound(callback_openid.keys), methods=["GET"]),
            Route("/", root, methods=["GET"]),
            Route("/v1.0/{path:path}", bound(graph_endpoint, "v1.0"), methods=GRAPH_METHODS),
            Route("/beta/{path:path}", bound(graph_endpoint, "beta"), methods=GRAPH_METHODS),
            Route(
                "/{tenant}/v2.0/.well-known/openid-configuration",
                bound(discovery.openid_configuration),
                methods=["GET"],
            ),
            Route("/{tenant}/discovery/v2.0/keys", bound(discovery.jwks), methods=["GET"]),
            Route("/{tenant}/discovery/keys", bound(discovery.jwks), methods=["GET"]),
            Route(
                "/{tenant}/oauth2/v2.0/authorize",
                bound(authorize.authorize),
                methods=["GET", "POST"],
            ),
            Route("/{tenant}/oauth2/v2.0/token", bound(tokens.token), methods=["POST"]),
            Route("/{tenant}/oauth2/v2.0/logout", bound(authorize.logout), methods=["GET", "POST"]),
        ]
    )

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await sim.calls.start()
        try:
            yield
        finally:
            await sim.calls.stop()

    return Outer(Starlette(routes=routes, lifespan=lifespan), sim)
