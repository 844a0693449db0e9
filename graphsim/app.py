"""The ASGI application: one Sim object holding the tenant, identity, Graph, calls and hooks."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import time
import uuid
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import acs
from .calls import Calls
from .graph import Graph
from .identity import Identity, is_loopback_host
from .keys import SigningKey, b64u
from .state import Bucket, Config, Faults, Stats
from .tenant import Tenant, TenantError, actions_to_bits, build_demo, parse_iso
from .util import GRAPH_CT, Ctx, DropConnection, Opaque, dumps, graph_error

log = logging.getLogger("graphsim")


def load_tenant_file(path: str, seed: int) -> Tenant:
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    t = Tenant(seed)
    if doc.get("tenant"):
        t.tenant_id = doc["tenant"]
    for g in doc.get("groups") or []:
        t.groups[g["id"]] = g.get("displayName", "")
    for u in doc.get("users") or []:
        t.add_user(u, log=False)
    for d in doc.get("delegations") or []:
        apply_grant(t, d, check=False)
    t.version = 0
    return t


def apply_grant(t: Tenant, d: dict, check: bool = True):
    delegator = t.resolve_id(d["delegator"])
    delegate = t.resolve_id(d["delegate"])
    existing = t.get_grant(delegator, delegate)
    base = existing.bits if existing else (1 << 1)
    bits = (
        actions_to_bits(d.get("allowedActions"), base)
        if "allowedActions" in d
        else (None if existing else base)
    )
    created = parse_iso(d["createdDateTime"]) if d.get("createdDateTime") else None
    return t.set_grant(
        delegator,
        delegate,
        d.get("isActive", None if existing else True),
        created,
        bits,
        check=check,
    )


class Sim:
    def __init__(self, args, state_dir: Path):
        self.args = args
        self.seed = args.seed
        self.state_dir = state_dir
        self.cfg = Config(
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            throttle_rps=args.throttle_rps,
            fault_rate=args.fault_rate,
            strict_callbacks=args.strict_callbacks,
        )
        self.stats = Stats()
        self.bucket = Bucket()
        self.faults = Faults(args.seed)
        self.lat_rng = random.Random(args.seed + 11)
        self.redirect_uris = list(args.redirect_uri or [])
        self.tenant = self._build_tenant()
        ns = uuid.uuid5(uuid.NAMESPACE_URL, f"graphsim:{args.seed}")
        self.client_id = str(uuid.uuid5(ns, "client"))
        digest = hashlib.sha256(f"graphsim-secret:{args.seed}".encode()).digest()
        self.client_secret = "gs8Q~" + b64u(digest)[:35]
        self.opaque = Opaque(hashlib.sha256(f"graphsim-opaque:{args.seed}".encode()).digest())
        self.id_key = SigningKey(state_dir, "identity")
        self.cb_key = SigningKey(state_dir, "callbacks")
        self.acs_key = acs.access_key_for(args.seed)
        self.base = ""  # set once the port is known
        self.identity = Identity(self)
        self.calls = Calls(self)
        self.graph = Graph(self)

    def _build_tenant(self) -> Tenant:
        if self.args.tenant_file:
            return load_tenant_file(self.args.tenant_file, self.args.seed)
        return build_demo(self.args.seed, self.args.users)

    @property
    def authority(self) -> str:
        return f"{self.base}/{self.tenant.tenant_id}"

    def info(self, ca_path: str) -> dict:
        return {
            "graph": self.base,
            "authority": self.authority,
            "tenant": self.tenant.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "ca": ca_path,
            "callback_openid_config": f"{self.base}/callbacks/v1/.well-known/OpenIdConfiguration",
            "callback_jwks": f"{self.base}/callbacks/v1/keys",
            "callback_issuer": self.cfg.callback_issuer,
            "sim": f"{self.base}/_sim",
            "acs_endpoint": self.base,
            "acs_connection_string": acs.connection_string(self.base, self.acs_key),
            "domain": "contoso.test",
            "users": len(self.tenant.users),
            "delegations": self.tenant.grant_count(),
            "seed": self.seed,
            "pid": __import__("os").getpid(),
        }


# ---------------------------------------------------------------------- middleware
class _Buffered:
    """Stands in for the server's transport while a response is written: one write, not two
    (each TLS write is a system call, and those dominate the cost of a small answer)."""

    def __init__(self, real):
        self.real = real
        self.parts: list[bytes] = []
        self.close_after = False

    def write(self, data):
        self.parts.append(data)

    def close(self):
        self.close_after = True

    def __getattr__(self, name):
        return getattr(self.real, name)


async def _send_coalesced(cycle, send, start, body):
    real = cycle.transport
    buf = _Buffered(real)
    cycle.transport = buf
    try:
        await send(start)
        await send(body)
    finally:
        cycle.transport = real
        if buf.parts and not real.is_closing():
            real.write(b"".join(buf.parts))
        if buf.close_after:
            real.close()


class Outer:
    """Request ids, in-flight and per-route counters, latency, dropped connections."""

    def __init__(self, app, sim: Sim):
        self.app = app
        self.sim = sim

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        sim = self.sim
        path = scope["path"]
        is_sim = path.startswith("/_sim")
        rid = str(uuid.uuid4())
        crid = None
        for k, v in scope["headers"]:
            if k == b"client-request-id":
                crid = v.decode("latin-1")
                break
        scope["graphsim.rid"] = rid
        cycle = getattr(send, "__self__", None)
        scope["graphsim.transport"] = getattr(cycle, "transport", None)
        if scope["graphsim.transport"] is None:
            cycle = None
        scope["graphsim.crid"] = crid
        status_box = [0]
        extra = [(b"request-id", rid.encode())]
        if crid:
            extra.append((b"client-request-id", crid.encode("latin-1")))

        held = []

        async def send2(msg):
            if msg["type"] == "http.response.start":
                status_box[0] = msg["status"]
                msg["headers"] = list(msg.get("headers", [])) + extra
                if cycle is not None:
                    held.append(msg)  # sent with the body, in one TLS record
                    return
            elif held and not msg.get("more_body"):
                await _send_coalesced(cycle, send, held.pop(), msg)
                return
            elif held:
                await send(held.pop())
            await send(msg)

        if is_sim and not is_loopback_host((scope.get("client") or ("",))[0]):
            # test hooks answer loopback callers only, even when --host exposes the server
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [(b"content-type", b"application/json")] + extra,
                }
            )
            await send({"type": "http.response.body", "body": b'{"error":"loopback only"}'})
            return
        stats = sim.stats
        if not is_sim:
            stats.total += 1
            stats.in_flight += 1
            if stats.in_flight > stats.peak_in_flight:
                stats.peak_in_flight = stats.in_flight
        try:
            cfg = sim.cfg
            if not is_sim and (cfg.latency_ms or cfg.jitter_ms):
                d = cfg.latency_ms + (
                    sim.lat_rng.uniform(-cfg.jitter_ms, cfg.jitter_ms) if cfg.jitter_ms else 0.0
                )
                if d > 0:
                    await asyncio.sleep(d / 1000)
            await self.app(scope, receive, send2)
            if scope.get("graphsim.dropped"):
                status_box[0] = "dropped"
        finally:
            if not is_sim:
                stats.in_flight -= 1
                route = scope.get("graphsim.route") or "other"
                stats.routes[route][status_box[0]] += 1


# ---------------------------------------------------------------------- Graph endpoint
def graph_response(res, ctx_headers=None) -> Response:
    headers = dict(res.headers)
    if res.body is None:
        return Response(status_code=res.status, headers=headers)
    headers.setdefault("Content-Type", GRAPH_CT)
    return Response(dumps(res.body), status_code=res.status, headers=headers, media_type=None)


def make_graph_endpoint(sim: Sim, version: str):
    graph = sim.graph

    async def endpoint(request: Request):
        try:
            return await inner(request)
        except DropConnection:
            scope = request.scope
            scope["graphsim.dropped"] = True
            transport = scope.get("graphsim.transport")
            if transport is None:
                raise  # unknown server: a 500 is the best we can do
            transport.abort()
            await asyncio.sleep(0.01)  # let the server see the connection lost
            return Response(status_code=500)
        except Exception as e:  # a graphsim bug: still answer in Graph's shape
            log.exception("graphsim failed on %s %s", request.method, request.url.path)
            scope = request.scope
            ctx = Ctx(scope["graphsim.rid"], scope["graphsim.crid"], None, sim.base, version)
            return graph_response(
                graph_error(ctx, 500, "generalException", f"graphsim internal error: {e!r}")
            )

    async def inner(request: Request):
        scope = request.scope
        path = request.path_params["path"]
        ctx = Ctx(scope["graphsim.rid"], scope["graphsim.crid"], None, sim.base, version)
        method = request.method
        bad = graph.authenticate(request.headers.get("authorization"), ctx)
        if path.strip("/") == "$batch":
            scope["graphsim.route"] = f"POST /{version}/$batch"
            if bad is not None:
                return graph_response(bad)
            if method != "POST":
                return graph_response(
                    graph_error(
                        ctx, 405, "Request_BadRequest", "Specified HTTP method is not allowed."
                    )
                )
            r = await graph.gate(ctx, f"/{version}/$batch")
            if r is not None:
                return graph_response(r)
            return graph_response(await graph.batch(ctx, await request.body()))
        if bad is not None:
            m = graph.match(version, method, path.strip("/"))
            scope["graphsim.route"] = f"{method} /{version}/{m[0]}" if m else "unknown"
            return graph_response(bad)
        body = await request.body() if method in ("POST", "PATCH", "PUT") else None
        route, res = await graph.dispatch(
            ctx, method, path, scope["query_string"].decode("latin-1"), request.headers, body
        )
        scope["graphsim.route"] = route
        return graph_response(res)

    return endpoint


# ---------------------------------------------------------------------- /_sim hooks
def make_hooks(sim: Sim):
    async def body_json(request: Request) -> dict:
        raw = await request.body()
        if not raw:
            return {}
        return json.loads(raw)

    def bad(msg: str, status: int = 400):
        return JSONResponse({"error": msg}, status_code=status)

    async def stats(request):
        return JSONResponse(sim.stats.as_dict())

    async def reset(request):
        d = await body_json(request)
        sim.stats.reset()
        sim.bucket = Bucket()
        ident = sim.identity
        ident.fail_next = ident.slow_next = 0  # pending token endpoint failures are faults too
        if d.get("tenant"):
            sim.tenant = sim._build_tenant()
            sim.tenant.epoch = int(time.time() * 1000) % 10**9  # old delta tokens now expire
        if d.get("calls"):
            sim.calls.reset()
        if d.get("config"):
            keep = sim.cfg
            sim.cfg = Config(
                latency_ms=sim.args.latency_ms,
                jitter_ms=sim.args.jitter_ms,
                throttle_rps=sim.args.throttle_rps,
                fault_rate=sim.args.fault_rate,
                strict_callbacks=sim.args.strict_callbacks,
            )
            del keep
        return JSONResponse(
            {"ok": True, "users": len(sim.tenant.users), "delegations": sim.tenant.grant_count()}
        )

    async def faults(request):
        if request.method == "GET":
            return JSONResponse(sim.cfg.as_dict())
        try:
            d = await body_json(request)
        except ValueError:
            return bad("body must be JSON")
        if not isinstance(d, dict):
            return bad("body must be a JSON object")
        try:
            unknown = sim.cfg.update(d)
        except (TypeError, ValueError) as e:
            return bad(str(e))
        if unknown:
            return bad(f"unknown settings: {', '.join(unknown)}")
        return JSONResponse(sim.cfg.as_dict())

    async def tokens(request):
        try:
            d = await body_json(request)
        except ValueError:
            return bad("body must be JSON")
        out = {}
        ident = sim.identity
        rv = d.get("revoke")
        if rv:
            who = rv if isinstance(rv, list) else [rv]
            out["revoked"] = sum(ident.revoke(w) for w in who)
        if d.get("expire_all_refresh"):
            out["expired"] = ident.expire_all()
        if "fail_next" in d:
            ident.fail_next = int(d["fail_next"])
            ident.fail_status = int(d.get("fail_status", 500))
        if "slow_next" in d:
            ident.slow_next = int(d["slow_next"])
            ident.slow_ms = float(d.get("slow_ms", 2000))
        if "expire_codes" in d:
            for c in ident.codes.values():
                c["expires"] = 0
        out.update(
            {
                "fail_next": ident.fail_next,
                "slow_next": ident.slow_next,
                "refresh_tokens": len(ident.refresh),
            }
        )
        return JSONResponse(out)

    async def delta_expire(request):
        sim.tenant.epoch += 1
        return JSONResponse({"ok": True, "epoch": sim.tenant.epoch})

    async def truth(request):
        t = sim.tenant
        gids = sim.cfg.delegation_id_mode == "grant" or request.query_params.get("grant_ids")
        doc = (
            await asyncio.to_thread(lambda: dumps(t.truth(bool(gids))))
            if len(t.users) > 5000
            else dumps(t.truth(bool(gids)))
        )
        return Response(doc, media_type="application/json")

    async def tenant(request):
        try:
            d = await body_json(request)
        except ValueError:
            return bad("body must be JSON")
        t = sim.tenant
        done = {
            "users_added": [],
            "users_updated": 0,
            "users_removed": 0,
            "delegations_set": 0,
            "delegations_removed": 0,
        }
        try:
            users = d.get("users") or {}
            for u in users.get("add") or []:
                done["users_added"].append(t.add_user(u).id)
            for u in users.get("update") or []:
                t.update_user(u)
                done["users_updated"] += 1
            for r in users.get("remove") or []:
                if isinstance(r, dict):
                    t.remove_user(
                        r.get("id") or r.get("userPrincipalName"),
                        r.get("reason", "deleted"),
                        bool(r.get("keepDelegations")),
                    )
                else:
                    t.remove_user(r)
                done["users_removed"] += 1
            dels = d.get("delegations") or {}
            if dels.get("clear"):
                t.delegates_of.clear()
                t.delegators_of.clear()
                t.grant_by_gid = None
            for g in dels.get("set") or []:
                apply_grant(t, g, check=not g.get("force"))
                done["delegations_set"] += 1
            for g in dels.get("remove") or []:
                if t.remove_grant(t.resolve_id(g["delegator"]), t.resolve_id(g["delegate"])):
                    done["delegations_removed"] += 1
        except TenantError as e:
            done["error"] = str(e)
            return JSONResponse(done, status_code=400)
        except (KeyError, TypeError, ValueError) as e:
            done["error"] = f"bad tenant change: {e!r}"
            return JSONResponse(done, status_code=400)
        done["users"] = len(t.users)
        done["delegations"] = t.grant_count()
        return JSONResponse(done)

    async def user_lookup(request):
        u = sim.tenant.find_user(request.path_params["ref"])
        if u is None:
            return bad("unknown user", 404)
        d = u.to_truth()
        d["delegates"] = [g.to_truth() for g in sim.tenant.delegates_of.get(u.id, ())]
        d["delegators"] = [g.to_truth() for g in sim.tenant.delegators_of.get(u.id, ())]
        return JSONResponse(d)

    async def incoming(request):
        try:
            d = await body_json(request)
        except ValueError:
            return bad("body must be JSON")
        status, out = sim.calls.incoming(d)
        return JSONResponse(out, status_code=status)

    async def calls(request):
        return JSONResponse({"value": sim.calls.snapshot()})

    async def info(request):
        return JSONResponse(sim.info(sim.ca_path))

    return [
        Route("/_sim", info, methods=["GET"]),
        Route("/_sim/info", info, methods=["GET"]),
        Route("/_sim/stats", stats, methods=["GET"]),
        Route("/_sim/reset", reset, methods=["POST"]),
        Route("/_sim/faults", faults, methods=["GET", "POST"]),
        Route("/_sim/config", faults, methods=["GET", "POST"]),
        Route("/_sim/tokens", tokens, methods=["POST"]),
        Route("/_sim/delta/expire", delta_expire, methods=["POST"]),
        Route("/_sim/truth", truth, methods=["GET"]),
        Route("/_sim/tenant", tenant, methods=["POST"]),
        Route("/_sim/users/{ref}", user_lookup, methods=["GET"]),
        Route("/_sim/incoming-call", incoming, methods=["POST"]),
        Route("/_sim/calls", calls, methods=["GET"]),
    ]


def make_callback_routes(sim: Sim):
    async def oidc(request):
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

    async def keys(request):
        request.scope["graphsim.route"] = "GET /callbacks/v1/keys"
        jwk = dict(sim.cb_key.jwk)
        jwk["endorsements"] = ["msteams"]
        return JSONResponse({"keys": [jwk]})

    return [
        Route("/callbacks/v1/.well-known/OpenIdConfiguration", oidc, methods=["GET"]),
        Route("/callbacks/v1/.well-known/openid-configuration", oidc, methods=["GET"]),
        Route("/callbacks/v1/keys", keys, methods=["GET"]),
    ]


def build_app(sim: Sim):
    ident = sim.identity
    ALL = ["GET", "POST", "PATCH", "PUT", "DELETE"]

    async def root(request):
        return JSONResponse({"graphsim": True, "sim": f"{sim.base}/_sim"})

    routes = (
        make_hooks(sim)
        + make_callback_routes(sim)
        + acs.acs_routes(
            access_key=lambda: sim.acs_key,
            entra_public_key=lambda: sim.id_key.key.public_key(),
            tenant_id=lambda: sim.tenant.tenant_id,
            sign=ident.sign,
        )
        + [
            Route("/", root, methods=["GET"]),
            Route("/v1.0/{path:path}", make_graph_endpoint(sim, "v1.0"), methods=ALL),
            Route("/beta/{path:path}", make_graph_endpoint(sim, "beta"), methods=ALL),
            Route(
                "/{tenant}/v2.0/.well-known/openid-configuration",
                ident.openid_configuration,
                methods=["GET"],
            ),
            Route("/{tenant}/discovery/v2.0/keys", ident.jwks, methods=["GET"]),
            Route("/{tenant}/discovery/keys", ident.jwks, methods=["GET"]),
            Route("/{tenant}/oauth2/v2.0/authorize", ident.authorize, methods=["GET", "POST"]),
            Route("/{tenant}/oauth2/v2.0/token", ident.token, methods=["POST"]),
            Route("/{tenant}/oauth2/v2.0/logout", ident.logout, methods=["GET", "POST"]),
        ]
    )

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await sim.calls.start()
        try:
            yield
        finally:
            await sim.calls.stop()

    app = Starlette(routes=routes, lifespan=lifespan)
    return Outer(app, sim)
