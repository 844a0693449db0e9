"""The HTTP session every Microsoft call goes through: a CA bundle we choose and a timeout, always.

requests lets REQUESTS_CA_BUNDLE override Session.verify when a call passes no `verify`, and
MSAL passes none (GRAPH_CONTRACT §1), so `request()` sets both on every call.
"""

from __future__ import annotations

import uuid

import requests
from django.conf import settings


class MicrosoftSession(requests.Session):
    def __init__(self, *, ca_bundle: str | None = None, timeout: float | None = None):
        super().__init__()
        self.trust_env = False  # no proxies or CA bundles from the environment
        self.ca_bundle = ca_bundle if ca_bundle is not None else (settings.GRAPH_CA_BUNDLE or True)
        self.default_timeout = timeout if timeout is not None else settings.GRAPH_TIMEOUT_SECONDS
        self.verify = self.ca_bundle

    def request(self, method, url, **kwargs):
        kwargs["verify"] = self.ca_bundle
        kwargs.setdefault("timeout", self.default_timeout)
        headers = kwargs.pop("headers", None) or {}
        headers.setdefault("client-request-id", str(uuid.uuid4()))
        kwargs["headers"] = headers
        return super().request(method, url, **kwargs)
