"""The OpenID configuration and the signing keys (JWKS) of the tenant's authority."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from graphsim.identity.errors import oauth_error

CLAIMS_SUPPORTED = [
    *("sub", "iss", "aud", "exp", "iat", "nbf", "name", "nonce", "oid", "preferred_username"),
    *("tid", "roles", "groups", "ver"),
]


def issuer(sim) -> str:
    return f"{sim.base}/{sim.tenant.tenant_id}/v2.0"


def tenant_ok(sim, tenant: str) -> bool:
    return tenant in (sim.tenant.tenant_id, "common", "organizations")


async def openid_configuration(sim, request: Request):
    request.scope["graphsim.route"] = "GET /{tenant}/v2.0/.well-known/openid-configuration"
    tenant = request.path_params["tenant"]
    if not tenant_ok(sim, tenant):
        return oauth_error(sim, 400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
    authority = f"{sim.base}/{tenant}"
    return JSONResponse(
        {
            "issuer": issuer(sim),
            "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
            "token_endpoint": f"{authority}/oauth2/v2.0/token",
            "jwks_uri": f"{sim.base}/{sim.tenant.tenant_id}/discovery/v2.0/keys",
            "end_session_endpoint": f"{authority}/oauth2/v2.0/logout",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "response_types_supported": ["code", "id_token", "code id_token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "claims_supported": CLAIMS_SUPPORTED,
            "tenant_region_scope": "EU",
            "cloud_instance_name": "graphsim.test",
            "request_uri_parameter_supported": False,
            "frontchannel_logout_supported": True,
            "http_logout_supported": True,
        }
    )


async def jwks(sim, request: Request):
    request.scope["graphsim.route"] = "GET /{tenant}/discovery/v2.0/keys"
    return JSONResponse({"keys": [sim.id_key.jwk]})
