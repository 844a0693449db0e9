"""Call delegation on beta, write side: POST, PATCH and DELETE on a person's delegates."""

from __future__ import annotations

from graphsim.answers import GraphRequest, Resp, graph_error, method_not_allowed


def refuse_write(sim, request: GraphRequest) -> Resp:
    """The answer of a tenant that refuses delegate writes (`delegation_write_status`)."""
    status = sim.cfg.delegation_write_status
    if status == 501:
        return graph_error(
            request.ctx, 501, "NotImplemented", "The requested operation is not supported."
        )
    return method_not_allowed(request.ctx, status)
