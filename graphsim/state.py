"""Run-time configuration (switches), counters, the token bucket and fault injection."""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields


@dataclass
class Config:
    # load shaping
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    throttle_rps: float = 0.0  # 0 = off
    throttle_burst: float = 0.0  # bucket size; 0 = same as throttle_rps (one second)
    fault_rate: float = 0.0
    fault_kinds: list = field(default_factory=lambda: ["429", "503", "504", "slow", "drop"])
    slow_ms: float = 1500.0
    # deterministic failures for the next Graph requests / batch items:
    # [{"status": 429, "retry_after": "2", "path_contains": "/users", "code": "..."}, ...];
    # with "after_apply": true the request is handled first, then answered with the failure
    fail_next: list = field(default_factory=list)
    # identity
    token_lifetime_s: int = 3600
    id_token_lifetime_s: int = 3600
    code_ttl_s: int = 600
    refresh_lifetime_s: int = 90 * 86400
    rotate_refresh_tokens: bool = True
    refresh_single_use: bool = False  # when rotating, the old refresh token stops working
    include_groups_claim: bool = True
    app_delegation_read: bool = False  # application role CallDelegation.Read.All (unconfirmed)
    # The portal API's app roles granted to the automation client (an admin's consent).
    api_client_roles: list = field(
        default_factory=lambda: [
            "Delegation.Read.All",
            "Delegation.ReadWrite.All",
            "Calls.Initiate",
        ]
    )
    # graph
    users_default_top: int = 100
    delta_page_size: int = 100
    delegation_id_mode: str = "other"  # "other" person's object id | "grant" id (unconfirmed)
    delegation_page_size: int = 0  # 0 = no paging of delegates/delegators lists
    delegation_writes: str = "accept"  # accept | reject (every write answers the status below)
    delegation_write_status: int = 405  # answer to writes when rejecting (400, 403, 405 or 501)
    batch_shuffle: bool = True
    # calls
    strict_callbacks: bool = False
    callback_verify: bool = False  # verify TLS of https callback receivers
    callback_issuer: str = "https://graph.microsoft.com"
    callback_disorder: str = "random"  # off | swap | duplicate | both | random
    callback_disorder_rate: float = 0.2
    callback_resource_field: str = "resourceUrl"  # resourceUrl | resource (older) | both
    callback_retries: int = 4
    callback_backoff_ms: float = 200.0
    establish_ms: float = 100.0  # delay before "establishing" notification
    answer_ms: float = 300.0  # delay before established / no answer / unreachable
    transfer_ms: float = 200.0
    # What a transfer whose target does not pick up reports: 500/7000 whatever the reason, or
    # the target's own ending (408/10057, 480/10076). Microsoft does not say (unconfirmed).
    transfer_failure_result: str = "generic"
    keepalive_timeout_s: float = 2700.0  # 45 minutes, as Graph
    max_concurrent_calls: int = 100
    redirect_window_s: float = 15.0
    incoming_callback_uri: str = ""

    @classmethod
    def from_args(cls, args) -> Config:
        """The settings the command line chose (what `/_sim/reset` with `config` restores)."""
        return cls(
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            throttle_rps=args.throttle_rps,
            fault_rate=args.fault_rate,
            strict_callbacks=args.strict_callbacks,
            delegation_writes=args.delegation_writes,
        )

    def update(self, changes: dict) -> list[str]:
        """Applies the known settings of `changes`; returns the unknown names."""
        names = {f.name for f in fields(self)}
        unknown = []
        for name, value in changes.items():
            if name not in names:
                unknown.append(name)
                continue
            current = getattr(self, name)
            if name in CHOICES and value not in CHOICES[name]:
                raise ValueError(f"{name} must be one of {CHOICES[name]}")
            if isinstance(current, list):
                if not isinstance(value, list):
                    raise ValueError(f"{name} must be a list")
                if name == "fail_next":
                    _check_fail_next(value)
                value = list(value)
            elif isinstance(current, bool):
                value = bool(value)
            elif isinstance(current, int):
                value = int(value)
            elif isinstance(current, float):
                value = float(value)
            setattr(self, name, value)
        return unknown

    def as_dict(self) -> dict:
        return asdict(self)


