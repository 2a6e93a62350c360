"""The `moderate` command as a user runs it: exit codes, one clear line, nothing leaked."""

from __future__ import annotations

import os
import subprocess
import sys

from tui.sandbox.seed import build_moderated_course, demo_state
from tui.sandbox.server import SandboxServer

TOKEN_LIKE = "1~SECRETabcdefghijklmnopqrstuvwxyz0123456789"


def moderate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    environment.pop("CANVAS_API_TOKEN", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_a_token_given_as_the_url_is_never_echoed():
    for result in (
        moderate(
            "board", "--course", "1", "--assignment", "2", env={"CANVAS_BASE_URL": TOKEN_LIKE}
        ),
        moderate("--url", TOKEN_LIKE),
        moderate("status", "--url", TOKEN_LIKE),
    ):
        assert result.returncode in (1, 2)
        assert TOKEN_LIKE not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        assert "not a Canvas URL" in result.stderr


def test_plain_http_to_another_host_is_refused_before_anything_is_sent():
    result = moderate("--url", "http://canvas.example.edu")
    assert result.returncode == 1
    assert "plain http://" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_usage_errors_exit_2_with_one_line_of_why():
    result = moderate("--assignment", "5")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == "moderate: --assignment needs --course"


def test_board_output_cannot_repaint_the_terminal():
    state = demo_state()
    course_id, assignment_id = build_moderated_course(state, students=2)
    hostile = "Evil\x1b]0;PWNED\x07\x1b[31m\u202eRed\x9b2J"
    for user_id in state.student_ids(course_id):
        user = state.users[user_id]
        user.name = user.short_name = user.sortable_name = hostile
    with SandboxServer(state=state) as sandbox:
        env = {"CANVAS_API_TOKEN": sandbox.token}
        common = ("board", "--url", sandbox.url, "--course", str(course_id))
        for output in ("csv", "json"):
            result = moderate(
                *common, "--assignment", str(assignment_id), "--format", output, env=env
            )
            assert result.returncode == 0, result.stderr
            for control in ("\x1b", "\x07", "\u202e", "\x9b"):
                assert control not in result.stdout, (output, control)
            assert "Evil" in result.stdout
