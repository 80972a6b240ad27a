"""`python -m devhost serve`: run the function app locally, like `func start`.

Order matters: local.settings.json's Values reach the environment before the app
module is imported, because app code may read settings at import time.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from devhost import dev
from devhost.host import DevHost
from devhost.http_server import DEFAULT_MAX_BODY_BYTES
from devhost.loader import HttpFunction, QueueFunction, TimerFunction, import_app
from devhost.queue_listener import DEFAULT_MESSAGE_LEASE
from devhost.routes import join_prefix
from devhost.settings import LocalSettings

DEFAULT_PORT = 7071
log = logging.getLogger("devhost")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the function app")
    serve.add_argument("--app", default="function_app", help="module[:attribute] (default app)")
    serve.add_argument("--script-root", type=Path, default=Path.cwd(), help="app directory")
    serve.add_argument("--port", type=int, help="HTTP port (default Host.LocalHttpPort or 7071)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    serve.add_argument("--no-workers", action="store_true", help="HTTP only: no queues, timers")
    serve.add_argument("--settings", type=Path, help="default <script-root>/local.settings.json")
    serve.add_argument("--host-json", type=Path, help="default <script-root>/host.json")
    serve.add_argument(
        "--max-body-bytes",
        type=int,
        help="request body cap (default FUNCTIONS_REQUEST_BODY_SIZE_LIMIT or 100 MB)",
    )
    serve.add_argument("--grace", type=float, default=30.0, help="shutdown grace, seconds")
    serve.add_argument(
        "--message-lease",
        type=int,
        default=DEFAULT_MESSAGE_LEASE,
        help="seconds a fetched queue message stays invisible if this host dies (default"
        " 600, as the Functions host; `make chaos` compresses it)",
    )
    serve.add_argument("--log-level", default="INFO")
    dev.add_commands(commands)
    return parser


def serve(args: argparse.Namespace) -> int:
    root = args.script_root.resolve()
    settings = LocalSettings.load(args.settings or root / "local.settings.json")
    settings.apply_to(os.environ)
    sys.path.insert(0, str(root))
    app = import_app(args.app)
    host_json = args.host_json or root / "host.json"
    host = DevHost(
        app,
        host_json if host_json.exists() else None,
        settings,
        port=args.port if args.port is not None else settings.local_http_port or DEFAULT_PORT,
        host=args.host,
        workers=not args.no_workers,
        max_body_bytes=args.max_body_bytes or _body_limit_setting(),
        shutdown_grace=args.grace,
        message_lease=getattr(args, "message_lease", DEFAULT_MESSAGE_LEASE),
        easy_auth=getattr(args, "easy_auth", None),  # `dev` sets it; bare `serve` has none
    )
    stop = threading.Event()
    signals = {"count": 0}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        signals["count"] += 1
        if signals["count"] > 1:
            # A second Ctrl+C: the user does not want to wait for in-flight work.
            os._exit(130)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    host.start()
    print(describe_functions(host), flush=True)
    print(f"devhost ready on {host.base_url} (Ctrl+C to stop)", flush=True)
    while not stop.wait(0.5):
        pass
    log.info("shutting down")
    finished = host.stop()
    logging.shutdown()
    if not finished:
        # Abandoned invocations run on pool threads the interpreter would wait for.
        os._exit(1)
    return 0


def _body_limit_setting() -> int:
    """The host's own app setting for the request body cap, in bytes."""
    value = os.environ.get("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT", "")
    return int(value) if value.strip().isdigit() else DEFAULT_MAX_BODY_BYTES


def describe_functions(host: DevHost) -> str:
    lines = ["Functions:"]
    for spec in host.functions:
        if isinstance(spec, HttpFunction):
            route = join_prefix(host.config.route_prefix, spec.route)
            lines.append(f"  {spec.name}: [{','.join(spec.methods)}] {host.base_url}/{route}")
        elif isinstance(spec, QueueFunction):
            state = "" if host.workers else " (not polled: --no-workers)"
            lines.append(f"  {spec.name}: queueTrigger {spec.queue_name}{state}")
        elif isinstance(spec, TimerFunction):
            state = "" if host.workers else " (not scheduled: --no-workers)"
            lines.append(f"  {spec.name}: timerTrigger {spec.schedule.text}{state}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The storage SDK logs every HTTP call at INFO; that drowns the host's own lines.
    logging.getLogger("azure").setLevel(logging.WARNING)
    if args.command == "token":
        return dev.token(args)
    try:
        return dev.dev(args, serve) if args.command == "dev" else serve(args)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        # Most often a `make dev` still running (or still shutting down) in another shell.
        print(
            "devhost: a port it needs is already in use (the host's --port, default 7071;"
            " for `dev` also the local Entra's --cloud-port). Is another `make dev` running?"
            " Stop it, or choose other ports.",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
