"""The Graph client core: one request with retries, paging and $batch (GRAPH_CONTRACT §3-§5).

Every request goes through `MicrosoftSession` (our CA, a timeout, a client-request-id). Answers
are parsed leniently: an error body of any shape becomes a `GraphError`; nothing here trusts
Graph's JSON to have the documented form. Transient answers (429, 503, 504, dropped
connections) are retried, honouring Retry-After; a 401 gets one forced token refresh; any other
4xx is raised at once. Tokens are never logged: request-id and client-request-id are.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from portal.graph.errors import GraphError, GraphUnavailable
from portal.graph.http import MicrosoftSession

log = logging.getLogger(__name__)

BATCH_LIMIT = 20  # items per $batch request (contract §4: 21 answers 400)
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
TOKEN_RECHECK_SECONDS = 300.0  # ask the provider again now and then; it renews before expiry
_MAX_ERROR_TEXT = 500

TokenProvider = Callable[..., str]


@dataclass(frozen=True)
class GraphResponse:
    status: int
    headers: Mapping[str, str]
    body: dict | None
    request_id: str


@dataclass
class ClientStats:
    """Counters the sync copies into SyncRun. Thread-safe: batches run on several threads."""

    requests: int = 0
    throttled: int = 0
    retries: int = 0
    token_refreshes: int = 0
    failures: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def fail(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.failures[kind] += n

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": self.requests,
                "throttled": self.throttled,
                "retries": self.retries,
                "token_refreshes": self.token_refreshes,
                "failures": dict(self.failures),
            }


def parse_retry_after(value, *, cap: float | None = None) -> float | None:
    """Retry-After in seconds: an integer, a fraction, or an HTTP date. None when unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    limit = settings.GRAPH_MAX_RETRY_AFTER_SECONDS if cap is None else cap
    return min(max(seconds, 0.0), limit)


def backoff_delay(attempt: int, *, jitter: float | None = None) -> float:
    """Exponential backoff with jitter in its upper half: 0.25-0.5 s, 0.5-1 s, 1-2 s, ...

    `jitter` (0.5-1) may be drawn once for several items, so that they come due together.
    """
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** max(0, attempt)))
    return ceiling * (random.uniform(0.5, 1.0) if jitter is None else jitter)


