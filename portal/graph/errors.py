"""Typed failures of Microsoft calls. Callers branch on the type and `permanent`, never on text.

`permanent` says whether retrying the same request can help: a 429/503/504 or a dropped
connection may pass later; a 400/403/404 will not.
"""

from __future__ import annotations

# The one retry rule: statuses a later attempt of the same request may pass (0 = no answer).
RETRYABLE_STATUSES = frozenset({0, 408, 429, 500, 502, 503, 504})


def is_retryable(status: int) -> bool:
    return status in RETRYABLE_STATUSES


class GraphError(Exception):
    """Graph answered with an error body (contract §5), or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        code: str = "",
        request_id: str = "",
        client_request_id: str = "",
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.retry_after = retry_after

    @property
    def permanent(self) -> bool:
        return not is_retryable(self.status)

    @property
    def kind(self) -> str:
        """A short name for counting failures by kind (SyncRun.failures)."""
        if self.status == 0:
            return "unreachable"
        if self.status == 429:
            return "throttled"
        return {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(
            self.status, f"http_{self.status}"
        )

    def __str__(self) -> str:
        bits = [self.message]
        if self.status:
            bits.append(f"(HTTP {self.status}{' ' + self.code if self.code else ''})")
        if self.request_id:
            bits.append(f"request-id {self.request_id}")
        return " ".join(bits)


class GraphUnavailable(GraphError):
    """No answer: connection refused or dropped, or a timeout."""


class TokenError(Exception):
    """No token could be had for a Microsoft call."""

    permanent = False


class ReconnectNeeded(TokenError):
    """The sync account's refresh token is gone (invalid_grant / interaction_required)."""

    permanent = True


class TokenUnavailable(TokenError):
    """The token endpoint failed in a way that may pass (5xx, 429, connection)."""


class NotConfigured(TokenError):
    """Settings or a connected account are missing for this kind of token."""

    permanent = True
