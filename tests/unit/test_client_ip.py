"""The client's address: X-Forwarded-For is believed only from the proxies of the setting."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from portal.client_ip import client_ip


def request_from(remote: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "client"),
    [
        (["10.0.0.1"], "10.0.0.1", "198.51.100.7", "198.51.100.7"),
        # What the client sent itself stands left of what the proxy appended.
        (["10.0.0.1"], "10.0.0.1", "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        # Two proxies of ours in a row: the first address neither of them is.
        (["10.0.0.1", "10.0.0.2"], "10.0.0.1", "198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (["10.0.0.1"], "203.0.113.9", "198.51.100.7", "203.0.113.9"),  # not from our proxy
        (["10.0.0.1"], "10.0.0.1", "not-an-address", "10.0.0.1"),
        (["10.0.0.1"], "10.0.0.1", "", "10.0.0.1"),
        (["*"], "203.0.113.9", "2001:db8::1", "2001:db8::1"),
        ([], "::1", "198.51.100.7", "::1"),
    ],
)
def test_the_client_address(settings, proxies, remote, forwarded, client):
    settings.FORWARDED_ALLOW_IPS = proxies
    assert client_ip(request_from(remote, forwarded)) == client


def test_no_usable_address_is_none(settings):
    assert client_ip(request_from("")) is None
    assert client_ip(None) is None