def _text(value, limit: int = _MAX_ERROR_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


def error_from_answer(status: int, headers: Mapping[str, str], body) -> GraphError:
    """A GraphError from any answer: the body may be Graph's shape, another shape, or nothing."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        err = {}
    inner = err.get("innerError") or err.get("innererror")
    if not isinstance(inner, dict):
        inner = {}
    lower = {str(k).lower(): v for k, v in (headers or {}).items()}
    request_id = _text(inner.get("request-id"), 64) or _text(lower.get("request-id"), 64)
    return GraphError(
        _text(err.get("message")) or f"Graph answered HTTP {status}",
        status=status,
        code=_text(err.get("code"), 100),
        request_id=request_id,
        client_request_id=_text(inner.get("client-request-id"), 64)
        or _text(lower.get("client-request-id"), 64),
        retry_after=parse_retry_after(lower.get("retry-after")),
    )


def _json_body(resp) -> dict | None:
    if not resp.content:
        return None
    try:
        body = resp.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class GraphClient:
    def __init__(
        self,
        token_provider: TokenProvider,
        *,
        base_url: str | None = None,
        session=None,
        max_retries: int | None = None,
    ):
        self.token_provider = token_provider
        self.base_url = (base_url or settings.GRAPH_BASE_URL).rstrip("/")
        if session is None:
            session = MicrosoftSession()
            # Several batches in flight share one pool; the default (10) would queue them.
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=64)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session
        self.max_retries = settings.GRAPH_MAX_RETRIES if max_retries is None else max_retries
        self.stats = ClientStats()
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_at = 0.0
        self.sleep = time.sleep  # tests may replace it

    # ------------------------------------------------------------------ tokens
    def token(self) -> str:
        with self._token_lock:
            if self._token is None or time.monotonic() - self._token_at > TOKEN_RECHECK_SECONDS:
                self._token = self.token_provider()
                self._token_at = time.monotonic()
            return self._token

    def refresh_token(self, stale: str | None = None) -> str:
        """Force a new token, unless another thread already replaced the stale one."""
        with self._token_lock:
            if stale is None or self._token == stale:
                self._token = self.token_provider(force_refresh=True)
                self._token_at = time.monotonic()
                self.stats.add("token_refreshes")
            return self._token

    # ------------------------------------------------------------------ one request
    def url_for(self, path_or_url: str, version: str = "v1.0") -> str:
        if path_or_url.startswith(("https://", "http://")):
            # nextLink/deltaLink are used verbatim, but our token never leaves Graph's host.
            if not path_or_url.startswith(self.base_url + "/"):
                raise GraphError("Refusing a link outside the Graph base URL", status=400)
            return path_or_url
        return f"{self.base_url}/{version}/{path_or_url.lstrip('/')}"

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        version: str = "v1.0",
        params=None,
        json=None,
        headers=None,
        retry: bool = True,
    ) -> GraphResponse:
        url = self.url_for(path_or_url, version)
        attempt = 0
        refreshed = False
        while True:
            token = self.token()
            crid = str(uuid.uuid4())
            sent = {"Accept": "application/json", **(headers or {})}
            sent["Authorization"] = f"Bearer {token}"
            sent["client-request-id"] = crid
            self.stats.add("requests")
            try:
                resp = self.session.request(method, url, params=params, json=json, headers=sent)
            except requests.RequestException as exc:
                error: GraphError = GraphUnavailable(
                    f"Graph unreachable: {type(exc).__name__}", client_request_id=crid
                )
            else:
                body = _json_body(resp)
                request_id = resp.headers.get("request-id", "")
                if resp.status_code < 400:
                    return GraphResponse(resp.status_code, resp.headers, body, request_id)
                error = error_from_answer(resp.status_code, resp.headers, body)
                error.client_request_id = error.client_request_id or crid
                if error.status == 401 and not refreshed:
                    refreshed = True
                    log.info("graph 401, refreshing token once: request-id=%s", request_id)
                    self.refresh_token(stale=token)
                    self.stats.add("retries")
                    continue
            if error.status == 429:
                self.stats.add("throttled")
            if not retry or error.permanent or attempt >= self.max_retries:
                self.stats.fail(error.kind)
                log.warning(
                    "graph %s %s failed: %s client-request-id=%s",
                    method,
                    url.split("?")[0],
                    error,
                    error.client_request_id,
                )
                raise error
            delay = error.retry_after if error.retry_after is not None else backoff_delay(attempt)
            log.info(
                "graph %s %s: HTTP %s, retry in %.2fs (request-id=%s client-request-id=%s)",
                method,
                url.split("?")[0],
                error.status,
                delay,
                error.request_id,
                error.client_request_id,
            )
            self.stats.add("retries")
            self.sleep(delay)
            attempt += 1

    def get(self, path: str, **kw) -> dict:
        return self.request("GET", path, **kw).body or {}

    def post(self, path: str, json, **kw) -> GraphResponse:
        return self.request("POST", path, json=json, **kw)

    def delete(self, path: str, **kw) -> GraphResponse:
        return self.request("DELETE", path, **kw)

    # ------------------------------------------------------------------ paging and batching
    def iter_pages(self, path: str, *, version: str = "v1.0", params=None) -> Iterator[list[dict]]:
        """Each page's `value`; follows @odata.nextLink verbatim (its $skiptoken is opaque)."""
        body = self.get(path, version=version, params=params)
        while True:
            value = body.get("value")
            yield (
                [item for item in value if isinstance(item, dict)]
                if isinstance(value, list)
                else []
            )
            link = body.get("@odata.nextLink")
            if not isinstance(link, str) or not link:
                return
            body = self.get(link)

    def batch(self, items: list[dict], *, version: str = "beta") -> dict[str, dict]:
        """One $batch POST; answers matched by id: {id: {"status", "headers", "body"}}.

        Answers come in any order and each item fails on its own (contract §4); the caller
        retries the items it wants. Item headers are lower-cased. An id the answer leaves out is
        simply absent from the result.
        """
        if not items or len(items) > BATCH_LIMIT:
            raise ValueError(f"a $batch holds 1..{BATCH_LIMIT} items, not {len(items)}")
        ids = [str(item["id"]) for item in items]
        if len(set(ids)) != len(ids):
            raise ValueError("$batch item ids must be unique")
        body = self.post("$batch", {"requests": items}, version=version).body or {}
        responses = body.get("responses")
        if not isinstance(responses, list):
            raise GraphError("Graph's $batch answer has no responses list", status=502)
        wanted = set(ids)
        out: dict[str, dict] = {}
        for answer in responses:
            if not isinstance(answer, dict) or str(answer.get("id")) not in wanted:
                continue
            try:
                status = int(answer.get("status"))
            except (TypeError, ValueError):
                status = 502
            raw_headers = answer.get("headers")
            item_headers = (
                {str(k).lower(): str(v) for k, v in raw_headers.items()}
                if isinstance(raw_headers, dict)
                else {}
            )
            item_body = answer.get("body")
            out[str(answer["id"])] = {
                "status": status,
                "headers": item_headers,
                "body": item_body if isinstance(item_body, dict) else None,
            }
        return out

    def close(self) -> None:
        self.session.close()
