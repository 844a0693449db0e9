"""The address of the client a request came from, as far as the deployment lets us know it.

Behind the TLS-terminating proxy the README describes, REMOTE_ADDR is the proxy's address and
the client's is the one the proxy appended to X-Forwarded-For. That header is believed only when
the request came from an address of FORWARDED_ALLOW_IPS (the setting gunicorn reads too; "*":
from anywhere), and then only its rightmost entry that is not one of those proxies: anything
left of it is whatever the client chose to send.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's IP address, or None when the request holds no usable one."""
    if request is None:
        return None
    remote = _valid(request.META.get("REMOTE_ADDR") or "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = settings.FORWARDED_ALLOW_IPS
    if remote is None or not forwarded or not ("*" in proxies or remote in proxies):
        return remote
    for hop in reversed(forwarded.split(",")):
        address = _valid(hop)
        if address is None:
            return remote  # a hop we cannot read: no further entry can be believed
        if address not in proxies:  # the first address that is not one of our proxies
            return address
    return remote
