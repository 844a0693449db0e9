"""The Sim: one object holding the tenant, settings, counters, keys and each part's state."""

from __future__ import annotations

import hashlib
import os
import random
import uuid
from pathlib import Path

from graphsim import acs
from graphsim.calls.store import Calls
from graphsim.graph.dispatch import Graph
from graphsim.graph.paging import Opaque
from graphsim.identity.api_client import ApiClient
from graphsim.identity.store import IdentityStore
from graphsim.keys import SigningKey, b64u
from graphsim.state import Bucket, Config, Faults, Stats
from graphsim.tenant.changes import load_tenant_file
from graphsim.tenant.demo import build_demo
from graphsim.tenant.store import Tenant


class Sim:
    def __init__(self, args, state_dir: Path):
        self.args = args
        self.seed = args.seed
        self.state_dir = state_dir
        self.cfg = Config.from_args(args)
        self.stats = Stats()
        self.bucket = Bucket()
        self.faults = Faults(args.seed)
        self.lat_rng = random.Random(args.seed + 11)
        self.redirect_uris = list(args.redirect_uri or [])
        self.tenant = self.build_tenant()
        ns = uuid.uuid5(uuid.NAMESPACE_URL, f"graphsim:{args.seed}")
        self.client_id = str(uuid.uuid5(ns, "client"))
        digest = hashlib.sha256(f"graphsim-secret:{args.seed}".encode()).digest()
        self.client_secret = "gs8Q~" + b64u(digest)[:35]
        self.api_client = ApiClient(args.seed, self.client_id)
        self.opaque = Opaque(hashlib.sha256(f"graphsim-opaque:{args.seed}".encode()).digest())
        self.id_key = SigningKey(state_dir, "identity")
        self.cb_key = SigningKey(state_dir, "callbacks")
        self.acs_key = acs.access_key_for(args.seed)
        self.base = ""  # set once the port is known
        self.ca_path = ""  # set once the TLS files are made
        self.identity = IdentityStore()
        self.calls = Calls(self)
        self.graph = Graph(self)

    def build_tenant(self) -> Tenant:
        """The tenant of the command line: the tenant file, or the demo tenant of the seed."""
        if self.args.tenant_file:
            return load_tenant_file(self.args.tenant_file, self.args.seed)
        return build_demo(self.args.seed, self.args.users, self.args.voice_share)

    @property
    def authority(self) -> str:
        return f"{self.base}/{self.tenant.tenant_id}"

    def info(self) -> dict:
        """The ready line: what a client needs to talk to this tenant."""
        return {
            "graph": self.base,
            "authority": self.authority,
            "tenant": self.tenant.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "api_client_id": self.api_client.client_id,
            "api_client_secret": self.api_client.client_secret,
            "api_scope": self.api_client.scope,
            "api_user_scope": self.api_client.user_scope,
            "ca": self.ca_path,
            "callback_openid_config": f"{self.base}/callbacks/v1/.well-known/OpenIdConfiguration",
            "callback_jwks": f"{self.base}/callbacks/v1/keys",
            "callback_issuer": self.cfg.callback_issuer,
            "delegation_writes": self.cfg.delegation_writes,
            "sim": f"{self.base}/_sim",
            "acs_endpoint": self.base,
            "acs_connection_string": acs.connection_string(self.base, self.acs_key),
            "domain": "contoso.test",
            "users": len(self.tenant.users),
            "delegations": self.tenant.grant_count(),
            "seed": self.seed,
            "pid": os.getpid(),
        }
