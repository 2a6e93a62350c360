"""`moderate log`: show the audit trail, one line per change, newest last.

Each change Moderate made is a request line and an answer line in the audit log (see
`tui.audit`); here they are paired back into one readable line. A request with no answer is the
trace of a crash or a lost connection: its outcome is unknown, and the line says to check
Canvas. `--json` prints the raw records instead, for scripts (`jq`).

The file is read, never trusted: a line that is not a record is reported on stderr and skipped,
and every value is made safe for the terminal before it is shown. Exit codes: 0 ok (an empty or
missing log included), 2 usage, 1 when the log can't be read, with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.audit import ACTIONS, default_audit_path
from tui.commands import positive_count
from tui.text import clip, safe_text

__all__ = ["add_arguments", "read_changes", "run"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

UNANSWERED = "no answer recorded (the outcome is unknown: check Canvas)"
ACTION_LABELS = {
    "select": "select",
    "bulk_select": "bulk select",
    "custom_grade": "custom grade",
    "add_to_moderation_set": "add to moderation set",
    "publish": "release grades",
}
# A bulk select of a whole course holds thousands of ids: the readable line names a few.
SHOWN_IDS = 8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the raw JSON lines")
    parser.add_argument(
        "--limit", type=positive_count, metavar="N", help="only the last N changes (default: all)"
    )
    parser.add_argument(
        "--assignment", type=positive_count, metavar="ID", help="only changes to this assignment"
    )


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class LoggedChange:
    """One change: its request line and its answer line, either of which may be missing."""

    change_id: str
    request: dict[str, Any] | None = None
    answer: dict[str, Any] | None = None
    records: list[dict[str, Any]] = field(default_factory=list)  # every line, for --json

    @property
    def first(self) -> dict[str, Any]:
        record = self.request or self.answer
        assert record is not None  # a change is only made from a record
        return record


@dataclass
class Trail:
    changes: list[LoggedChange]
    problems: list[str]  # one sentence per line that was skipped


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _problem_with(record: Any) -> str | None:
    """Why `record` is not an audit record this command can show, or None when it is."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if not isinstance(record.get("change_id"), str) or not record["change_id"]:
        return "no change_id"
    if record.get("phase") not in ("request", "answer"):
        return "no phase"
    if record.get("action") not in ACTIONS:
        return "an unknown action"
    if not isinstance(record.get("time"), str) or not isinstance(record.get("host"), str):
        return "no time or host"
    if not (_is_id(record.get("course_id")) and _is_id(record.get("assignment_id"))):
        return "no course or assignment id"
    if record.get("user_id") is not None and not _is_id(record["user_id"]):
        return "a malformed user id"
    for key in ("provisional_grade_ids", "student_ids", "anonymous_ids"):
        ids = record.get(key, [])
        if not isinstance(ids, list) or not all(_is_id(i) or isinstance(i, str) for i in ids):
            return f"a malformed {key}"
    if record["phase"] == "answer":
        if record.get("outcome") not in ("ok", "error", "unknown"):
            return "an answer with no outcome"
        if not isinstance(record.get("answer", {}), dict):
            return "a malformed answer"
        if not isinstance(record.get("error", {}), dict):
            return "a malformed error"
    return None


def read_changes(path: Path, lines: Iterable[str]) -> Trail:
    """Pair request and answer lines by change_id, in the order the changes began."""
    changes: dict[str, LoggedChange] = {}
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            problems.append(f"line {number} of {path} is not valid JSON; skipped.")
            continue
        problem = _problem_with(record)
        if problem is not None:
            problems.append(f"line {number} of {path} is not an audit record ({problem}); skipped.")
            continue
        change = changes.setdefault(record["change_id"], LoggedChange(record["change_id"]))
        # A second line for the same phase (never written by Moderate) is kept for --json only.
        if record["phase"] == "request" and change.request is None:
            change.request = record
        elif record["phase"] == "answer" and change.answer is None:
            change.answer = record
        change.records.append(record)
    return Trail(list(changes.values()), problems)


# ---------------------------------------------------------------------------------------------
# Showing


def _ids(values: list[Any], singular: str, plural: str) -> str:
    shown = ", ".join(safe_text(value) for value in values[:SHOWN_IDS])
    if len(values) > SHOWN_IDS:
        shown += f", … ({len(values)} in all)"
    return f"{singular if len(values) == 1 else plural} {shown}"


def _students(record: dict[str, Any]) -> str:
    parts = []
    if record.get("student_ids"):
        parts.append(_ids(record["student_ids"], "student", "students"))
    if record.get("anonymous_ids"):
        parts.append(_ids(record["anonymous_ids"], "anonymous student", "anonymous students"))
    return ", ".join(parts)


