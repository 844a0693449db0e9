"""Bearer tokens (401) and the permission each route needs (403)."""

from __future__ import annotations

import time

import jwt

from graphsim.answers import Ctx, Resp, graph_error, me_needs_delegated_token

GRAPH_AUDIENCES = ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"]
USER_READERS = {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All"}
ME_READERS = {"User.Read", "User.Read.All", "User.ReadWrite.All"}
DELEGATION_SCOPES = {"CallDelegation.Read", "CallDelegation.ReadWrite"}
DELEGATION_APP_ROLES = {"CallDelegation.Read.All", "CallDelegation.ReadWrite.All"}
TOKEN_CACHE_SIZE = 20000


def _invalid_token(ctx: Ctx, message: str, headers=None) -> Resp:
    return graph_error(ctx, 401, "InvalidAuthenticationToken", message, headers)


class BearerTokens:
    """Checks the Authorization header; decoded claims are cached by token (a sync sends the
    same token thousands of times)."""

    def __init__(self, sim):
        self.sim = sim
        self.cache: dict[str, dict] = {}

    def authenticate(self, authorization: str | None, ctx: Ctx) -> Resp | None:
        """None and `ctx.claims` set, or the 401 answer."""
        if not authorization or authorization[:7].lower() != "bearer ":
            realm = f'Bearer realm="", authorization_uri="{self.sim.authority}/oauth2/authorize"'
            return _invalid_token(ctx, "Access token is empty.", {"WWW-Authenticate": realm})
        token = authorization[7:].strip()
        claims = self.cache.get(token)
        if claims is None:
            claims = self._decode(token, ctx)
            if isinstance(claims, Resp):
                return claims
        if claims["exp"] < time.time():
            return _invalid_token(ctx, "Lifetime validation failed, the token is expired.")
        ctx.claims = claims
        return None

    def _decode(self, token: str, ctx: Ctx) -> dict | Resp:
        try:
            claims = jwt.decode(
                token,
                self.sim.id_key.key.public_key(),
                algorithms=["RS256"],
                audience=GRAPH_AUDIENCES,
                options={"verify_exp": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as e:
            return _invalid_token(ctx, f"Access token validation failure. {e}")
        if claims.get("tid") != self.sim.tenant.tenant_id:
            return _invalid_token(
                ctx, "Access token validation failure. Invalid audience or tenant."
            )
        if len(self.cache) > TOKEN_CACHE_SIZE:
            self.cache.clear()
        claims["_scp"] = set((claims.get("scp") or "").split())
        claims["_roles"] = set(claims.get("roles") or ()) if "scp" not in claims else set()
        self.cache[token] = claims
        return claims


def _insufficient_privileges(ctx: Ctx) -> Resp:
    return graph_error(
        ctx,
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )


def _users(sim, ctx: Ctx) -> Resp | None:
    claims = ctx.claims
    if claims["_scp"] & USER_READERS or claims["_roles"] & USER_READERS:
        return None
    return _insufficient_privileges(ctx)


def _me(sim, ctx: Ctx) -> Resp | None:
    if "scp" not in ctx.claims:
        return me_needs_delegated_token(ctx)
    if ctx.claims["_scp"] & ME_READERS:
        return None
    return _insufficient_privileges(ctx)


def _delegation(sim, ctx: Ctx) -> Resp | None:
    claims = ctx.claims
    if "scp" in claims and claims["_scp"] & DELEGATION_SCOPES:
        return None
    # the application roles exist since 2025 (unconfirmed that Graph honours them): a switch
    if (
        "scp" not in claims
        and sim.cfg.app_delegation_read
        and claims["_roles"] & DELEGATION_APP_ROLES
    ):
        return None
    return graph_error(
        ctx,
        403,
        "Forbidden",
        "Missing scope permissions on the request. API requires one of "
        "'CallDelegation.Read, CallDelegation.ReadWrite'.",
    )


def _calls(sim, ctx: Ctx) -> Resp | None:
    if "scp" not in ctx.claims and "Calls.Initiate.All" in ctx.claims["_roles"]:
        return None
    return graph_error(
        ctx,
        403,
        "Forbidden",
        "Application does not have permission Calls.Initiate.All to make calls.",
    )


PERMISSIONS = {"users": _users, "me": _me, "delegation": _delegation, "calls": _calls}


def authorize(sim, permission: str, ctx: Ctx) -> Resp | None:
    """None when the token carries `permission` (a key of PERMISSIONS), else the refusal."""
    check = PERMISSIONS.get(permission)
    return None if check is None else check(sim, ctx)
