"""Microsoft Graph: auth, throttling/faults, users, delta, call delegation, $batch."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from urllib.parse import parse_qsl, quote

import jwt

from .tenant import ACTIONS, DEFAULT_SELECT, USER_PROPS, iso
from .util import Ctx, DropConnection, Resp, graph_error, new_id

SELECT_CANON = {p.lower(): p for p in USER_PROPS}
FILTER_CLAUSE = re.compile(r"^\s*(allowedActions/(\w+)|isActive)\s+eq\s+(true|false)\s*$", re.I)
ACTION_CANON = {a.lower(): a for a in ACTIONS}
GUIDISH = re.compile(r"^[0-9a-fA-F-]{36}$")


USER_FILTER = re.compile(
    r"^\s*(?:startswith\((\w+),\s*'((?:[^']|'')*)'\)"
    r"|(\w+)\s+eq\s+(?:'((?:[^']|'')*)'|(true|false)))\s*$",
    re.I,
)
FILTERABLE = {
    "displayname",
    "userprincipalname",
    "mail",
    "givenname",
    "surname",
    "jobtitle",
    "department",
    "id",
    "accountenabled",
}


def user_filter(flt: str):
    """The basics of $filter on users: startswith(prop,'x'), prop eq 'x' | true | false,
    joined by `and`. Anything else is a 400, as Graph answers unsupported queries."""
    preds = []
    for clause in re.split(r"\s+and\s+", flt.strip(), flags=re.I):
        mo = USER_FILTER.match(clause)
        if mo is None:
            raise ValueError(f"Unsupported or invalid query filter clause: {clause}")
        prop = (mo.group(1) or mo.group(3)).lower()
        if prop not in FILTERABLE:
            raise ValueError(f"Unsupported or invalid query filter clause: {clause}")
        attr = SELECT_CANON[prop] if prop != "id" else "id"
        if mo.group(1):
            val = mo.group(2).replace("''", "'").lower()
            preds.append(lambda u, a=attr, v=val: (getattr(u, a) or "").lower().startswith(v))
        elif mo.group(5):
            want = mo.group(5).lower() == "true"
            preds.append(lambda u, a=attr, w=want: getattr(u, a) is w)
        else:
            val = mo.group(4).replace("''", "'").lower()
            preds.append(lambda u, a=attr, v=val: str(getattr(u, a) or "").lower() == v)
    return lambda u: all(p(u) for p in preds)


def _q(s: str) -> str:
    return quote(s, safe=",/'()=:@")


class Graph:
    def __init__(self, sim):
        self.sim = sim
        self.token_cache: dict[str, dict] = {}
        self.rng = random.Random(sim.seed * 31 + 7)
        self.routes = self._build_routes()

    # ------------------------------------------------------------------ routing table
    def _build_routes(self):
        c = self.sim.calls
        D = self.delegation
        R = [
            # (versions, method set, regex, template, handler, permission)
            (("v1.0", "beta"), "GET", r"users", "users", self.list_users, "users"),
            (("v1.0", "beta"), "GET", r"users/delta(?:\(\))?", "users/delta", self.delta, "users"),
            (("v1.0", "beta"), "GET", r"users/([^/]+)", "users/{id}", self.get_user, "users"),
            (("v1.0", "beta"), "GET", r"me", "me", self.me, "me"),
            (
                ("beta",),
                "*",
                r"(me|users/[^/]+)/communications/callSettings/(delegates|delegators)",
                "{who}/communications/callSettings/{kind}",
                D,
                "delegation",
            ),
            (
                ("beta",),
                "*",
                r"(me|users/[^/]+)/communications/callSettings/(delegates|delegators)/([^/]+)",
                "{who}/communications/callSettings/{kind}/{id}",
                D,
                "delegation",
            ),
            (
                ("v1.0", "beta"),
                "POST",
                r"communications/calls",
                "communications/calls",
                c.create,
                "calls",
            ),
            (
                ("v1.0", "beta"),
                "GET",
                r"communications/calls",
                "communications/calls",
                c.list_calls,
                "calls",
            ),
            (
                ("v1.0", "beta"),
                "GET",
                r"communications/calls/([^/]+)",
                "communications/calls/{id}",
                c.get,
                "calls",
            ),
            (
                ("v1.0", "beta"),
                "DELETE",
                r"communications/calls/([^/]+)",
                "communications/calls/{id}",
                c.delete,
                "calls",
            ),
            (
                ("v1.0", "beta"),
                "GET",
                r"communications/calls/([^/]+)/participants",
                "communications/calls/{id}/participants",
                c.participants,
                "calls",
            ),
            (
                ("v1.0", "beta"),
                "POST",
                r"communications/calls/([^/]+)/(transfer|redirect|keepAlive|answer|reject)",
                "communications/calls/{id}/{action}",
                c.action,
                "calls",
            ),
        ]
        out = []
        for versions, method, rx, tmpl, handler, perm in R:
            out.append((versions, method, re.compile(rx + "$", re.I), tmpl, handler, perm))
        return out

    def match(self, version: str, method: str, path: str):
        """-> (template, handler, perm, groups) | ("405", ...) | None"""
        method_mismatch = None
        for versions, m, rx, tmpl, handler, perm in self.routes:
            if version not in versions:
                continue
            mo = rx.match(path)
            if mo is None:
                continue
            if m != "*" and m != method:
                method_mismatch = tmpl
                continue
            return tmpl, handler, perm, mo.groups()
        if method_mismatch:
            return method_mismatch, None, None, ()
        return None

    # ------------------------------------------------------------------ auth
    def authenticate(self, authz: str | None, ctx: Ctx) -> Resp | None:
        if not authz or authz[:7].lower() != "bearer ":
            return graph_error(
                ctx,
                401,
                "InvalidAuthenticationToken",
                "Access token is empty.",
                {
                    "WWW-Authenticate": 'Bearer realm="", authorization_uri="'
                    + self.sim.authority
                    + '/oauth2/authorize"'
                },
            )
        token = authz[7:].strip()
        claims = self.token_cache.get(token)
        if claims is None:
            try:
                claims = jwt.decode(
                    token,
                    self.sim.id_key.key.public_key(),
                    algorithms=["RS256"],
                    audience=[
                        "https://graph.microsoft.com",
                        "00000003-0000-0000-c000-000000000000",
                    ],
                    options={"verify_exp": False, "verify_nbf": False},
                )
            except jwt.PyJWTError as e:
                return graph_error(
                    ctx, 401, "InvalidAuthenticationToken", f"Access token validation failure. {e}"
                )
            if claims.get("tid") != self.sim.tenant.tenant_id:
                return graph_error(
                    ctx,
                    401,
                    "InvalidAuthenticationToken",
                    "Access token validation failure. Invalid audience or tenant.",
                )
            if len(self.token_cache) > 20000:
                self.token_cache.clear()
            claims["_scp"] = set((claims.get("scp") or "").split())
            claims["_roles"] = set(claims.get("roles") or ()) if "scp" not in claims else set()
            self.token_cache[token] = claims
        if claims["exp"] < time.time():
            return graph_error(
                ctx,
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )
        ctx.claims = claims
        return None

    def authorize(self, perm: str, ctx: Ctx) -> Resp | None:
        c = ctx.claims
        scp, roles = c["_scp"], c["_roles"]
        delegated = "scp" in c
        if perm == "users":
            if scp & {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All"} or (
                roles & {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All"}
            ):
                return None
            return graph_error(
                ctx,
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        if perm == "me":
            if not delegated:
                return graph_error(
                    ctx,
                    400,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                )
            if scp & {"User.Read", "User.Read.All", "User.ReadWrite.All"}:
                return None
            return graph_error(
                ctx,
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        if perm == "delegation":
            if delegated and scp & {"CallDelegation.Read", "CallDelegation.ReadWrite"}:
                return None
            if (
                not delegated
                and self.sim.cfg.app_delegation_read
                and roles & {"CallDelegation.Read.All", "CallDelegation.ReadWrite.All"}
            ):
                return None
            return graph_error(
                ctx,
                403,
                "Forbidden",
                "Missing scope permissions on the request. API requires one of "
                "'CallDelegation.Read, CallDelegation.ReadWrite'.",
            )
        if perm == "calls":
            if not delegated and "Calls.Initiate.All" in roles:
                return None
            return graph_error(
                ctx,
                403,
                "Forbidden",
                "Application does not have permission Calls.Initiate.All to make calls.",
            )
        return None

    # ------------------------------------------------------------------ throttling / faults
    async def gate(self, ctx: Ctx, path: str) -> Resp | None:
        """Charge the token bucket and maybe inject a fault. May raise DropConnection."""
        sim = self.sim
        cfg = sim.cfg
        stats = sim.stats
        if cfg.fail_next:
            for i, f in enumerate(cfg.fail_next):
                pc = f.get("path_contains")
                if pc and pc not in path:
                    continue
                cfg.fail_next.pop(i)
                status = f.get("status", 503)
                stats.faults[f"forced_{status}"] += 1
                if status == "drop":
                    if ctx.batch:
                        return graph_error(ctx, 503, "serviceNotAvailable", "Injected failure.")
                    raise DropConnection()
                if status == "slow":
                    await asyncio.sleep(float(f.get("ms", cfg.slow_ms)) / 1000)
                    return None
                headers = {}
                if f.get("retry_after") is not None:
                    headers["Retry-After"] = str(f["retry_after"])
                code = f.get("code") or {
                    429: "TooManyRequests",
                    503: "serviceNotAvailable",
                    504: "gatewayTimeout",
                    500: "generalException",
                    404: "Request_ResourceNotFound",
                    401: "InvalidAuthenticationToken",
                    403: "Forbidden",
                }.get(int(status), "generalException")
                return graph_error(
                    ctx, int(status), code, f.get("message") or "Injected failure.", headers
                )
        wait = sim.bucket.take(cfg.throttle_rps, cfg.throttle_burst)
        if wait is not None:
            stats.throttled += 1
            return graph_error(
                ctx,
                429,
                "TooManyRequests",
                "Too many requests. Application is over its request quota.",
                {"Retry-After": sim.bucket.format_retry_after(wait)},
            )
        kind = sim.faults.pick(cfg)
        if kind is None:
            return None
        if kind == "drop" and ctx.batch:
            return None  # a dropped connection applies to the whole request only
        stats.faults[kind] += 1
        if kind == "429":
            stats.throttled += 1
            return graph_error(ctx, 429, "TooManyRequests", "Too many requests.")
        if kind == "503":
            return graph_error(
                ctx,
                503,
                "serviceNotAvailable",
                "Service unavailable. Please try again later.",
                {"Retry-After": "1"} if self.rng.random() < 0.5 else None,
            )
        if kind == "504":
            return graph_error(ctx, 504, "gatewayTimeout", "Gateway timeout.")
        if kind == "slow":
            await asyncio.sleep(cfg.slow_ms / 1000)
            return None
        if kind == "drop":
            raise DropConnection()
        return None

    # ------------------------------------------------------------------ dispatch
    async def dispatch(
        self,
        ctx: Ctx,
        method: str,
        path: str,
        query: str,
        headers: dict,
        body: bytes | None,
        gate_done: bool = False,
    ) -> tuple[str, Resp]:
        """Runs one Graph request (top level or batch item) after authentication."""
        path = path.strip("/")
        m = self.match(ctx.version, method, path)
        if m is None:
            seg = path.split("/")[-1] if path else ""
            return "unknown", graph_error(
                ctx, 400, "BadRequest", f"Resource not found for the segment '{seg}'."
            )
        tmpl, handler, perm, groups = m
        route = f"{method} /{ctx.version}/{tmpl}"
        if handler is None:
            return route, graph_error(
                ctx,
                405,
                "Request_BadRequest",
                "Specified HTTP method is not allowed for the request uri.",
            )
        if not gate_done:
            r = await self.gate(ctx, f"/{ctx.version}/{path}")
            if r is not None:
                return route, r
        r = self.authorize(perm, ctx)
        if r is not None:
            return route, r
        q = {}
        for k, v in parse_qsl(query, keep_blank_values=True):
            q[k.lower()] = v
        try:
            if method in ("POST", "PATCH", "PUT") and body:
                try:
                    jbody = json.loads(body) if isinstance(body, (bytes, str)) else body
                except ValueError:
                    return route, graph_error(
                        ctx, 400, "BadRequest", "Unable to read JSON request payload."
                    )
            else:
                jbody = body if isinstance(body, dict) else None
            res = handler(ctx, method, groups, q, jbody)
            if asyncio.iscoroutine(res):
                res = await res
            return route, res
        except ValueError as e:
            return route, graph_error(ctx, 400, "BadRequest", str(e))

    # ------------------------------------------------------------------ users
    def _select(self, q: dict) -> tuple[tuple, str]:
        raw = q.get("$select") or q.get("select")
        if not raw:
            return DEFAULT_SELECT, ""
        out = []
        for p in raw.split(","):
            p = p.strip()
            c = SELECT_CANON.get(p.lower())
            if c is None:
                raise ValueError(
                    f"Could not find a property named '{p}' on type 'microsoft.graph.user'."
                )
            if c not in out:
                out.append(c)
        if "id" not in out:
            out.append("id")
        return tuple(out), raw

    def list_users(self, ctx, method, groups, q, body):
        select, raw_select = self._select(q)
        if "$search" in q or "$orderby" in q:
            raise ValueError("graphsim supports $select, $top, $filter and $skiptoken on /users.")
        flt = q.get("$filter")
        top_raw = q.get("$top")
        if top_raw is None:
            top = self.sim.cfg.users_default_top
        else:
            try:
                top = int(top_raw)
            except ValueError:
                top = -1
            if not 1 <= top <= 999:
                raise ValueError(
                    f"Invalid page size specified: '{top_raw}'. "
                    "Must be between 1 and 999 inclusive."
                )
        t = self.sim.tenant
        offset = 0
        if "$skiptoken" in q:
            parts = self.sim.opaque.decode(q["$skiptoken"])
            if not parts or parts[0] != "u":
                return graph_error(
                    ctx,
                    400,
                    "Request_BadRequest",
                    "The specified page token value has expired or is invalid.",
                )
            offset = int(parts[1])
        users = t.users
        order = t.order
        if flt:
            pred = user_filter(flt)
            order = [i for i in order if pred(users[i])]
        ids = order[offset : offset + top]
        value = [users[i].to_graph(select) for i in ids]
        body = {
            "@odata.context": f"{ctx.base}/{ctx.version}/$metadata#users"
            + (f"({','.join(select)})" if raw_select else "")
        }
        if offset + top < len(order):
            tok = self.sim.opaque.encode("u", offset + top)
            qs = []
            if raw_select:
                qs.append("$select=" + _q(raw_select))
            if flt:
                qs.append("$filter=" + _q(flt))
            if top_raw is not None:
                qs.append(f"$top={top}")
            qs.append("$skiptoken=" + tok)
            body["@odata.nextLink"] = f"{ctx.base}/{ctx.version}/users?" + "&".join(qs)
        body["value"] = value
        return Resp(200, body)

    def get_user(self, ctx, method, groups, q, body):
        select, _ = self._select(q)
        u = self.sim.tenant.find_user(groups[0])
        if u is None:
            return graph_error(
                ctx,
                404,
                "Request_ResourceNotFound",
                f"Resource '{groups[0]}' does not exist or one of its queried reference-property "
                "objects are not present.",
            )
        d = {"@odata.context": f"{ctx.base}/{ctx.version}/$metadata#users/$entity"}
        d.update(u.to_graph(select))
        return Resp(200, d)

    def me(self, ctx, method, groups, q, body):
        return self.get_user(ctx, method, (ctx.claims["oid"],), q, body)

    def delta(self, ctx, method, groups, q, body):
        sim = self.sim
        t = sim.tenant
        op = sim.opaque
        cfg = sim.cfg
        page = cfg.delta_page_size
        base = f"{ctx.base}/{ctx.version}/users/delta"
        ctx_url = {"@odata.context": f"{ctx.base}/{ctx.version}/$metadata#users"}

        def not_found():
            return graph_error(
                ctx,
                400,
                "syncStateNotFound",
                "The specified sync state was not found or has expired. Start a new sync.",
            )

        if "$deltatoken" in q or "$skiptoken" in q:
            tok = q.get("$deltatoken") or q.get("$skiptoken")
            if tok == "latest":
                _, sel_raw = self._select(q)  # the $select sticks to the links, as Graph does
                out = dict(ctx_url)
                out["@odata.deltaLink"] = f"{base}?$deltatoken=" + op.encode(
                    "dt", t.epoch, t.version, sel_raw
                )
                out["value"] = []
                return Resp(200, out)
            parts = op.decode(tok)
            if not parts or parts[0] not in ("dt", "di", "dc") or int(parts[1]) != t.epoch:
                return not_found()
            kind = parts[0]
            sel_raw = parts[-1]
        else:
            select, sel_raw = self._select(q)
            kind, parts = "start", None
        select, _ = self._select({"$select": sel_raw} if sel_raw else {})
        users = t.users
        if kind in ("start", "di"):
            v_to = t.version if kind == "start" else int(parts[2])
            offset = 0 if kind == "start" else int(parts[3])
            ids = t.order[offset : offset + page]
            value = [users[i].to_graph(select) for i in ids]
            more = offset + page < len(t.order)
            next_tok = op.encode("di", t.epoch, v_to, offset + page, sel_raw) if more else None
            delta_tok = op.encode("dt", t.epoch, v_to, sel_raw)
        else:
            if kind == "dt":
                v_from, v_to, offset = int(parts[2]), t.version, 0
            else:
                v_from, v_to, offset = int(parts[2]), int(parts[3]), int(parts[4])
            changes = t.changes_between(v_from, v_to)
            chunk = changes[offset : offset + page]
            value = []
            for uid, reason in chunk:
                u = users.get(uid)
                if u is None or reason is not None:
                    value.append({"id": uid, "@removed": {"reason": reason or "deleted"}})
                else:
                    value.append(u.to_graph(select))
            more = offset + page < len(changes)
            next_tok = (
                op.encode("dc", t.epoch, v_from, v_to, offset + page, sel_raw) if more else None
            )
            delta_tok = op.encode("dt", t.epoch, v_to, sel_raw)
        out = dict(ctx_url)
        if next_tok:
            out["@odata.nextLink"] = f"{base}?$skiptoken={next_tok}"
        else:
            out["@odata.deltaLink"] = f"{base}?$deltatoken={delta_tok}"
        out["value"] = value
        return Resp(200, out)

    # ------------------------------------------------------------------ delegation (beta)
    def delegation(self, ctx, method, groups, q, body):
        sim = self.sim
        cfg = sim.cfg
        t = sim.tenant
        who, kind = groups[0], groups[1]
        item = groups[2] if len(groups) > 2 else None
        if method != "GET":
            if cfg.delegation_write_status == 501:
                return graph_error(
                    ctx, 501, "NotImplemented", "The requested operation is not supported."
                )
            return graph_error(
                ctx,
                cfg.delegation_write_status,
                "Request_BadRequest",
                "Specified HTTP method is not allowed for the request uri.",
            )
        if who.lower() == "me":
            if "scp" not in ctx.claims:
                return graph_error(
                    ctx,
                    400,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                )
            ref = ctx.claims["oid"]
        else:
            ref = who.split("/", 1)[1]
        u = t.find_user(ref)
        if u is None:
            return graph_error(
                ctx,
                404,
                "Request_ResourceNotFound",
                f"Resource '{ref}' does not exist or one of its queried reference-property "
                "objects are not present.",
            )
        lst = (t.delegates_of if kind.lower() == "delegates" else t.delegators_of).get(u.id, ())
        by_other = kind.lower() == "delegates"
        grant_mode = cfg.delegation_id_mode == "grant"
        if item is not None:
            for g in lst:
                gid = t.gid(g) if grant_mode else (g.delegate if by_other else g.delegator)
                if gid == item:
                    d = {
                        "@odata.context": f"{ctx.base}/beta/$metadata#users('{u.id}')/"
                        f"communications/callSettings/{kind}/$entity"
                    }
                    d.update(self._ds(g, gid))
                    return Resp(200, d)
            return graph_error(
                ctx,
                404,
                "itemNotFound",
                f"No delegation '{item}' in {kind} of user '{u.id}'.",
            )
        flt = q.get("$filter") or q.get("filter")
        sel = list(lst)
        if flt:
            preds = []
            for clause in re.split(r"\s+and\s+", flt.strip(), flags=re.I):
                mo = FILTER_CLAUSE.match(clause)
                if mo is None:
                    raise ValueError(f"Invalid filter clause: {flt}")
                want = mo.group(3).lower() == "true"
                if mo.group(2):
                    name = ACTION_CANON.get(mo.group(2).lower())
                    if name is None:
                        raise ValueError(
                            f"Could not find a property named '{mo.group(2)}' on "
                            "type 'microsoft.graph.allowedActions'."
                        )
                    bit = 1 << ACTIONS.index(name)
                    preds.append(lambda g, b=bit, w=want: bool(g.bits & b) == w)
                else:
                    preds.append(lambda g, w=want: g.active == w)
            sel = [g for g in sel if all(p(g) for p in preds)]
        count = (q.get("$count") or q.get("count") or "").lower()
        if count not in ("", "true", "false"):
            raise ValueError("$count must be true or false.")
        out = {
            "@odata.context": f"{ctx.base}/beta/$metadata#users('{u.id}')/communications/"
            f"callSettings/{kind}"
        }
        if count == "true":
            out["@odata.count"] = len(sel)
        offset = 0
        size = cfg.delegation_page_size
        if "$skiptoken" in q:
            parts = sim.opaque.decode(q["$skiptoken"])
            if not parts or parts[0] != "dl":
                return graph_error(
                    ctx,
                    400,
                    "Request_BadRequest",
                    "The specified page token value has expired or is invalid.",
                )
            offset = int(parts[1])
        if size > 0:
            chunk = sel[offset : offset + size]
            if offset + size < len(sel):
                qs = []
                if flt:
                    qs.append("$filter=" + _q(flt))
                if count:
                    qs.append("$count=" + count)
                qs.append("$skiptoken=" + sim.opaque.encode("dl", offset + size))
                out["@odata.nextLink"] = (
                    f"{ctx.base}/beta/{who}/communications/callSettings/{kind}?" + "&".join(qs)
                )
        else:
            chunk = sel
        out["value"] = [
            self._ds(g, t.gid(g) if grant_mode else (g.delegate if by_other else g.delegator))
            for g in chunk
        ]
        return Resp(200, out)

    @staticmethod
    def _ds(g, gid) -> dict:
        b = g.bits
        return {
            "@odata.type": "#microsoft.graph.delegationSettings",
            "id": gid,
            "createdDateTime": iso(g.created),
            "isActive": g.active,
            "allowedActions": {
                "makeCalls": bool(b & 1),
                "receiveCalls": bool(b & 2),
                "manageCallAndDelegateSettings": bool(b & 4),
                "pickUpHeldCalls": bool(b & 8),
                "joinActiveCalls": bool(b & 16),
            },
        }

    # ------------------------------------------------------------------ $batch
    async def batch(self, ctx: Ctx, body: bytes) -> Resp:
        sim = self.sim
        stats = sim.stats
        stats.batch_requests += 1
        try:
            doc = json.loads(body or b"null")
        except ValueError:
            return graph_error(ctx, 400, "BadRequest", "Unable to read JSON request payload.")
        reqs = doc.get("requests") if isinstance(doc, dict) else None
        if not isinstance(reqs, list) or not reqs:
            return graph_error(
                ctx,
                400,
                "BadRequest",
                "Invalid batch payload format: 'requests' must be a non-empty list.",
            )
        if len(reqs) > 20:
            return graph_error(
                ctx, 400, "BadRequest", "The number of requests in the batch exceeds 20."
            )
        ids = []
        for r in reqs:
            if (
                not isinstance(r, dict)
                or not r.get("id")
                or not r.get("method")
                or not isinstance(r.get("url"), str)
            ):
                return graph_error(
                    ctx, 400, "BadRequest", "Each batch request needs 'id', 'method' and 'url'."
                )
            rid = str(r["id"])
            if rid in ids:
                return graph_error(
                    ctx,
                    400,
                    "BadRequest",
                    f"Batch request ids must be unique: '{rid}' is duplicated.",
                )
            ids.append(rid)
        for r in reqs:
            deps = r.get("dependsOn") or []
            if not isinstance(deps, list) or any(
                str(d) not in ids or str(d) == str(r["id"]) for d in deps
            ):
                return graph_error(
                    ctx, 400, "BadRequest", f"Invalid dependsOn in batch request '{r['id']}'."
                )
        futs: dict[str, asyncio.Future] = {
            str(r["id"]): asyncio.get_running_loop().create_future() for r in reqs
        }

        async def run(r):
            iid = str(r["id"])
            try:
                res = await self._item(ctx, r, futs)
            except Exception as e:  # noqa: BLE001 - never lose an item
                res = {
                    "id": iid,
                    "status": 500,
                    "headers": {"Content-Type": "application/json"},
                    "body": graph_error(ctx, 500, "generalException", str(e)).body,
                }
            futs[iid].set_result(res)
            return res

        results = await asyncio.gather(*(run(r) for r in reqs))
        results = list(results)
        if sim.cfg.batch_shuffle:
            self.rng.shuffle(results)
        return Resp(200, {"responses": results})

    async def _item(self, outer: Ctx, r: dict, futs) -> dict:
        sim = self.sim
        iid = str(r["id"])
        ctx = Ctx(new_id(), outer.crid, outer.claims, outer.base, outer.version, batch=True)
        deps = [str(d) for d in (r.get("dependsOn") or [])]
        for d in deps:
            dep = await futs[d]
            if dep["status"] >= 400:
                sim.stats.batch_items += 1
                sim.stats.batch_routes["dependsOn"][424] += 1
                e = graph_error(
                    ctx,
                    424,
                    "FailedDependency",
                    f"The request depends on request '{d}', which failed.",
                )
                return {
                    "id": iid,
                    "status": 424,
                    "headers": {"Content-Type": "application/json"},
                    "body": e.body,
                }
        method = str(r["method"]).upper()
        url = r["url"]
        headers = {str(k).lower(): str(v) for k, v in (r.get("headers") or {}).items()}
        body = r.get("body")
        sim.stats.batch_items += 1
        if url.lower().startswith(("http:", "https:")) or url.lstrip("/").startswith(
            ("v1.0/", "beta/")
        ):
            route, res = (
                "invalid",
                graph_error(
                    ctx, 400, "BadRequest", "Batch request URLs must be relative to the version."
                ),
            )
        elif body is not None and "content-type" not in headers:
            route, res = (
                "invalid",
                graph_error(
                    ctx, 400, "BadRequest", "Content-Type header must be specified with a body."
                ),
            )
        else:
            path, _, query = url.partition("?")
            if path.lstrip("/").startswith("$batch"):
                route, res = (
                    "invalid",
                    graph_error(ctx, 400, "BadRequest", "Nested batch requests are not supported."),
                )
            else:
                if isinstance(body, (dict, list)):
                    body = json.dumps(body).encode()
                elif isinstance(body, str):
                    body = body.encode()
                route, res = await self.dispatch(ctx, method, path, query, headers, body)
        sim.stats.batch_routes[route][res.status] += 1
        h = {"Content-Type": "application/json"}
        h.update(res.headers)
        h.pop("WWW-Authenticate", None)
        out = {"id": iid, "status": res.status, "headers": h}
        if res.body is not None:
            out["body"] = res.body
        return out
