"""The second app registration (GRAPH_CONTRACT §11): an automation client that calls the portal's
own API. Client credentials with scope `<our application ID URI>/.default` give it an app-only
token for our API: `aud` our application ID URI, the v2 issuer, the app roles our registration
defines and grants to it, signed with the tenant's keys."""

from __future__ import annotations

import hashlib
import time
import uuid

from graphsim.keys import b64u

# The app roles the portal's registration defines; graphsim grants all of them to the client.
API_ROLES = ("Delegation.Read.All", "Delegation.ReadWrite.All", "Calls.Initiate")


class ApiClient:
    def __init__(self, seed: int, portal_client_id: str):
        ns = uuid.uuid5(uuid.NAMESPACE_URL, f"graphsim:{seed}")
        self.client_id = str(uuid.uuid5(ns, "api-client"))
        digest = hashlib.sha256(f"graphsim-api-secret:{seed}".encode()).digest()
        self.client_secret = "gs8Q~" + b64u(digest)[:35]
        self.object_id = str(uuid.uuid5(uuid.NAMESPACE_OID, self.client_id))
        self.app_id_uri = f"api://{portal_client_id}"
        self.scope = f"{self.app_id_uri}/.default"

    def secret_of(self, client_id: str) -> str | None:
        return self.client_secret if client_id == self.client_id else None

    def wants_our_api(self, scope: str) -> bool:
        return scope.strip().lower() == self.scope.lower()

    def claims(self, sim, client_id: str) -> dict:
        """An app-only token for the portal's API; roles only for the automation client."""
        now = int(time.time())
        oid = str(uuid.uuid5(uuid.NAMESPACE_OID, client_id))
        return {
            "aud": self.app_id_uri,
            "iss": f"{sim.base}/{sim.tenant.tenant_id}/v2.0",
            "iat": now,
            "nbf": now - 5,
            "exp": now + sim.cfg.token_lifetime_s,
            "tid": sim.tenant.tenant_id,
            "oid": oid,
            "sub": oid,
            "azp": client_id,
            "appid": client_id,
            "idtyp": "app",
            "roles": list(API_ROLES) if client_id == self.client_id else [],
            "ver": "2.0",
        }
