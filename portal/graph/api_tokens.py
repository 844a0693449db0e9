"""Authenticate the Entra ID bearer tokens on our own API (GRAPH_CONTRACT §11).

Validated as the call notifications are (callback_auth, whose key cache this shares): RS256 with
the tenant's keys (the `jwks_uri` of its OpenID configuration), issuer the tenant's (v2, or v1's
sts.windows.net), audience our application ID URI (or our client id: v2 tokens), `tid` our
tenant, `exp` required. The caller is an application (app-only: `roles` are its app roles) or a
person (delegated: `scp`, which must hold our API's scope, API_DELEGATED_SCOPE, and `oid`), told
apart by `idtyp` and the absence of `scp`.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt
from django.conf import settings

from portal.graph.callback_auth import LEEWAY_SECONDS, CallbackAuthError, key_of_token


class ApiTokenError(Exception):
    """No valid token for our API: answer 401, touch nothing."""


@dataclass(frozen=True)
class ApiCaller:
    tenant_id: str
    object_id: str  # the person, or the client application's service principal
    app_id: str  # the client application (azp / appid)
    is_app: bool
    roles: tuple[str, ...]  # app roles (app-only) or the person's roles claim
    scopes: tuple[str, ...]  # delegated scopes (empty for app-only)
    name: str = ""


def app_id_uri() -> str:
    return settings.API_APP_ID_URI or f"api://{settings.MS_CLIENT_ID}"


def _openid_config_url() -> str:
    return settings.API_OPENID_CONFIG or (
        f"{settings.MS_AUTHORITY.rstrip('/')}/v2.0/.well-known/openid-configuration"
    )


def _issuers() -> list[str]:
    if settings.API_ISSUERS:
        return [issuer for issuer in settings.API_ISSUERS if issuer]
    tenant = settings.MS_TENANT_ID
    return [f"{settings.MS_AUTHORITY.rstrip('/')}/v2.0", f"https://sts.windows.net/{tenant}/"]


def _claims(token: str) -> dict:
    try:
        key = key_of_token(token, _openid_config_url())
        return jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=[app_id_uri(), settings.MS_CLIENT_ID],
            issuer=_issuers(),
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud", "tid"]},
        )
    except CallbackAuthError as exc:
        raise ApiTokenError(str(exc)) from exc
    except jwt.PyJWTError as exc:
        raise ApiTokenError(f"invalid token: {type(exc).__name__}") from exc


def verify_api_token(token: str) -> ApiCaller:
    """Who calls, if the token was issued by our tenant for our API; ApiTokenError if not."""
    claims = _claims(token)
    if not settings.MS_TENANT_ID or claims.get("tid") != settings.MS_TENANT_ID:
        raise ApiTokenError("wrong tenant")
    scopes = tuple(str(claims.get("scp", "")).split())
    is_app = not scopes and claims.get("idtyp", "app") == "app"
    if not is_app and settings.API_DELEGATED_SCOPE not in scopes:
        # A person's token must carry the scope our registration exposes for its API.
        raise ApiTokenError(f"the token lacks the scope {settings.API_DELEGATED_SCOPE}")
    app_id = str(claims.get("azp") or claims.get("appid") or "")
    object_id = str(claims.get("oid") or "")
    if not object_id or not app_id:
        raise ApiTokenError("no caller in the token")
    roles = claims.get("roles") or []
    return ApiCaller(
        tenant_id=claims["tid"],
        object_id=object_id.lower(),
        app_id=app_id.lower(),
        is_app=is_app,
        roles=tuple(str(role) for role in roles if isinstance(role, str)),
        scopes=scopes,
        name=str(claims.get("name") or claims.get("upn") or ""),
    )
