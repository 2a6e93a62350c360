"""The `moderate` command: parse arguments, build services, start the TUI or a headless command.

Exit codes are part of the public interface: 0 ok, 2 usage, 1 any other failure with one
clear line on stderr and never a traceback. Textual is imported only when the TUI runs, so
headless commands start fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from tui import __version__
from tui.commands import canvas_id

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

log = logging.getLogger("tui")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, as documented."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"moderate: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    from tui.commands import auth, board, log, sandbox

    parser = _Parser(
        prog="moderate",
        description="A keyboard-driven terminal desk for Canvas moderated grading.",
    )
    parser.add_argument("--version", action="version", version=f"moderate {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="open the desk on the built-in sandbox Canvas"
    )
    parser.add_argument(
        "--url", help="Canvas address, e.g. https://school.instructure.com (or CANVAS_BASE_URL)"
    )
    parser.add_argument("--profile", help="a profile saved by `moderate login`")
    parser.add_argument("--course", type=canvas_id, help="open this course")
    parser.add_argument(
        "--assignment", type=canvas_id, help="with --course: open this assignment's grid"
    )
    parser.add_argument(
        "--disagreement",
        type=float,
        default=0.0,
        metavar="POINTS",
        help="mark rows whose scores differ by more than POINTS (default 0: any difference)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    board_parser = commands.add_parser(
        "board", help="print an assignment's board as JSON or CSV (read-only)"
    )
    board.add_arguments(board_parser)
    sandbox_parser = commands.add_parser(
        "sandbox", help="serve the sandbox Canvas on this machine and print its URL and token"
    )
    sandbox.add_arguments(sandbox_parser)
    login_parser = commands.add_parser("login", help="check a token and keep it in the keyring")
    auth.add_login_arguments(login_parser)
    logout_parser = commands.add_parser("logout", help="forget a Canvas token")
    auth.add_logout_arguments(logout_parser)
    status_parser = commands.add_parser(
        "status", help="which Canvas, which user, and where the token comes from"
    )
    auth.add_status_arguments(status_parser)
    log_parser = commands.add_parser("log", help="show the audit trail of changes Moderate made")
    log.add_arguments(log_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(parser, args)
    except KeyboardInterrupt:
        return EXIT_FAILURE
    except Exception as error:  # the promise: one clear line, never a traceback
        print(f"moderate: {_one_line(error)}", file=sys.stderr)
        log.debug("failure", exc_info=error)
        return EXIT_FAILURE


def _one_line(error: BaseException) -> str:
    from tui.canvas.errors import CanvasError

    if isinstance(error, CanvasError):
        return str(error)
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from tui.commands import auth, board, log, sandbox

    if args.command == "log":
        return log.run(args)
    if args.command == "board":
        return board.run(args)
    if args.command == "sandbox":
        return sandbox.run(args)
    if args.command == "login":
        return auth.run_login(args)
    if args.command == "logout":
        return auth.run_logout(args)
    if args.command == "status":
        return auth.run_status(args)
    if args.assignment is not None and args.course is None:
        parser.error("--assignment needs --course")
    if args.demo:
        return run_demo(args)
    return run_tui(args, parser)


def run_demo(args: argparse.Namespace) -> int:
    """The desk on the embedded sandbox: how a newcomer tries Moderate in ten seconds."""
    from tui.app import AppSettings, create_app
    from tui.audit import audited
    from tui.canvas.client import CanvasClient
    from tui.canvas.moderation import ModerationAPI
    from tui.sandbox.server import SandboxServer
    from tui.secret import Secret

    with SandboxServer(quiet=True) as server:
        # The demo's changes go to the audit trail too (host 127.0.0.1:PORT): `moderate log`
        # shows what the trail of a real session looks like.
        api = audited(ModerationAPI(CanvasClient(server.url, Secret(server.token))))
        settings = AppSettings(
            canvas_url=server.url,
            canvas_label="Sandbox Canvas (demo)",
            course_id=args.course,
            assignment_id=args.assignment,
            disagreement_threshold=args.disagreement,
            demo=True,
        )
        create_app(settings, api=api).run()
    return EXIT_OK


def run_tui(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from tui import config, credentials
    from tui.app import AppSettings, create_app
    from tui.audit import audited
    from tui.canvas.client import CanvasClient
    from tui.canvas.moderation import ModerationAPI
    from tui.secret import Secret

    # --profile, then --url, then CANVAS_BASE_URL, then the default profile. A URL given here
    # is normalised, which refuses http:// to another host before anything is sent.
    try:
        profile = config.select_profile(config.load_settings(), url=args.url, name=args.profile)
    except config.ProfileNotFoundError as error:
        parser.error(str(error))
    except config.ConfigError as error:
        if not (args.url or os.environ.get(config.BASE_URL_ENV) or args.profile):
            parser.error(
                "no Canvas given: use --url URL, set CANVAS_BASE_URL, "
                "run `moderate login --url URL`, or try `moderate --demo`"
            )
        raise SystemExit(f"moderate: {error}") from None
    base_url = profile.url

    def connector(url: str, token: Secret) -> ModerationAPI:
        # Every change is written to the audit trail before it is sent (tui.audit).
        return audited(ModerationAPI(CanvasClient(url, token)))

    api = None
    problem = None
    try:
        resolved = credentials.resolve_token(base_url)
    except credentials.CredentialsError as error:
        problem = str(error)
    else:
        api = connector(base_url, resolved.secret)

    settings = AppSettings(
        canvas_url=base_url,
        canvas_label=config.canvas_host(base_url),
        course_id=args.course if args.course is not None else profile.last_course_id,
        assignment_id=args.assignment if args.course is not None else None,
        disagreement_threshold=args.disagreement,
    )
    saved = config.load_settings().by_name(profile.name) is not None

    def remember_course(course_id: int) -> None:
        config.record_last_course(profile, course_id)

    app = create_app(
        settings,
        api=api,
        connector=connector,
        remember_course=remember_course if saved else None,
        keep_token=credentials.keep_token if credentials.keyring_status().available else None,
        startup_message=problem,
    )
    app.run()
    return EXIT_OK
