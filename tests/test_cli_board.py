"""`moderate board` end to end against the sandbox Canvas over loopback HTTP.

What a script author sees: the JSON and CSV on stdout, exit codes 0/1/2, and on failure one line
on stderr that says what went wrong, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tui.commands import board as board_command
from tui.sandbox.seed import DEMO

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="moderate board")
    board_command.add_arguments(parser)
    return parser.parse_args(argv)


def board_args(sandbox, assignment_id: int, *extra: str, course_id: int = DEMO.course_id):
    return [
        "--url",
        sandbox.url,
        "--course",
        str(course_id),
        "--assignment",
        str(assignment_id),
        *extra,
    ]


def moderate(*argv: str, token: str | None) -> subprocess.CompletedProcess[str]:
    """`python -m tui ...` in a fresh process, with only this token available."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CANVAS_API_TOKEN", "CANVAS_BASE_URL")
    }
    # No keyring either: the environment variable is the only place a token can come from.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    if token is not None:
        env["CANVAS_API_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "tui", *argv],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def assert_one_clear_line(stderr: str, *, says: str) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert says.lower() in lines[0].lower(), stderr


@pytest.fixture
def run_board(sandbox, monkeypatch, capsys):
    """`moderate board` in this process (run() directly): returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("CANVAS_API_TOKEN", sandbox.token)
    monkeypatch.delenv("CANVAS_BASE_URL", raising=False)

    def run(argv: list[str]) -> tuple[int, str, str]:
        code = board_command.run(parse(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


# --------------------------------------------------------------------------------- JSON


def test_json_board_has_the_documented_shape(sandbox, run_board):
    code, out, err = run_board(board_args(sandbox, DEMO.essay_id))

    assert code == 0, err
    data = json.loads(out)
    assert {"assignment", "graders", "students"} <= set(data)
    assert data["assignment"]["id"] == DEMO.essay_id
    assert data["assignment"]["moderated_grading"] is True
    assert len(data["graders"]) == 3
    assert all(not grader["label"].startswith("Grader ") for grader in data["graders"])
    assert data["students"]
    for student in data["students"]:
        assert {"id", "name", "provisional_grades", "selected_provisional_grade_id"} <= set(student)
        assert isinstance(student["id"], int) and student["name"]
        for grade in student["provisional_grades"]:
            assert set(grade) >= {"provisional_grade_id", "grader", "score", "grade"}
    # The essay's story: some chosen, some to choose, one single grade, one without a grade.
    statuses = {student["status"] for student in data["students"]}
    assert {"selected", "needs_choice", "single", "no_grade"} <= statuses
    assert data["summary"]["can_publish"] is False


def test_names_with_accents_and_brackets_come_out_as_utf8(sandbox, run_board):
    code, out, _ = run_board(board_args(sandbox, DEMO.essay_id))
    assert code == 0
    names = {student["name"] for student in json.loads(out)["students"]}
    assert any(re.search(r"[À-ÿ]", name) for name in names)  # e.g. "Zoë [resit] Ångström"
    assert any("[" in name for name in names)


def test_subprocess_json_matches_the_in_process_board(sandbox, run_board):
    _, in_process, _ = run_board(board_args(sandbox, DEMO.essay_id))
    result = moderate("board", *board_args(sandbox, DEMO.essay_id), token=sandbox.token)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout) == json.loads(in_process)


def test_url_may_come_before_the_subcommand(sandbox):
    result = moderate(
        "--url",
        sandbox.url,
        "board",
        "--course",
        str(DEMO.course_id),
        "--assignment",
        str(DEMO.essay_id),
        token=sandbox.token,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["assignment"]["id"] == DEMO.essay_id


# ---------------------------------------------------------------------------------- CSV


def test_csv_has_a_header_and_one_row_per_student(sandbox, run_board):
    _, json_out, _ = run_board(board_args(sandbox, DEMO.essay_id))
    code, out, err = run_board(board_args(sandbox, DEMO.essay_id, "--format", "csv"))

    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    data = json.loads(json_out)
    header = rows[0]
    assert header[0] == "student"
    assert header[1:-3] == [grader["label"] for grader in data["graders"]]
    assert header[-3:] == ["custom", "selected", "status"]
    assert len(rows) == len(data["students"]) + 1
    assert all(len(row) == len(header) for row in rows)
    assert [row[0].lstrip("'") for row in rows[1:]] == [s["name"] for s in data["students"]]


# ----------------------------------------------------------------------------- anonymity


def test_anonymous_assignment_shows_no_real_student_names(sandbox, run_board):
    _, named_out, _ = run_board(board_args(sandbox, DEMO.essay_id))
    real_names = {student["name"] for student in json.loads(named_out)["students"]}
    real_ids = {str(student["id"]) for student in json.loads(named_out)["students"]}

    code, out, err = run_board(board_args(sandbox, DEMO.anonymous_id))

    assert code == 0, err
    students = json.loads(out)["students"]
    assert students
    for student in students:
        assert "id" not in student and student["anonymous_id"]
        assert re.fullmatch(r"Student \d+", student["name"])
    assert not any(name in out for name in real_names)
    assert not {student["anonymous_id"] for student in students} & real_ids

    code, csv_out, _ = run_board(board_args(sandbox, DEMO.anonymous_id, "--format", "csv"))
    assert code == 0
    assert not any(name in csv_out for name in real_names)


def test_hidden_grader_names_show_as_numbered_graders(sandbox, run_board):
    _, essay_out, _ = run_board(board_args(sandbox, DEMO.essay_id))
    teacher_names = {grader["label"] for grader in json.loads(essay_out)["graders"]}

    code, out, err = run_board(board_args(sandbox, DEMO.lab_id))

    assert code == 0, err
    graders = json.loads(out)["graders"]
    assert [grader["label"] for grader in graders] == ["Grader 1", "Grader 2"]
    assert all(grader["user_id"] is None for grader in graders)
    assert not any(name in out for name in teacher_names)


# -------------------------------------------------------------------------------- failures


def test_wrong_token_is_one_line_and_exit_1(sandbox):
    result = moderate("board", *board_args(sandbox, DEMO.essay_id), token="not-a-real-token")

    assert result.returncode == 1
    assert result.stdout == ""
    assert_one_clear_line(result.stderr, says="token")
    assert "not-a-real-token" not in result.stderr


def test_unknown_course_is_exit_1(sandbox):
    result = moderate(
        "board", *board_args(sandbox, DEMO.essay_id, course_id=987654), token=sandbox.token
    )
    assert result.returncode == 1
    assert_one_clear_line(result.stderr, says="could not find")


def test_assignment_that_is_not_moderated_is_exit_1(sandbox, run_board):
    code, out, err = run_board(board_args(sandbox, DEMO.plain_id))
    assert code == 1 and out == ""
    assert_one_clear_line(err, says="does not use moderated grading")


def test_no_token_anywhere_says_how_to_give_one(sandbox):
    result = moderate("board", *board_args(sandbox, DEMO.essay_id), token=None)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "CANVAS_API_TOKEN" in result.stderr


def test_plain_http_to_another_host_is_refused_before_sending_anything():
    result = moderate(
        "board",
        "--url",
        "http://canvas.example.com",
        "--course",
        "1",
        "--assignment",
        "2",
        token="secret-token-never-sent",
    )
    assert result.returncode == 1
    assert_one_clear_line(result.stderr, says="http://")


def test_missing_arguments_are_a_usage_error():
    result = moderate("board", "--url", "https://canvas.example.com", token="t")
    assert result.returncode == 2
    assert "--course" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_ids_are_a_usage_error():
    result = moderate(
        "board", "--url", "https://x.example", "--course", "abc", "--assignment", "1", token="t"
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_missing_url_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.delenv("CANVAS_BASE_URL", raising=False)
    code = board_command.run(parse(["--course", "1", "--assignment", "2"]))
    assert code == 2
    assert "--url" in capsys.readouterr().err
