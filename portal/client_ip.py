"""The address of the client a request came from, as far as the deployment lets us know it.

Behind the TLS-terminating proxy the README describes, REMOTE_ADDR is the proxy's address and
the client's is the one the proxy appended to X-Forwarded-For. That header is believed only when
the request came from an address of FORWARDED_ALLOW_IPS (the setting gunicorn reads too), and
then only its rightmost entry that is not one of those proxies: anything left of it is whatever
the client chose to send.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def _trusted(address: str) -> bool:
    proxies = settings.FORWARDED_ALLOW_IPS
    return "*" in proxies or address in proxies


def client_ip(request) -> str | None:
    """The client's IP address, or None when the request holds no usable one."""
    if request is None:
        return None
    remote = _valid(request.META.get("REMOTE_ADDR") or "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if remote is None or not forwarded or not _trusted(remote):
        return remote
    for hop in reversed(forwarded.split(",")):
        address = _valid(hop)
        if address is None:
            return remote  # a hop we cannot read: no further entry can be believed
        if not _trusted(address):
            return address
    return remote
