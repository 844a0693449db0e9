"""The API object: its routers, the bearer scheme on every operation, errors as problem+json,
and the OpenAPI schema that says so."""

from __future__ import annotations

import logging

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api import problems, strict
from api.auth import EntraBearer
from api.endpoints import calls, changes, directory, reviews, sync

logger = logging.getLogger(__name__)
DESCRIPTION = (
    "Automation API of the delegation portal. Every call needs an Entra ID bearer token for "
    "our application ID URI: app-only (client credentials; app roles Delegation.Read.All, "
    "Delegation.ReadWrite.All, Calls.Initiate) or a person's delegated token (their portal "
    "role). Errors are application/problem+json (RFC 9457). See docs/api.md."
)


class PortalApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[problems.MEDIA_TYPE] = content.pop("application/json")
        return schema


api = PortalApi(
    title="Delegation portal API",
    version="1.0",
    description=DESCRIPTION,
    auth=EntraBearer(),
    urls_namespace="api",
    openapi_url="/schema",
    docs_url=None,
)
api.add_decorator(strict.refuse_unknown_query, mode="view")
api.add_router("", directory.router)
api.add_router("", sync.router)
api.add_router("", changes.router)
api.add_router("", calls.router)
api.add_router("", reviews.router)


@api.exception_handler(problems.ApiProblem)
def _problem(request, exc):
    return problems.of(exc)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problems.problem_response(
        401, "A bearer token is required.", ["no_token"], {"WWW-Authenticate": "Bearer"}
    )


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    fields = [".".join(str(part) for part in e.get("loc", ())) for e in exc.errors]
    return problems.problem_response(422, "Invalid input: " + ", ".join(fields), ["invalid"])


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return problems.problem_response(exc.status_code, str(exc))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problems.problem_response(404, "Not found.", ["not_found"])


@api.exception_handler(Exception)
def _server_error(request, exc):
    logger.exception("API error on %s", request.path)
    return problems.problem_response(500, "Something went wrong on our side.", ["server_error"])
