"""Azure Communication Services for the browser phone (GRAPH_CONTRACT §8): a Teams user's Entra
token for `Teams.ManageCalls` becomes an ACS token the Calling SDK in their browser calls with.

Server-side because the exchange is signed with the ACS access key (`ACS_CONNECTION_STRING`).
The ACS token is returned, never stored: it expires when the Entra token does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from portal.graph.errors import GraphError, GraphUnavailable, NotConfigured

# azure-core logs each request (URL, headers) at INFO; the phone view audits each exchange.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)

# The delegated scope the phone page asks for, incrementally, only when it is opened.
TEAMS_CALLING_SCOPE = "https://auth.msft.communication.azure.com/Teams.ManageCalls"

# What a person (or an admin) can do about each refusal, by the service's error code.
REFUSALS = {
    "InvalidAccessToken": (
        "Microsoft did not accept your Teams sign-in for calling. Sign in again and allow the "
        "portal to make calls for you."
    ),
    "Denied": (
        "Azure Communication Services refused the portal's access key: an administrator must "
        "check ACS_CONNECTION_STRING."
    ),
}


@dataclass(frozen=True)
class AcsToken:
    token: str
    expires_on: datetime

    def __repr__(self) -> str:  # the token is a bearer credential: keep it out of logs
        return f"AcsToken(expires_on={self.expires_on.isoformat()})"


def parse_expiry(value) -> datetime:
    """The client hands back `expires_on` as an ISO 8601 string (7 fractional digits, "Z" or an
    offset), though its type hints say otherwise; accept a datetime too."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def configured() -> bool:
    """Whether the browser phone is on: an ACS resource is connected (ACS_CONNECTION_STRING)."""
    return bool(settings.ACS_CONNECTION_STRING)


def _client():
    from azure.communication.identity import CommunicationIdentityClient

    if not configured():
        raise NotConfigured("ACS_CONNECTION_STRING is not set: the browser phone is off.")
    timeout = settings.GRAPH_TIMEOUT_SECONDS
    return CommunicationIdentityClient.from_connection_string(
        settings.ACS_CONNECTION_STRING,
        connection_verify=settings.GRAPH_CA_BUNDLE or True,
        use_env_settings=False,  # like MicrosoftSession: no proxy or CA from the environment
        connection_timeout=timeout,
        read_timeout=timeout,
        retry_total=0,  # the page asks again; a refusal will not pass by retrying
    )


def exchange_teams_token(aad_token: str, client_id: str, user_object_id: str) -> AcsToken:
    """ACS token for the Teams user `user_object_id`, from their Entra token for our app.

    Raises NotConfigured, GraphUnavailable (no answer: `permanent` False) or GraphError with the
    service's status and code and a message in words."""
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    client = _client()
    try:
        result = client.get_token_for_teams_user(aad_token, client_id, user_object_id)
    except (ServiceRequestError, ServiceResponseError) as e:
        raise GraphUnavailable(
            f"Azure Communication Services could not be reached: {type(e).__name__}."
        ) from e
    except HttpResponseError as e:
        error = getattr(e, "error", None)
        code = getattr(error, "code", "") or ""
        status = e.status_code or 0
        words = REFUSALS.get(code) or (
            f"Azure Communication Services refused the calling token ({code or 'no code'})."
        )
        request_id = e.response.headers.get("x-ms-request-id", "") if e.response else ""
        raise GraphError(words, status=status, code=code, request_id=request_id) from e
    return AcsToken(token=result.token, expires_on=parse_expiry(result.expires_on))
