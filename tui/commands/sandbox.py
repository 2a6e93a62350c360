"""`moderate sandbox`: serve the sandbox Canvas in the foreground until ctrl-c.

Point Moderate (or curl, or any Canvas client) at the printed URL with one of the printed
tokens. Fault flags make it slow or unreliable on purpose.
"""

from __future__ import annotations

import argparse
import sys
import time

from tui.sandbox.faults import PERMISSION_STATUSES, THROTTLE_STATUSES, Faults
from tui.sandbox.seed import DEMO
from tui.sandbox.server import SandboxServer

__all__ = ["add_arguments", "run"]

# Final grader first: it is the one a demo needs.
DEMO_USERS = (
    ("final grader (Mira Okafor)", DEMO.final_grader_token),
    ("grader, not final (Jonas Weber)", DEMO.grader_token),
    ("TA grader (Priya Raman)", DEMO.ta_token),
    ("admin, may select final grades (Sam Whitaker)", DEMO.admin_token),
    ("student (Ada Lovelace)", DEMO.student_token),
)


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument(
        "--latency", type=_seconds, default=0.0, help="seconds added to every API request"
    )
    parser.add_argument(
        "--throttle-rate", type=_rate, default=0.0, help="share of requests rate-limited (0-1)"
    )
    parser.add_argument(
        "--throttle-status",
        type=int,
        choices=THROTTLE_STATUSES,
        default=403,
        help="status of a rate-limited answer",
    )
    parser.add_argument(
        "--error-rate", type=_rate, default=0.0, help="share of requests answered 500 (0-1)"
    )
    parser.add_argument(
        "--drop-rate",
        type=_rate,
        default=0.0,
        help="share of connections closed without an answer (0-1)",
    )
    parser.add_argument(
        "--permission-status",
        type=int,
        choices=PERMISSION_STATUSES,
        default=401,
        help='status of "user not authorized" (Canvas\'s api_auth_error_updates flag)',
    )


def run(args: argparse.Namespace) -> int:
    faults = Faults(
        latency=args.latency,
        throttle_rate=args.throttle_rate,
        throttle_status=args.throttle_status,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        permission_status=args.permission_status,
    )
    try:
        server = SandboxServer(faults=faults, host=args.host, port=args.port).start()
    except OSError as error:
        print(
            f"moderate sandbox: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr
        )
        return 1
    try:
        print(f"Sandbox Canvas at {server.url}")
        for who, token in DEMO_USERS:
            print(f"  {token}  {who}")
        print(f"Try: CANVAS_API_TOKEN={DEMO.final_grader_token} moderate --url {server.url}")
        print("ctrl-c stops the sandbox.", flush=True)
        # Sleep in short slices: ctrl-c lands between them on every platform.
        while server.running:
            time.sleep(0.5)
        print("moderate sandbox: the server stopped unexpectedly", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nSandbox stopped.")
    finally:
        server.stop()
    return 0
