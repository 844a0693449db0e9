"""The API's only way in: an Entra ID bearer token (no session cookie, so no CSRF), then the
caller's rate limit. The acting user is set on the request for the services and the audit."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from ninja.security import HttpBearer

from api import callers
from api.problems import ApiProblem
from portal.graph.api_tokens import ApiTokenError, verify_api_token
from portal.roles import user_has_capability

WINDOW_SECONDS = 60
CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def check_rate(client_key: str, now: float | None = None) -> None:
    """At most API_RATE_LIMIT_PER_MINUTE requests per client per minute window (Django's cache,
    shared across processes when the cache is): past it, 429 with Retry-After."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"api-rate:{client_key}:{window}"
    cache.add(key, 0, WINDOW_SECONDS + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS + 5)
        count = 1
    if count > settings.API_RATE_LIMIT_PER_MINUTE:
        retry = max(1, int((window + 1) * WINDOW_SECONDS - now))
        raise ApiProblem(
            429,
            f"Rate limit reached: retry in {retry} s.",
            ["rate_limited"],
            {"Retry-After": str(retry)},
        )


class EntraBearer(HttpBearer):
    def __call__(self, request):
        if not request.headers.get("Authorization"):
            raise ApiProblem(
                401, "A bearer token is required.", ["no_token"], {"WWW-Authenticate": "Bearer"}
            )
        return super().__call__(request)

    def authenticate(self, request, token):
        try:
            caller = verify_api_token(token)
        except ApiTokenError as exc:
            raise ApiProblem(401, str(exc), ["invalid_token"], CHALLENGE) from exc
        check_rate(f"{caller.app_id}:{'' if caller.is_app else caller.object_id}")
        user = callers.user_for(caller)
        if user is None:
            raise ApiProblem(
                403, "Sign in to the portal once before using the API.", ["unknown_person"]
            )
        request.user = user  # never the session's: the API ignores cookies
        request.api_caller = caller
        return user


def require(request, capability: str):
    """The acting user, if they hold `capability`; 403 otherwise."""
    user = request.auth
    if not user_has_capability(user, capability):
        raise ApiProblem(403, f"This needs the capability {capability}.", ["not_allowed"])
    return user
