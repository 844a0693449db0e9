"""Azure Communication Services' identity endpoint, the one call the browser phone needs
(GRAPH_CONTRACT §8): exchange a Teams user's Entra token for an ACS token.

`POST /teamsUser/:exchangeAccessToken?api-version=2023-10-01`, body `{"token","appId","userId"}`,
authenticated by an HMAC-SHA256 signature made with the resource's access key exactly as
`azure-communication-identity` computes it. Self-contained: `acs_routes()` takes what it needs
(the access key, the Entra signing key, a signer for the ACS token) and returns Starlette routes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ACS_RESOURCE = "https://auth.msft.communication.azure.com"
# Delegated scopes Entra issues for the ACS resource (the calling samples ask for both).
ACS_SCOPES = (f"{ACS_RESOURCE}/Teams.ManageCalls", f"{ACS_RESOURCE}/Teams.ManageChats")
API_VERSION = "2023-10-01"
EXCHANGE_PATH = "/teamsUser/:exchangeAccessToken"
# ACS refuses a request whose x-ms-date is more than 15 minutes away from its clock.
MAX_CLOCK_SKEW_S = 15 * 60


def access_key_for(seed: int) -> str:
    """A deterministic 64-byte access key, base64 like the Azure portal shows it."""
    return base64.b64encode(hashlib.sha512(f"graphsim-acs:{seed}".encode()).digest()).decode()


def connection_string(base_url: str, access_key: str) -> str:
    return f"endpoint={base_url.rstrip('/')}/;accesskey={access_key}"


def token_audience(scopes: list[str]) -> tuple[str, list[str]] | None:
    """For identity: (aud, short scope names) when the request is for ACS, else None.

    Entra issues one token per resource; the ACS one carries `scp` without the resource prefix."""
    acs = [s for s in scopes if s.startswith(ACS_RESOURCE + "/")]
    if not acs:
        return None
    return ACS_RESOURCE, [s[len(ACS_RESOURCE) + 1 :] for s in acs]


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def signature_problem(request: Request, body: bytes, access_key: str) -> str | None:
    """Why the request's HMAC authentication fails, or None when it is good."""
    h = request.headers
    auth = h.get("authorization", "")
    date, content_hash, host = (
        h.get("x-ms-date", ""),
        h.get("x-ms-content-sha256", ""),
        h.get("host"),
    )
    prefix = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
    if not auth.startswith(prefix) or not date or not content_hash or not host:
        return "The request is not signed with the resource's access key."
    try:
        signed_at = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return "x-ms-date is not an RFC 1123 date."
    if abs(time.time() - signed_at.timestamp()) > MAX_CLOCK_SKEW_S:
        return "The request's x-ms-date is more than 15 minutes away from the server's clock."
    actual_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if not hmac.compare_digest(actual_hash, content_hash):
        return "x-ms-content-sha256 does not match the body."
    # The client signs the raw path (":" unescaped) and query it sent, and the endpoint's host.
    path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
    query = request.scope.get("query_string", b"").decode("latin-1")
    path_and_query = path + ("?" + query if query else "")
    to_sign = f"{request.method.upper()}\n{path_and_query}\n{date};{host};{content_hash}"
    key = base64.b64decode(access_key)
    expected = base64.b64encode(hmac.new(key, to_sign.encode(), hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, auth[len(prefix) :]):
        return "The request's signature does not match (wrong access key?)."
    return None


def acs_routes(
    *,
    access_key: Callable[[], str],
    entra_public_key: Callable[[], object],
    tenant_id: Callable[[], str],
    sign: Callable[[dict], str],
) -> list[Route]:
    """The identity endpoint's routes. Callables, so a test hook that rebuilds the tenant or
    rotates a key is seen at once."""

    def verify_entra(token: str) -> dict | str:
        tid = tenant_id()
        try:
            claims = jwt.decode(
                token,
                entra_public_key(),
                algorithms=["RS256"],
                audience=ACS_RESOURCE,
                issuer=f"https://sts.windows.net/{tid}/",
            )
        except jwt.ExpiredSignatureError:
            return "The Entra token has expired."
        except jwt.InvalidTokenError as e:
            return f"The Entra token is not valid for Azure Communication Services: {e}."
        if "Teams.ManageCalls" not in str(claims.get("scp", "")).split():
            return "The Entra token lacks the Teams.ManageCalls scope."
        return claims

    async def exchange(request: Request):
        request.scope["graphsim.route"] = f"POST {EXCHANGE_PATH}"
        body = await request.body()
        problem = signature_problem(request, body, access_key())
        if problem:
            return _error(401, "Denied", problem)
        if request.query_params.get("api-version") != API_VERSION:
            return _error(400, "InvalidApiVersion", f"api-version must be {API_VERSION}.")
        try:
            doc = json.loads(body)
            token, app_id, user_id = doc["token"], doc["appId"], doc["userId"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "InvalidRequest", "The body needs token, appId and userId.")
        claims = verify_entra(token)
        if isinstance(claims, str):
            return _error(401, "InvalidAccessToken", claims)
        if claims.get("appid") != app_id:
            return _error(401, "InvalidAccessToken", "appId is not the Entra token's appid.")
        if claims.get("oid") != user_id:
            return _error(401, "InvalidAccessToken", "userId is not the Entra token's oid.")
        now = int(time.time())
        acs_claims = {
            # The Calling SDK reads these three; the token ends when the Entra token does.
            "skypeid": f"orgid:{claims['oid']}",
            "acsScope": "voip",
            "tid": claims["tid"],
            "scp": 1024,
            "csi": str(now),
            "iat": now,
            "exp": claims["exp"],
            "resourceId": hashlib.sha256(access_key().encode()).hexdigest()[:36],
            "resourceLocation": "graphsim",
        }
        expires_on = datetime.fromtimestamp(claims["exp"], UTC)
        return JSONResponse(
            {
                "token": sign(acs_claims),
                "expiresOn": expires_on.isoformat(timespec="seconds").replace("+00:00", "Z"),
            }
        )

    return [Route(EXCHANGE_PATH, exchange, methods=["POST"])]