def _what(record: dict[str, Any]) -> str:
    """The action and what it was about, from the request (or the answer, which repeats it)."""
    parts = [ACTION_LABELS[record["action"]]]
    if isinstance(record.get("grade"), str):
        parts.append(f"{clip(safe_text(record['grade']), 40)!r} for")
    if record.get("provisional_grade_ids"):
        parts.append(_ids(record["provisional_grade_ids"], "grade", "grades"))
    students = _students(record)
    if students:
        parts.append(students)
    return " ".join(parts)


def _count(number: Any, singular: str, plural: str) -> str:
    return f"{safe_text(number)} {singular if number == 1 else plural}"


def _who(selection: Any) -> str:
    if not isinstance(selection, dict):
        return "?"
    if selection.get("student_id") is not None:
        return f"student {safe_text(selection['student_id'])}"
    return f"anonymous student {safe_text(selection.get('anonymous_id'))}"


def _ok(action: str, answer: dict[str, Any]) -> str:
    selections = answer.get("selections")
    selections = selections if isinstance(selections, list) else []
    if action == "select" and selections:
        first = selections[0] if isinstance(selections[0], dict) else {}
        grade = safe_text(first.get("provisional_grade_id"))
        return f"ok: {_who(first)} now has grade {grade}"
    if action == "bulk_select":
        changed = answer.get("changed", len(selections))
        return f"ok: {_count(changed, 'selection', 'selections')} changed"
    if action == "custom_grade":
        score = answer.get("score")
        score_text = "no score" if score is None else f"score {safe_text(score)}"
        return f"ok: final grade {safe_text(answer.get('provisional_grade_id'))} ({score_text})"
    if action == "add_to_moderation_set":
        members = answer.get("student_ids")
        count = len(members) if isinstance(members, list) else "?"
        return f"ok: Canvas confirms {_count(count, 'student', 'students')} in the moderation set"
    if action == "publish":
        return "ok: grades released"
    return "ok"


def _outcome(change: LoggedChange) -> str:
    answer = change.answer
    if answer is None:
        return UNANSWERED
    if answer["outcome"] == "ok":
        return _ok(answer["action"], answer.get("answer", {}))
    error = answer.get("error", {})
    name = safe_text(error.get("class") or "no error class recorded")
    message = clip(safe_text(error.get("message") or ""), 300)
    return f"{answer['outcome']}: {name}: {message}" if message else f"{answer['outcome']}: {name}"


def _time(text: str) -> str:
    # "2025-03-20T14:03:11.123Z" -> "2025-03-20 14:03:11Z": to the second is enough to read.
    text = safe_text(text)
    if len(text) >= 19 and text[10] == "T":
        return f"{text[:10]} {text[11:19]}Z"
    return text


def describe(change: LoggedChange) -> str:
    """One readable line for a change."""
    record = change.first
    user = record.get("user_id")
    parts = [
        _time(record["time"]),
        safe_text(record["host"]),
        f"course {record['course_id']} · assignment {record['assignment_id']}",
        f"user {user if user is not None else '?'}",
        _what(record),
    ]
    line = "  ".join(parts) + " → " + _outcome(change)
    if change.request is None:
        line += " (its request line is missing)"
    return line


# ---------------------------------------------------------------------------------------------
# The command


def _write_utf8(text: str) -> None:
    """UTF-8 whatever the terminal's locale, so an arrow or an accent survives a pipe."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a replaced stdout without bytes underneath
        sys.stdout.write(text)
    else:
        buffer.write(text.encode("utf-8"))
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    path = default_audit_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        _write_utf8(f"No changes recorded yet ({path}).\n")
        return EXIT_OK
    except OSError as error:
        reason = error.strerror or type(error).__name__
        print(f"moderate: cannot read the audit log {path}: {reason}.", file=sys.stderr)
        return EXIT_FAILURE
    # A byte that is not UTF-8 (a damaged disk block) becomes U+FFFD in its own line only.
    lines = data.decode("utf-8", errors="replace").splitlines()
    trail = read_changes(path, lines)
    for problem in trail.problems:
        print(f"moderate: {problem}", file=sys.stderr)

    changes = trail.changes
    assignment = getattr(args, "assignment", None)
    if assignment is not None:
        changes = [change for change in changes if change.first["assignment_id"] == assignment]
    limit = getattr(args, "limit", None)
    if limit is not None:
        changes = changes[-limit:]

    if getattr(args, "json", False):
        # Written back as Moderate writes them (compact ASCII JSON: the same bytes for its own
        # lines), so a hand-edited line can't smuggle raw escape sequences to the terminal.
        output = "".join(
            json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n"
            for change in changes
            for record in change.records
        )
    elif changes:
        output = "".join(describe(change) + "\n" for change in changes)
    else:
        which = f" for assignment {assignment}" if assignment is not None else ""
        output = f"No changes recorded{which} in {path}.\n"
    try:
        _write_utf8(output)
    except BrokenPipeError:
        # `moderate log | head`: the reader left; say nothing, and keep Python from
        # complaining again when it flushes stdout at exit.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_FAILURE
    return EXIT_OK
