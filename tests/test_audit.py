"""The audit trail against the sandbox Canvas over loopback HTTP.

What someone auditing a release relies on: every change Moderate sent is in `audit.jsonl`,
written before the request left (so a crash can't hide it) and again with Canvas's answer; the
file holds ids, never the token or a name; if the trail can't be written nothing is sent; and
`moderate log` reads it back in plain words.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tui.audit import AuditError, AuditLog, audited
from tui.canvas.client import CanvasClient, RetryPolicy
from tui.canvas.errors import NotFoundError, PermissionDeniedError, UnselectedGradesError
from tui.canvas.moderation import ModerationAPI
from tui.commands import log as log_command
from tui.config import STATE_DIR_ENV
from tui.sandbox.seed import DEMO
from tui.secret import Secret

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Retries wait microseconds: the behaviour is the same, the suite stays fast.
FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01)
CHANGES = ("PUT", "POST")


@pytest.fixture
def state_dir(tmp_path, monkeypatch) -> Path:
    """A state dir that does not exist yet: Moderate has to create it, privately."""
    directory = tmp_path / "state"
    monkeypatch.setenv(STATE_DIR_ENV, str(directory))
    return directory


@pytest.fixture
def audit_path(state_dir) -> Path:
    return state_dir / "audit.jsonl"


def connect(sandbox, *, token: str | None = None, transport=None):
    client = CanvasClient(
        sandbox.url, Secret(token or sandbox.token), retry=FAST_RETRY, transport=transport
    )
    return audited(ModerationAPI(client))


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("ascii").splitlines()]


def assert_one_change(lines: list[dict], action: str) -> tuple[dict, dict]:
    """Exactly a request line, then its answer line, sharing a change id."""
    assert [line["phase"] for line in lines] == ["request", "answer"]
    request, answer = lines
    assert request["change_id"] == answer["change_id"]
    for line in lines:
        assert line["action"] == action
        assert line["course_id"] == DEMO.course_id
        assert line["user_id"] == DEMO.final_grader_id
    return request, answer


def changes_sent(sandbox) -> list[str]:
    return [route for route in sandbox.stats.by_route if route.startswith(CHANGES)]


async def unselected_students(api, assignment_id: int):
    students = await api.gradeable_students(DEMO.course_id, assignment_id)
    return [s for s in students if s.selected_provisional_grade_id is None and s.provisional_grades]


def run_log(capsys, *argv: str) -> tuple[int, str, str]:
    """`moderate log ARGV` in this process: (exit code, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="moderate log")
    log_command.add_arguments(parser)
    code = log_command.run(parser.parse_args(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------ every action


async def test_select_is_recorded_before_and_after(sandbox, audit_path):
    api = connect(sandbox)
    async with api.client:
        student = (await unselected_students(api, DEMO.essay_id))[0]
        grade = student.provisional_grades[1]
        await api.select_grade(DEMO.course_id, DEMO.essay_id, grade.id)

    request, answer = assert_one_change(records(audit_path), "select")
    host, port = sandbox.url.removeprefix("http://").split(":")
    assert request["host"] == answer["host"] == f"{host}:{port}"
    assert request["assignment_id"] == DEMO.essay_id
    assert request["provisional_grade_ids"] == [grade.id]
    assert answer["outcome"] == "ok"
    assert answer["answer"] == {
        "selections": [{"student_id": student.user_id, "provisional_grade_id": grade.id}]
    }
    for line in (request, answer):
        stamp = datetime.fromisoformat(line["time"].replace("Z", "+00:00"))
        assert line["time"].endswith("Z") and stamp.utcoffset().total_seconds() == 0


async def test_bulk_select_records_every_grade_and_how_many_changed(sandbox, audit_path):
    api = connect(sandbox)
    async with api.client:
        students = (await unselected_students(api, DEMO.essay_id))[:3]
        ids = [student.provisional_grades[0].id for student in students]
        selections = await api.bulk_select(DEMO.course_id, DEMO.essay_id, iter(ids))

    request, answer = assert_one_change(records(audit_path), "bulk_select")
    assert request["provisional_grade_ids"] == ids
    assert answer["outcome"] == "ok"
    assert answer["answer"]["changed"] == len(selections) == 3
    assert {s["student_id"] for s in answer["answer"]["selections"]} == {
        student.user_id for student in students
    }


async def test_custom_grade_records_the_student_and_the_final_grade(sandbox, audit_path):
    api = connect(sandbox)
    async with api.client:
        student = (await unselected_students(api, DEMO.essay_id))[0]
        final = await api.set_custom_grade(DEMO.course_id, DEMO.essay_id, student, "7.5")

    request, answer = assert_one_change(records(audit_path), "custom_grade")
    assert request["student_ids"] == [student.user_id]
    assert request["grade"] == "7.5"
    assert answer["answer"] == {
        "provisional_grade_id": final.id,
        "score": 7.5,
        "grade": final.grade,
        "final": True,
    }


async def test_adding_to_the_moderation_set_records_student_ids(sandbox, audit_path):
    api = connect(sandbox)
    async with api.client:
        students = await api.gradeable_students(DEMO.course_id, DEMO.essay_id)
        outside = [s.user_id for s in students if not s.in_moderation_set][:2]
        await api.add_moderated_students(DEMO.course_id, DEMO.essay_id, outside)

    request, answer = assert_one_change(records(audit_path), "add_to_moderation_set")
    assert request["student_ids"] == outside
    assert sorted(answer["answer"]["student_ids"]) == sorted(outside)


async def test_publish_is_recorded_as_released(sandbox, audit_path):
    api = connect(sandbox)
    async with api.client:
        await api.publish(DEMO.course_id, DEMO.ready_id)

    request, answer = assert_one_change(records(audit_path), "publish")
    assert request["assignment_id"] == DEMO.ready_id
    assert answer["outcome"] == "ok" and answer["answer"] == {"released": True}


async def test_nothing_to_change_sends_nothing_and_records_nothing(sandbox, audit_path):
    api = connect(sandbox)
    async with api.client:
        assert await api.bulk_select(DEMO.course_id, DEMO.essay_id, []) == []
        assert await api.add_moderated_students(DEMO.course_id, DEMO.essay_id, []) == []
    assert not audit_path.exists()
    assert changes_sent(sandbox) == []


# ------------------------------------------------------------------------ errors


async def test_a_refusal_is_recorded_with_its_class_and_sentence(sandbox, audit_path):
    api = connect(sandbox)
    async with api.client:
        student = (await unselected_students(api, DEMO.essay_id))[0]
        sandbox.faults.fail_next("/select", 404)
        with pytest.raises(NotFoundError) as not_found:
            await api.select_grade(DEMO.course_id, DEMO.essay_id, student.provisional_grades[0].id)
        # A real refusal too: Essay 2 still has students without a selected grade.
        with pytest.raises(UnselectedGradesError) as unselected:
            await api.publish(DEMO.course_id, DEMO.essay_id)

    lines = records(audit_path)
    _, select_answer = assert_one_change(lines[:2], "select")
    _, publish_answer = assert_one_change(lines[2:], "publish")
    assert select_answer["outcome"] == "error"
    assert select_answer["error"] == {
        "class": "NotFoundError",
        "message": str(not_found.value),
        "status": 404,
    }
    assert publish_answer["outcome"] == "error"
    assert publish_answer["error"]["class"] == "UnselectedGradesError"
    assert publish_answer["error"]["message"] == str(unselected.value)


async def test_the_acting_user_is_whoever_the_token_belongs_to(sandbox, audit_path):
    # Jonas grades Essay 2 but is not its final grader: Canvas refuses, and the trail says who.
    final_grader = connect(sandbox)
    async with final_grader.client:
        student = (await unselected_students(final_grader, DEMO.essay_id))[0]
    api = connect(sandbox, token=DEMO.grader_token)
    async with api.client:
        with pytest.raises(PermissionDeniedError):
            await api.select_grade(DEMO.course_id, DEMO.essay_id, student.provisional_grades[0].id)
    request, answer = records(audit_path)
    assert request["user_id"] == answer["user_id"] == DEMO.grader_id
    assert answer["outcome"] == "error"


# ------------------------------------------------------------------------ before the request


class SeesTheTrailOnSend(httpx.AsyncHTTPTransport):
    """A real HTTP transport that reads the audit log the instant a change leaves."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.seen: list[tuple[str, list[dict]]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in CHANGES:
            self.seen.append((request.method, records(self.path)))
        return await super().handle_async_request(request)


async def test_each_request_line_is_on_disk_before_its_request_leaves(sandbox, audit_path):
    transport = SeesTheTrailOnSend(audit_path)
    api = connect(sandbox, transport=transport)
    async with api.client:
        students = await unselected_students(api, DEMO.essay_id)
        await api.select_grade(DEMO.course_id, DEMO.essay_id, students[0].provisional_grades[0].id)
        await api.bulk_select(DEMO.course_id, DEMO.essay_id, [students[1].provisional_grades[0].id])
        await api.set_custom_grade(DEMO.course_id, DEMO.essay_id, students[2], "6")
        await api.add_moderated_students(DEMO.course_id, DEMO.essay_id, [students[3].user_id])
        await api.publish(DEMO.course_id, DEMO.ready_id)

    actions = ["select", "bulk_select", "custom_grade", "add_to_moderation_set", "publish"]
    assert len(transport.seen) == len(actions)
    for (_, on_disk), action in zip(transport.seen, actions, strict=True):
        last = on_disk[-1]
        # The newest line is this change's request, and it has no answer yet.
        assert (last["phase"], last["action"]) == ("request", action)
        assert not any(line["change_id"] == last["change_id"] for line in on_disk[:-1])
    phases = [(line["action"], line["phase"]) for line in records(audit_path)]
    assert phases == [(action, phase) for action in actions for phase in ("request", "answer")]


async def test_a_dropped_connection_leaves_the_request_and_its_failure(sandbox, audit_path):
    api = connect(sandbox)
    async with api.client:
        student = (await unselected_students(api, DEMO.essay_id))[0]
        sandbox.faults.drop_next("/select", times=FAST_RETRY.attempts)
        with pytest.raises(Exception):  # noqa: B017 - the client's NetworkError
            await api.select_grade(DEMO.course_id, DEMO.essay_id, student.provisional_grades[0].id)
    request, answer = assert_one_change(records(audit_path), "select")
    assert answer["outcome"] == "error" and answer["error"]["class"] == "NetworkError"


async def test_a_release_whose_answer_was_lost_is_recorded_once_settled(sandbox, audit_path):
    api = connect(sandbox)
    async with api.client:
        sandbox.faults.drop_after_commit("/provisional_grades/publish")
        await api.publish(DEMO.course_id, DEMO.ready_id)  # Canvas is asked: it did release
    request, answer = assert_one_change(records(audit_path), "publish")
    assert answer["outcome"] == "ok" and answer["answer"] == {"released": True}


class CancelledOnSend(httpx.AsyncHTTPTransport):
    """The task is cancelled (the user quit, a worker was replaced) as the change leaves."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in CHANGES:
            raise asyncio.CancelledError
        return await super().handle_async_request(request)


async def test_a_cancelled_change_is_recorded_with_an_unknown_outcome(sandbox, audit_path, capsys):
    api = connect(sandbox, transport=CancelledOnSend())
    async with api.client:
        with pytest.raises(asyncio.CancelledError):
            await api.publish(DEMO.course_id, DEMO.ready_id)
    _, answer = assert_one_change(records(audit_path), "publish")
    assert answer["outcome"] == "unknown"
    assert answer["error"]["class"] == "CancelledError"

    _, out, _ = run_log(capsys)
    assert "→ unknown: CancelledError: Moderate stopped before Canvas answered; check Canvas" in out


class LosesTheTrailOnSend(httpx.AsyncHTTPTransport):
    """The audit log becomes unwritable while the change is in flight (the disk filled up)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.moved_to = path.with_name("moved.jsonl")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in CHANGES:
            self.path.rename(self.moved_to)
            self.path.mkdir()
        return await super().handle_async_request(request)


async def test_an_answer_that_cannot_be_recorded_does_not_undo_the_change(
    sandbox, audit_path, caplog
):
    transport = LosesTheTrailOnSend(audit_path)
    api = connect(sandbox, transport=transport)
    async with api.client:
        student = (await unselected_students(api, DEMO.essay_id))[0]
        grade = student.provisional_grades[0]
        # Canvas made the change: the caller hears so, not an error claiming nothing was sent.
        selection = await api.select_grade(DEMO.course_id, DEMO.essay_id, grade.id)
    assert selection.selected_provisional_grade_id == grade.id
    (request,) = records(transport.moved_to)  # the request line alone: "outcome unknown"
    assert request["phase"] == "request"
    assert "could not record Canvas's answer" in caplog.text


# The process dies the instant a change would leave, as in a crash or a power cut.
CRASH_AS_THE_SELECT_LEAVES = """
import asyncio, os, sys
import httpx
from tui.audit import audited
from tui.canvas.client import CanvasClient
from tui.canvas.moderation import ModerationAPI
from tui.secret import Secret

class PowerCut(httpx.AsyncHTTPTransport):
    async def handle_async_request(self, request):
        if request.method != "GET":
            os._exit(9)
        return await super().handle_async_request(request)

async def main(url, course_id, assignment_id, grade_id):
    client = CanvasClient(url, Secret(os.environ["AUDIT_TEST_TOKEN"]), transport=PowerCut())
    await audited(ModerationAPI(client)).select_grade(course_id, assignment_id, grade_id)

asyncio.run(main(sys.argv[1], *map(int, sys.argv[2:])))
"""


async def test_a_crash_mid_request_keeps_the_request_line(sandbox, state_dir, audit_path, capsys):
    api = connect(sandbox)
    async with api.client:
        grade = (await unselected_students(api, DEMO.essay_id))[0].provisional_grades[0]
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AS_THE_SELECT_LEAVES, sandbox.url]
        + [str(DEMO.course_id), str(DEMO.essay_id), str(grade.id)],
        cwd=PROJECT_ROOT,
        env={**os.environ, STATE_DIR_ENV: str(state_dir), "AUDIT_TEST_TOKEN": sandbox.token},
        capture_output=True,
        timeout=60,
    )
    assert crashed.returncode == 9, crashed.stderr
    assert changes_sent(sandbox) == []  # it died before Canvas heard anything
    (request,) = records(audit_path)
    assert request["phase"] == "request" and request["provisional_grade_ids"] == [grade.id]

    code, out, _ = run_log(capsys)
    assert code == 0
    assert "no answer recorded (the outcome is unknown: check Canvas)" in out


# ------------------------------------------------------------------------ what is never written


async def test_the_token_is_never_in_the_trail(sandbox, audit_path):
    api = connect(sandbox)
    async with api.client:
        students = await unselected_students(api, DEMO.essay_id)
        await api.select_grade(DEMO.course_id, DEMO.essay_id, students[0].provisional_grades[0].id)
        await api.set_custom_grade(DEMO.course_id, DEMO.essay_id, students[1], "8")
        sandbox.faults.fail_next("/bulk_select", 401)  # an auth failure, Canvas's words included
        with pytest.raises(Exception):  # noqa: B017 - InvalidTokenError
            await api.bulk_select(DEMO.course_id, DEMO.essay_id, [1])
    data = audit_path.read_bytes()
    assert len(records(audit_path)) == 6
    assert sandbox.token.encode() not in data
    assert b"Bearer" not in data and b"?" not in data  # no header, no query string


async def test_an_anonymous_assignment_leaves_no_names(sandbox, audit_path):
    api = connect(sandbox)
    async with api.client:
        students = await unselected_students(api, DEMO.anonymous_id)
        assert all(student.is_anonymous for student in students)
        first, second, third = students[:3]
        await api.select_grade(DEMO.course_id, DEMO.anonymous_id, first.provisional_grades[0].id)
        await api.bulk_select(DEMO.course_id, DEMO.anonymous_id, [second.provisional_grades[1].id])
        await api.set_custom_grade(DEMO.course_id, DEMO.anonymous_id, third, "9")
        # Canvas's answer to this one is user objects with real names.
        await api.add_moderated_students(DEMO.course_id, DEMO.essay_id, [DEMO.student_id])

    lines = records(audit_path)
    anonymous_lines = [line for line in lines if line["assignment_id"] == DEMO.anonymous_id]
    assert len(anonymous_lines) == 6
    assert not any("student_ids" in line for line in anonymous_lines)
    select_answer, bulk_answer, custom_request = lines[1], lines[3], lines[4]
    assert select_answer["answer"]["selections"][0]["anonymous_id"] == first.anonymous_id
    assert bulk_answer["answer"]["selections"][0]["anonymous_id"] == second.anonymous_id
    assert custom_request["anonymous_ids"] == [third.anonymous_id]

    text = audit_path.read_text("ascii")
    for user in sandbox.state.users.values():
        assert json.dumps(user.name) not in text, user.name
        assert user.name.split()[0] not in text, user.name


# ------------------------------------------------------------------------ a trail that can't be written


async def test_a_trail_that_cannot_be_written_refuses_the_change(sandbox, audit_path):
    audit_path.mkdir(parents=True)  # a directory where the file should be
    api = connect(sandbox)
    async with api.client:
        student = (await unselected_students(api, DEMO.essay_id))[0]
        with pytest.raises(AuditError) as refused:
            await api.select_grade(DEMO.course_id, DEMO.essay_id, student.provisional_grades[0].id)
        with pytest.raises(AuditError):
            await api.publish(DEMO.course_id, DEMO.ready_id)
        after = await api.gradeable_students(DEMO.course_id, DEMO.essay_id)

    message = str(refused.value)
    assert message.startswith(f"Moderate could not write its audit log at {audit_path}: ")
    assert message.endswith("; no change was sent.")
    assert changes_sent(sandbox) == []  # Canvas heard of neither change
    unchanged = next(s for s in after if s.user_id == student.user_id)
    assert unchanged.selected_provisional_grade_id is None


async def test_a_state_dir_that_cannot_be_made_refuses_the_change(sandbox, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv(STATE_DIR_ENV, str(blocker / "state"))
    api = connect(sandbox)
    async with api.client:
        with pytest.raises(AuditError, match="no change was sent"):
            await api.publish(DEMO.course_id, DEMO.ready_id)
    assert changes_sent(sandbox) == []


# ------------------------------------------------------------------------ the file itself


async def test_the_trail_is_private(sandbox, state_dir, audit_path):
    api = connect(sandbox)
    async with api.client:
        await api.publish(DEMO.course_id, DEMO.ready_id)
    assert stat.S_IMODE(audit_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700


def test_a_trail_left_readable_by_others_is_made_private(audit_path):
    audit_path.parent.mkdir()
    audit_path.write_text("")
    audit_path.chmod(0o644)
    AuditLog(audit_path, host="canvas.example.edu").append({"phase": "request"})
    assert stat.S_IMODE(audit_path.stat().st_mode) == 0o600


APPEND_MANY = """
import sys
from pathlib import Path
from tui.audit import AuditLog
log = AuditLog(Path(sys.argv[1]), host="canvas.example.edu")
for number in range(100):
    log.append({"writer": sys.argv[2], "number": number, "padding": sys.argv[2] * 20000})
"""


def test_two_processes_appending_never_interleave_lines(audit_path):
    # Lines of 20 kB: far more than one pipe or page buffer, so a torn write would show.
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", APPEND_MANY, str(audit_path), name],
            cwd=PROJECT_ROOT,
            stderr=subprocess.PIPE,
        )
        for name in ("a", "b")
    ]
    for writer in writers:
        _, stderr = writer.communicate(timeout=60)
        assert writer.returncode == 0, stderr
    lines = records(audit_path)  # every line parses: none was cut or mixed with another
    for name in ("a", "b"):
        assert [line["number"] for line in lines if line["writer"] == name] == list(range(100))


# ------------------------------------------------------------------------ moderate log


async def make_a_varied_trail(sandbox) -> None:
    """An ok select, a refused release, and a release of another assignment."""
    api = connect(sandbox)
    async with api.client:
        student = (await unselected_students(api, DEMO.essay_id))[0]
        await api.select_grade(DEMO.course_id, DEMO.essay_id, student.provisional_grades[0].id)
        with pytest.raises(UnselectedGradesError):
            await api.publish(DEMO.course_id, DEMO.essay_id)
        await api.publish(DEMO.course_id, DEMO.ready_id)


async def test_log_shows_one_line_per_change_newest_last(sandbox, audit_path, capsys):
    await make_a_varied_trail(sandbox)
    code, out, err = run_log(capsys)
    assert code == 0 and err == ""
    select, refused, released = out.splitlines()
    host = sandbox.url.removeprefix("http://")
    for line in (select, refused, released):
        assert host in line and f"course {DEMO.course_id}" in line
        assert f"user {DEMO.final_grader_id}" in line
    assert f"assignment {DEMO.essay_id}" in select and "select grade" in select
    assert "→ ok: student" in select and "now has grade" in select
    assert "release grades → error: UnselectedGradesError: " in refused
    assert str(UnselectedGradesError()) in refused
    assert f"assignment {DEMO.ready_id}" in released and "→ ok: grades released" in released


async def test_log_filters_by_assignment_and_limits_to_the_newest(sandbox, audit_path, capsys):
    await make_a_varied_trail(sandbox)
    _, essay_only, _ = run_log(capsys, "--assignment", str(DEMO.essay_id))
    assert len(essay_only.splitlines()) == 2
    assert all(f"assignment {DEMO.essay_id}" in line for line in essay_only.splitlines())
    _, newest, _ = run_log(capsys, "--limit", "1")
    (only,) = newest.splitlines()
    assert f"assignment {DEMO.ready_id}" in only and "grades released" in only
    _, none, _ = run_log(capsys, "--assignment", "999999")
    assert none.startswith("No changes recorded for assignment 999999")


async def test_log_json_prints_the_raw_lines(sandbox, audit_path, capsys):
    await make_a_varied_trail(sandbox)
    code, out, _ = run_log(capsys, "--json")
    assert code == 0
    assert out == audit_path.read_text("ascii")
    _, newest, _ = run_log(capsys, "--json", "--limit", "1")
    assert newest.splitlines() == audit_path.read_text("ascii").splitlines()[-2:]


def test_log_without_a_trail_says_so(audit_path, capsys):
    code, out, err = run_log(capsys)
    assert code == 0 and err == ""
    assert out == f"No changes recorded yet ({audit_path}).\n"


async def test_log_reports_and_skips_corrupt_lines(sandbox, audit_path, capsys):
    await make_a_varied_trail(sandbox)
    good = audit_path.read_text("ascii").splitlines()
    hostile = dict(json.loads(good[1]))
    hostile["error"] = {"class": "X", "message": "\x1b]52;c;cGF5bG9hZA==\x07\x1b[2J"}
    hostile["change_id"] = "hostile"
    torn = good[0][: len(good[0]) // 2]  # what a power cut mid-line could leave
    audit_path.write_text(
        "\n".join([torn, *good[:2], "[1, 2]", json.dumps(hostile), *good[2:], ""]), "utf-8"
    )

    code, out, err = run_log(capsys)
    assert code == 0 and "Traceback" not in err
    assert err.splitlines() == [
        f"moderate: line 1 of {audit_path} is not valid JSON; skipped.",
        f"moderate: line 4 of {audit_path} is not an audit record (not a JSON object); skipped.",
    ]
    lines = out.splitlines()
    assert len(lines) == 4  # the three changes and the hostile answer, shown safely
    assert "\x1b" not in out and "\x07" not in out
    assert "(its request line is missing)" in lines[1]


def test_log_on_an_unreadable_trail_fails_with_one_line(audit_path, capsys):
    audit_path.mkdir(parents=True)
    code, out, err = run_log(capsys)
    assert code == 1 and out == ""
    assert err.startswith(f"moderate: cannot read the audit log {audit_path}: ")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("argv", [["--limit", "0"], ["--limit", "x"], ["--assignment", "-3"]])
def test_log_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        run_log(capsys, *argv)
    assert exited.value.code == 2
