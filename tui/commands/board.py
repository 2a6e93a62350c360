"""`moderate board`: print one assignment's board as JSON or CSV, read-only.

For scripts and for checking a course from a server without a TUI. The JSON shape is a stable
interface (see the architecture notes); CSV has one row per student. Output is UTF-8 whatever the
terminal's locale, so names with accents survive a pipe. Exit codes: 0 ok, 2 usage, 1 anything
else, with one line on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import re
import sys

from tui.board import Board, board_to_csv_rows, board_to_json, build_board
from tui.canvas.errors import CanvasError, NotModeratedError
from tui.canvas.moderation import ModerationAPI
from tui.commands import canvas_id
from tui.secret import Secret

__all__ = ["add_arguments", "fetch_board", "run"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
BASE_URL_ENV = "CANVAS_BASE_URL"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps a `--url` given before the subcommand (`moderate --url U board ...`).
    parser.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        help=f"Canvas address, e.g. https://school.instructure.com (or {BASE_URL_ENV})",
    )
    parser.add_argument("--course", type=canvas_id, required=True, metavar="ID")
    parser.add_argument("--assignment", type=canvas_id, required=True, metavar="ID")
    parser.add_argument(
        "--format", choices=("json", "csv"), default="json", help="output format (default json)"
    )


async def fetch_board(api: ModerationAPI, course_id: int, assignment_id: int) -> Board:
    """Everything a board needs, in one round of concurrent requests."""
    # All four at once; if the assignment turns out not to be moderated, that is the error the
    # user should read, not whatever gradeable_students said about it.
    assignment, students, graders, me = await asyncio.gather(
        api.get_assignment(course_id, assignment_id),
        api.gradeable_students(course_id, assignment_id),
        api.list_graders(course_id),
        api.current_user(),
        return_exceptions=True,
    )
    if isinstance(assignment, BaseException):
        raise assignment
    if not assignment.moderated_grading:
        raise NotModeratedError()
    for result in (students, graders, me):
        if isinstance(result, BaseException):
            raise result
    return build_board(assignment, students, graders, me=me)


async def _load(base_url: str, token: Secret, course_id: int, assignment_id: int) -> Board:
    from tui.canvas.client import CanvasClient

    async with CanvasClient(base_url, token) as client:
        return await fetch_board(ModerationAPI(client), course_id, assignment_id)


# Outside strings JSON has none of these, so escaping them in place keeps the JSON equal.
_TERMINAL_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def render(board: Board, output_format: str) -> str:
    if output_format == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(board_to_csv_rows(board))
        return buffer.getvalue()
    # Accented names stay readable UTF-8; the C1 controls and bidirectional overrides that JSON
    # leaves raw are escaped, so printing the dump can't repaint or reorder the terminal.
    text = json.dumps(board_to_json(board), ensure_ascii=False, indent=2)
    return _TERMINAL_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text) + "\n"


def _write_utf8(text: str) -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a replaced stdout without bytes underneath
        sys.stdout.write(text)
    else:
        buffer.write(text.encode("utf-8"))
    sys.stdout.flush()


def _one_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _fail(message: str, code: int = EXIT_FAILURE) -> int:
    print(f"moderate: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    from tui import credentials
    from tui.canvas.client import normalise_base_url

    url = getattr(args, "url", None) or os.environ.get(BASE_URL_ENV)
    if not url:
        return _fail(f"board needs --url URL (or {BASE_URL_ENV})", EXIT_USAGE)
    try:
        base_url = normalise_base_url(url)  # refuses http:// to another host before any request
        token = credentials.resolve_token(base_url).secret
        board = asyncio.run(_load(base_url, token, args.course, args.assignment))
    except (CanvasError, credentials.CredentialsError) as error:
        return _fail(_one_line(error))
    try:
        _write_utf8(render(board, args.format))
    except BrokenPipeError:
        # `moderate board ... | head`: the reader left; say nothing, and keep Python from
        # complaining again when it flushes stdout at exit.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_FAILURE
    return EXIT_OK
