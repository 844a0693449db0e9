"""Counting what a client does in a window, in Django's cache (shared between web processes
when CACHE_URL names a shared cache; per process otherwise).

A window opens at a client's first counted hit and lasts `window_seconds`; so a burst is never
split in two by a clock boundary, and Retry-After says when this client's window closes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Hit:
    count: int  # hits of this kind by this client in the window, this one included
    allowed: bool  # count <= limit
    window_start: float  # epoch seconds
    retry_after: int  # seconds until the window closes


def hit(kind: str, client: str, *, limit: int, window_seconds: int) -> Hit:
    """Count one hit of `kind` by `client`."""
    now = time.time()
    anchor = f"ratelimit:{kind}:{client}"
    cache.add(anchor, now, timeout=window_seconds)
    start = cache.get(anchor) or now
    count = increment(f"{anchor}:{start:.6f}", timeout=window_seconds)
    retry_after = max(1, int(start + window_seconds - now + 0.999))
    return Hit(count, count <= limit, start, retry_after)


def increment(key: str, *, timeout: int) -> int:
    """Add one to a counter made on first use (atomic where the cache's incr is)."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1
