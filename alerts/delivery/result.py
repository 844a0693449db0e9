"""What one attempt at a delivery came to, whatever the channel."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    ok: bool
    status: int | None = None  # the HTTP status or SMTP reply code, when there was one
    error: str = ""  # in words, never with a secret in it
    retry_after: float | None = None  # seconds the receiver asked us to wait
    permanent: bool = False  # trying again cannot help (a refused address, a 400)
