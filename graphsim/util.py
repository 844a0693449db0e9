"""Small helpers shared by the modules: responses, opaque tokens, errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

GRAPH_CT = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)


def now_iso() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ("%.3fZ" % (t % 1))[1:]


def dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


class Resp:
    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int = 200, body=None, headers: dict | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}


class DropConnection(Exception):
    """Close the connection without answering."""


class Ctx:
    """One Graph request (or batch item): ids, the caller's claims, the public base URL."""

    __slots__ = ("rid", "crid", "claims", "base", "version", "batch")

    def __init__(self, rid, crid, claims, base, version, batch=False):
        self.rid = rid
        self.crid = crid
        self.claims = claims
        self.base = base
        self.version = version
        self.batch = batch


def graph_error(ctx: Ctx, status: int, code: str, message: str, headers=None) -> Resp:
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
                "request-id": ctx.rid,
                "client-request-id": ctx.crid or ctx.rid,
            },
        }
    }
    return Resp(status, body, headers)


class Opaque:
    """Opaque, tamper-evident tokens for $skiptoken / $deltatoken."""

    def __init__(self, secret: bytes):
        self.secret = secret

    def encode(self, *parts) -> str:
        raw = "\x1f".join(str(p) for p in parts).encode()
        mac = hmac.new(self.secret, raw, hashlib.sha256).digest()[:9]
        return base64.urlsafe_b64encode(mac + raw).rstrip(b"=").decode()

    def decode(self, token: str) -> list[str] | None:
        try:
            data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            return None
        mac, raw = data[:9], data[9:]
        if not hmac.compare_digest(mac, hmac.new(self.secret, raw, hashlib.sha256).digest()[:9]):
            return None
        try:
            return raw.decode().split("\x1f")
        except UnicodeDecodeError:
            return None


def new_id() -> str:
    return str(uuid.uuid4())