def _check_fail_next(items: list) -> None:
    for item in items:
        status = item.get("status", 503) if isinstance(item, dict) else None
        if status not in ("drop", "slow") and not (
            isinstance(status, int) and 100 <= status <= 599
        ):
            raise ValueError("fail_next items are objects with status 100..599, drop or slow")
        if not isinstance(item.get("after_apply", False), bool):
            raise ValueError("fail_next after_apply must be true or false")


CHOICES = {
    "delegation_id_mode": ("other", "grant"),
    "callback_disorder": ("off", "swap", "duplicate", "both", "random"),
    "callback_resource_field": ("resourceUrl", "resource", "both"),
    "delegation_writes": ("accept", "reject"),
    "delegation_write_status": (400, 403, 405, 501),
    "transfer_failure_result": ("generic", "reason"),
}


class Stats:
    def __init__(self):
        self.reset()

    def reset(self):
        self.started = time.time()
        self.total = 0
        self.routes: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.batch_routes: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.batch_requests = 0
        self.batch_items = 0
        self.throttled = 0
        self.faults: dict[str, int] = defaultdict(int)
        self.in_flight = 0
        self.peak_in_flight = 0
        self.callbacks_sent = 0
        self.callbacks_failed = 0
        self.tokens_issued: dict[str, int] = defaultdict(int)

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "since": self.started,
            "routes": _by_status_text(self.routes),
            "batch_requests": self.batch_requests,
            "batch_items": self.batch_items,
            "batch_item_routes": _by_status_text(self.batch_routes),
            "throttled": self.throttled,
            "faults": dict(self.faults),
            "faults_total": sum(self.faults.values()),
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "callbacks_sent": self.callbacks_sent,
            "callbacks_failed": self.callbacks_failed,
            "tokens_issued": dict(self.tokens_issued),
        }


def _by_status_text(routes: dict) -> dict:
    """{route: {status: count}} with the statuses as JSON object keys (text)."""
    return {
        route: {str(status): count for status, count in by_status.items()}
        for route, by_status in routes.items()
    }


class Bucket:
    """Token bucket; usage keeps counting while throttled (the level may go negative)."""

    def __init__(self):
        self.level = 0.0
        self.stamp = time.monotonic()
        self.rate = 0.0
        self.n_throttled = 0

    def take(self, rate: float, burst: float) -> float | None:
        """Charge one request. None if allowed, else seconds to wait."""
        if rate <= 0:
            return None
        cap = burst if burst > 0 else max(1.0, rate)
        now = time.monotonic()
        if rate != self.rate:
            self.rate = rate
            self.level = cap
        else:
            self.level = min(cap, self.level + (now - self.stamp) * rate)
        self.stamp = now
        if self.level >= 1.0:
            self.level -= 1.0
            return None
        # throttled requests still count, down to one bucket's worth of debt
        self.level = max(-cap, self.level - 1.0)
        self.n_throttled += 1
        return max(0.1, (1.0 - self.level) / rate)

    def format_retry_after(self, wait: float) -> str:
        if self.n_throttled % 3 == 0:
            return f"{max(0.1, wait):.1f}"  # sometimes fractional
        return str(max(1, math.ceil(wait)))


class Faults:
    def __init__(self, seed: int):
        self.rng = random.Random(seed * 7919 + 1)

    def pick(self, cfg: Config) -> str | None:
        if cfg.fault_rate <= 0 or not cfg.fault_kinds:
            return None
        if self.rng.random() >= cfg.fault_rate:
            return None
        return self.rng.choice(cfg.fault_kinds)
