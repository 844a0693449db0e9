"""Opaque page tokens ($skiptoken, $deltatoken) and the nextLinks that carry them."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote

from graphsim.answers import Ctx, Refusal, graph_error

ODATA_SAFE = ",/'()=:@"  # left as they are in $select and $filter values


class Opaque:
    """Opaque, tamper-evident tokens: the parts, joined, behind a short HMAC."""

    def __init__(self, secret: bytes):
        self.secret = secret

    def encode(self, *parts) -> str:
        raw = "\x1f".join(str(part) for part in parts).encode()
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


def skip_offset(sim, ctx: Ctx, query: dict, kind: str) -> int:
    """Where the page starts: 0, or the offset in a `$skiptoken` of `kind`. A token that is
    forged or of another kind is refused, as Graph refuses an expired one."""
    if "$skiptoken" not in query:
        return 0
    parts = sim.opaque.decode(query["$skiptoken"])
    if not parts or parts[0] != kind:
        raise Refusal(
            graph_error(
                ctx,
                400,
                "Request_BadRequest",
                "The specified page token value has expired or is invalid.",
            )
        )
    return int(parts[1])


def next_link(url: str, options: list[tuple[str, str]]) -> str:
    """`url` with the query options that have a value, quoted as Graph quotes them."""
    query = "&".join(f"{name}={quote(value, safe=ODATA_SAFE)}" for name, value in options if value)
    return f"{url}?{query}"
