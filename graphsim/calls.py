"""Cloud communications: calls, their states, and signed commsNotifications callbacks."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
import uuid
from urllib.parse import urlsplit

import httpx
import jwt

from .identity import is_loopback_host
from .util import Resp, graph_error, now_iso

log = logging.getLogger("graphsim.calls")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
ACTIVE = (
    "incoming",
    "establishing",
    "established",
    "hold",
    "transferring",
    "transferAccepted",
    "redirecting",
    "terminating",
)


class Call:
    def __init__(self, cid: str):
        self.id = cid
        self.state = "establishing"
        self.direction = "outgoing"
        self.callback_uri = ""
        self.targets: list = []
        self.source: dict | None = None
        self.modalities = ["audio"]
        self.media_config: dict = {}
        self.tenant_id = ""
        self.result_info: dict | None = None
        self.created = time.time()
        self.last_keepalive = time.time()
        self.subject = None
        self.history: list[str] = []  # states in the order they happened
        self.notifications: list[dict] = []  # delivery log
        self.queue: asyncio.Queue = asyncio.Queue()
        self.worker: asyncio.Task | None = None
        self.tasks: list[asyncio.Task] = []
        self.incoming_deadline: float | None = None
        self.app_instance = False
        self.chain_id = str(uuid.uuid4())

    @property
    def active(self) -> bool:
        return self.state != "terminated"


class Calls:
    def __init__(self, sim):
        self.sim = sim
        self.calls: dict[str, Call] = {}
        self.active: set[str] = set()  # ids of calls not terminated
        self.ended: dict[str, float] = {}  # id -> when it terminated (forgotten after a while)
        self.rng = random.Random(sim.seed * 131 + 3)
        self.counter = 0
        self.client: httpx.AsyncClient | None = None
        self.client_noverify: httpx.AsyncClient | None = None
        self.sweeper: asyncio.Task | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self):
        self.sweeper = asyncio.create_task(self._sweep())

    async def stop(self):
        if self.sweeper:
            self.sweeper.cancel()
        for c in self.calls.values():
            for t in c.tasks:
                t.cancel()
            if c.worker:
                c.worker.cancel()
        for cl in (self.client, self.client_noverify):
            if cl is not None:
                await cl.aclose()

    def _http(self) -> httpx.AsyncClient:
        verify = self.sim.cfg.callback_verify
        if verify:
            if self.client is None:
                self.client = httpx.AsyncClient(timeout=5.0, trust_env=False)
            return self.client
        if self.client_noverify is None:
            self.client_noverify = httpx.AsyncClient(timeout=5.0, verify=False, trust_env=False)  # noqa: S501
        return self.client_noverify

    def reset(self):
        for c in self.calls.values():
            for t in c.tasks:
                t.cancel()
            if c.worker:
                c.worker.cancel()
        self.calls.clear()
        self.active.clear()
        self.ended.clear()

    async def _sweep(self):
        while True:
            await asyncio.sleep(0.25)
            now = time.time()
            cfg = self.sim.cfg
            for cid in list(self.active):
                c = self.calls[cid]
                if c.state == "incoming" and c.incoming_deadline and now > c.incoming_deadline:
                    self._end(c, 408, 10057, "The call was not answered in time.")
                elif now - c.last_keepalive > cfg.keepalive_timeout_s and c.state != "incoming":
                    self._end(c, 408, 8537, "Call was not kept alive and was ended by the service.")
            if len(self.ended) > 1000:  # terminated calls are kept 10 minutes, then forgotten
                for cid, at in list(self.ended.items()):
                    if now - at > 600 and len(self.ended) > 1000:
                        self.ended.pop(cid)
                        c = self.calls.pop(cid, None)
                        if c is not None and c.worker is not None and c.queue.empty():
                            c.worker.cancel()

    # ------------------------------------------------------------------ representation
    def resource(self, c: Call, full: bool = True) -> dict:
        d = {
            "@odata.type": "#microsoft.graph.call",
            "id": c.id,
            "state": c.state,
            "direction": c.direction,
            "resultInfo": c.result_info,
            "callChainId": c.chain_id,
        }
        if full:
            d.update(
                {
                    "callbackUri": c.callback_uri,
                    "source": c.source,
                    "targets": c.targets,
                    "requestedModalities": c.modalities,
                    "mediaConfig": c.media_config,
                    "tenantId": c.tenant_id,
                    "myParticipantId": str(uuid.uuid5(uuid.NAMESPACE_OID, c.id)),
                    "subject": c.subject,
                }
            )
        return d

    # ------------------------------------------------------------------ notifications
    def _jwt(self) -> str:
        sim = self.sim
        now = int(time.time())
        claims = {
            "iss": sim.cfg.callback_issuer,
            "aud": sim.client_id,
            "tid": sim.tenant.tenant_id,
            "iat": now,
            "nbf": now - 60,
            "exp": now + 3600,
            "serviceurl": f"{sim.base}/",
        }
        k = sim.cb_key
        return jwt.encode(claims, k.key, algorithm="RS256", headers={"kid": k.kid})

    def notify(self, c: Call, change: str = "updated", extra: dict | None = None, times: int = 1):
        data = self.resource(c, full=change == "created")
        if extra:
            data.update(extra)
        payload = {
            "@odata.type": "#microsoft.graph.commsNotifications",
            "value": [
                {
                    "@odata.type": "#microsoft.graph.commsNotification",
                    "changeType": change,
                    "resourceUrl": f"/communications/calls/{c.id}",
                    "resourceData": data,
                }
            ],
        }
        field = self.sim.cfg.callback_resource_field
        if field in ("resource", "both"):
            n = payload["value"][0]
            n["resource"] = n["resourceUrl"]
            if field == "resource":
                del n["resourceUrl"]
        for _ in range(times):
            c.queue.put_nowait(payload)
        if c.worker is None:
            c.worker = asyncio.create_task(self._deliver_loop(c))

    def _set(
        self, c: Call, state: str, notify: bool = True, times: int = 1, change: str = "updated"
    ):
        c.state = state
        c.history.append(state)
        if state == "terminated":
            self.active.discard(c.id)
            self.ended[c.id] = time.time()
        if notify:
            self.notify(c, change, times=times)

    async def _deliver_loop(self, c: Call):
        while True:
            payload = await c.queue.get()
            await self._deliver(c, payload)

    async def _deliver(self, c: Call, payload: dict):
        cfg = self.sim.cfg
        stats = self.sim.stats
        entry = {
            "state": payload["value"][0]["resourceData"].get("state"),
            "changeType": payload["value"][0]["changeType"],
            "at": now_iso(),
            "attempts": 0,
            "status": None,
        }
        c.notifications.append(entry)
        for attempt in range(cfg.callback_retries + 1):
            entry["attempts"] = attempt + 1
            try:
                r = await self._http().post(
                    c.callback_uri,
                    json=payload,
                    headers={
                        "Authorization": "Bearer " + self._jwt(),
                        "client-request-id": str(uuid.uuid4()),
                        "User-Agent": "graphsim-callbacks/1.0",
                    },
                )
                entry["status"] = r.status_code
                if r.status_code < 500 and r.status_code != 429:
                    stats.callbacks_sent += 1
                    return
            except (httpx.HTTPError, OSError) as e:
                entry["status"] = f"error: {type(e).__name__}"
            if attempt < cfg.callback_retries:
                await asyncio.sleep(cfg.callback_backoff_ms / 1000 * (2**attempt))
        stats.callbacks_failed += 1

    # ------------------------------------------------------------------ validation helpers
    def _callback_ok(self, uri) -> str | None:
        if not isinstance(uri, str) or not uri:
            return "callbackUri is required."
        try:
            p = urlsplit(uri)
        except ValueError:
            return "callbackUri is not a valid URL."
        if p.scheme == "https" and p.hostname:
            return None
        strict = self.sim.cfg.strict_callbacks
        if p.scheme == "http" and is_loopback_host(p.hostname) and not strict:
            return None
        return "callbackUri must be an https URL."

    def _identity(self, info) -> tuple[str, str] | str:
        """invitationParticipantInfo -> ("user", id) | ("phone", number) | error message."""
        if not isinstance(info, dict) or not isinstance(info.get("identity"), dict):
            return "Each target needs an identity."
        ident = info["identity"]
        if isinstance(ident.get("user"), dict) and ident["user"].get("id"):
            uid = ident["user"]["id"]
            if self.sim.tenant.find_user(uid) is None:
                return f"Target user '{uid}' was not found in the tenant."
            return ("user", self.sim.tenant.find_user(uid).id)
        if isinstance(ident.get("phone"), dict) and ident["phone"].get("id"):
            num = str(ident["phone"]["id"])
            if not E164.match(num):
                return f"Phone number '{num}' is not in E.164 format."
            return ("phone", num)
        if isinstance(ident.get("applicationInstance"), dict) or isinstance(
            ident.get("application"), dict
        ):
            return "Calls to applications are not supported by graphsim."
        return "Each target identity needs a user or a phone."

    def _find(self, ctx, cid) -> Call | Resp:
        c = self.calls.get(cid)
        if c is None:
            return graph_error(ctx, 404, "itemNotFound", f"Call '{cid}' was not found.")
        return c

    # ------------------------------------------------------------------ Graph handlers
    def create(self, ctx, method, groups, q, body):
        sim = self.sim
        cfg = sim.cfg
        if not isinstance(body, dict):
            return graph_error(ctx, 400, "BadRequest", "A call body is required.")
        err = self._callback_ok(body.get("callbackUri"))
        if err:
            return graph_error(ctx, 400, "BadRequest", err)
        if not isinstance(body.get("mediaConfig"), dict):
            return graph_error(ctx, 400, "BadRequest", "mediaConfig is required.")
        targets = body.get("targets")
        if not isinstance(targets, list) or not targets:
            return graph_error(ctx, 400, "BadRequest", "At least one target is required.")
        kinds = []
        for t in targets:
            r = self._identity(t)
            if isinstance(r, str):
                return graph_error(ctx, 400, "BadRequest", r)
            kinds.append(r)
        n_users = sum(1 for k in kinds if k[0] == "user")
        if n_users > 5:
            return graph_error(
                ctx, 400, "BadRequest", "A group call can have at most 5 user targets."
            )
        src = body.get("source")
        app_instance = bool(
            isinstance(src, dict)
            and isinstance(src.get("identity"), dict)
            and isinstance(src["identity"].get("applicationInstance"), dict)
            and src["identity"]["applicationInstance"].get("id")
        )
        if any(k[0] == "phone" for k in kinds) and not app_instance:
            return graph_error(
                ctx,
                400,
                "BadRequest",
                "Calls to phone numbers need source.identity.applicationInstance "
                "(a resource account with a phone number).",
            )
        tid = body.get("tenantId")
        if tid and tid != sim.tenant.tenant_id:
            return graph_error(ctx, 400, "BadRequest", f"Unknown tenantId '{tid}'.")
        if len(kinds) > 1 and "Calls.InitiateGroupCall.All" not in ctx.claims["_roles"]:
            return graph_error(
                ctx,
                403,
                "Forbidden",
                "Application does not have permission Calls.InitiateGroupCall.All.",
            )
        active = len(self.active)
        if active >= cfg.max_concurrent_calls:
            return graph_error(
                ctx,
                403,
                "Forbidden",
                f"The application has reached the limit of {cfg.max_concurrent_calls} "
                "concurrent calls.",
            )
        self.counter += 1
        cid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        c = Call(cid)
        c.callback_uri = body["callbackUri"]
        c.targets = targets
        c.source = src or {
            "@odata.type": "#microsoft.graph.participantInfo",
            "identity": {"application": {"id": sim.client_id, "displayName": "Delegation portal"}},
        }
        c.modalities = body.get("requestedModalities") or ["audio"]
        c.media_config = body["mediaConfig"]
        c.tenant_id = sim.tenant.tenant_id
        c.subject = body.get("subject")
        c.app_instance = app_instance
        c.history.append("establishing")
        self.calls[cid] = c
        self.active.add(cid)
        c.tasks.append(asyncio.create_task(self._outgoing(c, kinds)))
        out = {"@odata.context": f"{ctx.base}/{ctx.version}/$metadata#communications/calls/$entity"}
        out.update(self.resource(c))
        return Resp(201, out, {"Location": f"{ctx.base}/{ctx.version}/communications/calls/{cid}"})

    def _disorder(self) -> tuple[bool, bool]:
        mode = self.sim.cfg.callback_disorder
        if mode == "random":
            rate = self.sim.cfg.callback_disorder_rate
            return self.rng.random() < rate, self.rng.random() < rate
        return mode in ("swap", "both"), mode in ("duplicate", "both")

    async def _outgoing(self, c: Call, kinds):
        cfg = self.sim.cfg
        swap, dup = self._disorder()
        await asyncio.sleep(cfg.establish_ms / 1000)
        if not c.active or c.state != "establishing":
            return
        establishing = None
        if swap:
            establishing = dict(self.resource(c, full=False))
        else:
            self.notify(c, "updated", times=2 if dup else 1)
        await asyncio.sleep(cfg.answer_ms / 1000)
        if not c.active or c.state != "establishing":
            return
        behaviours = []
        for k in kinds:
            if k[0] == "user":
                behaviours.append(
                    self.sim.tenant.users[k[1]].callBehavior
                    if k[1] in self.sim.tenant.users
                    else "unreachable"
                )
            else:
                behaviours.append(None)
        answered = any(b not in ("noanswer", "unreachable") for b in behaviours)
        if answered:
            self._set(c, "established", times=2 if dup else 1)
            if establishing is not None:
                # the earlier state arrives late
                self.notify(c, "updated", extra={"state": "establishing", "resultInfo": None})
            return
        if establishing is not None:
            self.notify(c, "updated", extra={"state": "establishing", "resultInfo": None})
        if "noanswer" in behaviours:
            self._end(c, 408, 10057, "The call was not answered.")
        else:
            self._end(c, 480, 10076, "The callee is unreachable.")

    def _end(self, c: Call, code: int, subcode: int, message: str, terminating=False):
        if not c.active:
            return
        if terminating:
            self._set(c, "terminating")
        c.result_info = {
            "@odata.type": "#microsoft.graph.resultInfo",
            "code": code,
            "subcode": subcode,
            "message": message,
        }
        self._set(c, "terminated", change="deleted")

    def list_calls(self, ctx, method, groups, q, body):
        return Resp(200, {"value": [self.resource(c) for c in self.calls.values() if c.active]})

    def get(self, ctx, method, groups, q, body):
        c = self._find(ctx, groups[0])
        if isinstance(c, Resp):
            return c
        out = {"@odata.context": f"{ctx.base}/{ctx.version}/$metadata#communications/calls/$entity"}
        out.update(self.resource(c))
        return Resp(200, out)

    def participants(self, ctx, method, groups, q, body):
        c = self._find(ctx, groups[0])
        if isinstance(c, Resp):
            return c
        parts = [
            {
                "@odata.type": "#microsoft.graph.participant",
                "id": str(uuid.uuid5(uuid.NAMESPACE_OID, c.id)),
                "info": c.source,
                "isMuted": False,
                "isInLobby": False,
                "mediaStreams": [],
            }
        ]
        if c.state in ("established", "hold", "transferring", "transferAccepted"):
            for i, t in enumerate(c.targets):
                parts.append(
                    {
                        "@odata.type": "#microsoft.graph.participant",
                        "id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{c.id}:{i}")),
                        "info": t,
                        "isMuted": False,
                        "isInLobby": False,
                        "mediaStreams": [{"mediaType": "audio", "direction": "sendReceive"}],
                    }
                )
        context = f"{ctx.base}/{ctx.version}/$metadata#communications/calls('{c.id}')/participants"
        return Resp(200, {"@odata.context": context, "value": parts})

    def delete(self, ctx, method, groups, q, body):
        c = self._find(ctx, groups[0])
        if isinstance(c, Resp):
            return c
        if c.active:
            self._set(c, "terminating")
            c.tasks.append(asyncio.create_task(self._hangup(c)))
        return Resp(204, None)

    async def _hangup(self, c: Call):
        await asyncio.sleep(self.sim.cfg.transfer_ms / 1000)
        self._end(c, 200, 5001, "The conversation has ended.")

    def action(self, ctx, method, groups, q, body):
        c = self._find(ctx, groups[0])
        if isinstance(c, Resp):
            return c
        act = groups[1].lower()
        body = body if isinstance(body, dict) else {}
        if act == "keepalive":
            if not c.active:
                return graph_error(ctx, 404, "itemNotFound", f"Call '{c.id}' was not found.")
            c.last_keepalive = time.time()
            return Resp(200, None)
        if act == "transfer":
            return self._transfer(ctx, c, body)
        if act == "redirect":
            return self._redirect(ctx, c, body)
        if act in ("answer", "reject"):
            if c.state != "incoming":
                return graph_error(
                    ctx, 400, "BadRequest", f"Call is in state '{c.state}', not 'incoming'."
                )
            if act == "answer":
                if self._callback_ok(body.get("callbackUri") or c.callback_uri):
                    return graph_error(ctx, 400, "BadRequest", "callbackUri must be https.")
                if body.get("callbackUri"):
                    c.callback_uri = body["callbackUri"]
                c.last_keepalive = time.time()
                self._set(c, "establishing")
                self._set(c, "established")
            else:
                self._end(c, 603, 0, "The call was rejected.")
            return Resp(202, None)
        return graph_error(ctx, 400, "BadRequest", "Unknown action.")

    def _transfer(self, ctx, c: Call, body):
        if c.state != "established":
            return graph_error(
                ctx,
                400,
                "BadRequest",
                f"Call is in state '{c.state}'; only established calls transfer.",
            )
        tgt = body.get("transferTarget")
        r = self._identity(tgt)
        if isinstance(r, str):
            return graph_error(ctx, 400, "BadRequest", "transferTarget: " + r)
        if r[0] == "phone" and not c.app_instance:
            return graph_error(
                ctx,
                400,
                "BadRequest",
                "Transfer to a phone number needs an application-instance call.",
            )
        group = sum(1 for t in c.targets) > 1
        if body.get("transferee") is not None and not group:
            return graph_error(
                ctx,
                400,
                "BadRequest",
                "transferee is only valid when transferring from a group call.",
            )
        if group and body.get("transferee") is None:
            return graph_error(
                ctx,
                400,
                "BadRequest",
                "transferee is required when transferring from a group call.",
            )
        behaviour = None
        if r[0] == "user":
            behaviour = self.sim.tenant.users[r[1]].callBehavior
        self._set(c, "transferring")
        c.tasks.append(asyncio.create_task(self._do_transfer(c, behaviour)))
        return Resp(202, None)

    async def _do_transfer(self, c: Call, behaviour):
        await asyncio.sleep(self.sim.cfg.transfer_ms / 1000)
        if c.state != "transferring":
            return
        if behaviour in ("transferfail", "noanswer", "unreachable"):
            c.result_info = {
                "@odata.type": "#microsoft.graph.resultInfo",
                "code": 500,
                "subcode": 7000,
                "message": "The transfer failed.",
            }
            self._set(c, "established")
            return
        self._set(c, "transferAccepted")
        await asyncio.sleep(self.sim.cfg.transfer_ms / 1000)
        self._end(c, 0, 7015, "The call was transferred.")

    def _redirect(self, ctx, c: Call, body):
        if c.state != "incoming" or c.direction != "incoming":
            return graph_error(
                ctx,
                400,
                "BadRequest",
                f"Call is in state '{c.state}'; only incoming calls redirect.",
            )
        if c.incoming_deadline and time.time() > c.incoming_deadline:
            return graph_error(ctx, 400, "BadRequest", "The redirect window has passed.")
        targets = body.get("targets")
        if not isinstance(targets, list) or not 1 <= len(targets) <= 25:
            return graph_error(ctx, 400, "BadRequest", "targets must hold 1 to 25 entries.")
        kinds = []
        for t in targets:
            r = self._identity(t)
            if isinstance(r, str):
                return graph_error(ctx, 400, "BadRequest", r)
            kinds.append(r)
        timeout = body.get("timeout")
        if timeout is not None:
            try:
                timeout = int(timeout)
            except (TypeError, ValueError):
                timeout = -1
            if not 15 <= timeout <= 90:
                return graph_error(ctx, 400, "BadRequest", "timeout must be 15 to 90 seconds.")
        cb = body.get("callbackUri")
        if cb:
            err = self._callback_ok(cb)
            if err:
                return graph_error(ctx, 400, "BadRequest", err)
            c.callback_uri = cb
        c.incoming_deadline = None
        c.targets = targets
        self._set(c, "redirecting")
        c.tasks.append(asyncio.create_task(self._do_redirect(c, kinds)))
        return Resp(202, None)

    async def _do_redirect(self, c: Call, kinds):
        await asyncio.sleep(self.sim.cfg.answer_ms / 1000)
        users = self.sim.tenant.users
        ok = any(
            k[0] == "phone"
            or (k[1] in users and users[k[1]].callBehavior not in ("noanswer", "unreachable"))
            for k in kinds
        )
        if ok:
            self._end(c, 200, 5001, "The call was redirected and answered by a target.")
        else:
            self._end(c, 408, 10057, "No redirect target answered.")

    # ------------------------------------------------------------------ /_sim
    def incoming(self, body: dict) -> tuple[int, dict]:
        sim = self.sim
        cb = body.get("callbackUri") or sim.cfg.incoming_callback_uri
        if not cb:
            return 400, {"error": "callbackUri is required (or set incoming_callback_uri)."}
        if not isinstance(cb, str) or urlsplit(cb).scheme not in ("http", "https"):
            return 400, {"error": "callbackUri must be an http(s) URL."}
        caller = body.get("caller") or "nobody@contoso.test"
        if isinstance(caller, str) and caller.startswith("+"):
            ident = {"phone": {"id": caller}}
        else:
            u = sim.tenant.find_user(caller if isinstance(caller, str) else "")
            if u is None:
                return 400, {"error": f"unknown caller {caller}"}
            ident = {
                "user": {"id": u.id, "displayName": u.displayName, "tenantId": sim.tenant.tenant_id}
            }
        cid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        c = Call(cid)
        c.state = "incoming"
        c.direction = "incoming"
        c.callback_uri = cb
        c.source = {"@odata.type": "#microsoft.graph.participantInfo", "identity": ident}
        c.targets = [
            {
                "@odata.type": "#microsoft.graph.invitationParticipantInfo",
                "identity": {"application": {"id": sim.client_id}},
            }
        ]
        c.tenant_id = sim.tenant.tenant_id
        c.media_config = {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}
        window = float(body.get("redirect_window_s") or sim.cfg.redirect_window_s)
        c.incoming_deadline = time.time() + window
        self.calls[cid] = c
        self.active.add(cid)
        self._set(c, "incoming", change="created")
        return 201, {
            "id": cid,
            "state": "incoming",
            "callbackUri": cb,
            "redirect_deadline_s": window,
        }

    def snapshot(self) -> list[dict]:
        out = []
        for c in self.calls.values():
            d = self.resource(c)
            d["history"] = list(c.history)
            d["notifications"] = list(c.notifications)
            d["lastKeepAlive"] = c.last_keepalive
            out.append(d)
        return out
