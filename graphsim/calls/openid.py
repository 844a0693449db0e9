"""Where call callbacks' signing keys are published (as api.aps.skype.com does for Teams)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse


async def openid_configuration(sim, request: Request):
    request.scope["graphsim.route"] = "GET /callbacks/v1/.well-known/OpenIdConfiguration"
    return JSONResponse(
        {
            "issuer": sim.cfg.callback_issuer,
            "authorization_endpoint": f"{sim.base}/callbacks/v1/authorize",
            "jwks_uri": f"{sim.base}/callbacks/v1/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }
    )


async def keys(sim, request: Request):
    request.scope["graphsim.route"] = "GET /callbacks/v1/keys"
    jwk = dict(sim.cb_key.jwk)
    jwk["endorsements"] = ["msteams"]
    return JSONResponse({"keys": [jwk]})
