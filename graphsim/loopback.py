"""Is a host name this machine? The test hooks, redirect URIs and http callbacks ask."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
