"""Command line: `python -m graphsim [options]`; prints one JSON line when listening."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import tempfile
from pathlib import Path

import uvicorn

from graphsim.app import build_app
from graphsim.keys import ensure_tls
from graphsim.sim import Sim


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="graphsim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443, help="0 picks a free port")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--voice-share",
        type=float,
        default=0.25,
        help="share of generated people with Teams Phone (only they delegate); 0..1",
    )
    parser.add_argument("--tenant-file", default=None, help="JSON tenant (format of /_sim/truth)")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--throttle-rps", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--state-dir", default=None)
    parser.add_argument("--strict-callbacks", action="store_true")
    parser.add_argument(
        "--delegation-writes",
        choices=("accept", "reject"),
        default="accept",
        help="reject: every delegate write answers 405 (a tenant where Graph refuses them)",
    )
    parser.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        help="extra allowed redirect URI (repeatable); loopback ones always allowed",
    )
    parser.add_argument(
        "--public-host",
        default=None,
        help="host name to print in URLs (default: --host, 127.0.0.1 for 0.0.0.0)",
    )
    parser.add_argument(
        "--tls-name",
        action="append",
        default=[],
        help="extra host name for the TLS certificate (repeatable), e.g. a compose service name",
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if not 0 <= args.users <= 1_000_000:
        parser.error("--users must be 0..1000000")
    if not 0 <= args.fault_rate <= 1:
        parser.error("--fault-rate must be 0..1")
    if not 0 <= args.voice_share <= 1:
        parser.error("--voice-share must be 0..1")
    if args.throttle_rps < 0 or args.latency_ms < 0 or args.jitter_ms < 0:
        parser.error("--throttle-rps, --latency-ms and --jitter-ms must not be negative")
    return args


ANY_ADDRESS = ("0.0.0.0", "::")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _public_base(args, port: int) -> str:
    host = args.public_host or ("127.0.0.1" if args.host in ANY_ADDRESS else args.host)
    if ":" in host:
        host = f"[{host}]"
    return f"https://{host}:{port}"


class _Server(uvicorn.Server):
    """uvicorn's server with our own signal handling: SIGTERM and SIGINT exit 0 promptly."""

    @contextlib.contextmanager
    def capture_signals(self):  # our own handlers (stop): exit 0, no re-raised signal
        yield

    def stop(self):
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True
        asyncio.get_running_loop().call_later(0.25, self._abort_idle)

    def _abort_idle(self):
        # idle keep-alive TLS connections would wait for the peer's close_notify
        for conn in list(self.server_state.connections):
            transport = getattr(conn, "transport", None)
            if transport is not None:
                transport.abort()


def _announce(sim: Sim, args, state_dir: Path) -> None:
    """The ready line: on stdout, and in <state-dir>/graphsim.json when --state-dir is given."""
    line = json.dumps(sim.info())
    if args.state_dir:
        tmp = state_dir / "graphsim.json.tmp"
        tmp.write_text(line + "\n")
        tmp.replace(state_dir / "graphsim.json")
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _serve(args, state_dir: Path) -> int:
    bound = "" if args.host in ANY_ADDRESS else args.host
    ca, cert, key = ensure_tls(state_dir, [*args.tls_name, args.public_host or "", bound])
    sim = Sim(args, state_dir)
    sim.ca_path = ca
    try:
        sock = _bind(args.host, args.port)
    except OSError as e:
        print(f"graphsim: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    sim.base = _public_base(args, sock.getsockname()[1])
    config = uvicorn.Config(
        build_app(sim),
        ssl_certfile=cert,
        ssl_keyfile=key,
        log_level=args.log_level,
        access_log=False,
        lifespan="on",
        http="h11" if os.environ.get("GRAPHSIM_PURE") else "auto",  # httptools if installed
        timeout_keep_alive=30,
        backlog=2048,
        timeout_graceful_shutdown=2,
    )
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.stop)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            return task.result() or 1
        await asyncio.sleep(0.02)
    _announce(sim, args, state_dir)
    await task
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.WARNING))
    if args.state_dir:
        state_dir = Path(args.state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
    else:
        state_dir = Path(tempfile.mkdtemp(prefix="graphsim-"))
    os.chmod(state_dir, 0o700)
    loop_factory = None
    if not os.environ.get("GRAPHSIM_PURE"):
        try:
            import uvloop  # optional: faster event loop and TLS

            loop_factory = uvloop.new_event_loop
        except ImportError:
            pass
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(_serve(args, state_dir))
    except KeyboardInterrupt:
        return 0
