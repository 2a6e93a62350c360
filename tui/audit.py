"""The audit trail: every change Moderate asks Canvas to make, before it is sent and once answered.

Grades are high stakes and a release can't be undone, so whoever asks "who changed this, and
when?" must get an answer from Moderate's side too. Each change writes two JSON lines to
`audit.jsonl` under the state dir: a `"phase": "request"` line before the request leaves, and a
`"phase": "answer"` line with what Canvas answered. Both carry the same `change_id`, so a request
with no answer (Moderate crashed, the machine lost power) shows up as exactly that.

What a line holds, and what it never holds:

- time (UTC), Canvas host, course id, assignment id, the acting user's id, the action, the ids
  involved (provisional grade ids; student ids, or the anonymous id for anonymous students);
- never the token (this module never sees it), never a query string, never a name: people are
  ids only, so an anonymous assignment's trail can't unmask a student.

No Textual here: the CLI reads the trail with `moderate log` without starting the TUI.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui.canvas.client import CanvasClient
from tui.canvas.errors import CanvasError
from tui.canvas.models import GradeableStudent, ProvisionalGrade, Selection, User
from tui.canvas.moderation import ModerationAPI

try:  # POSIX: lets two processes on a network filesystem take turns (see AuditLog.append)
    import fcntl
except ImportError:  # Windows: O_APPEND alone keeps appends whole on a local disk
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "ACTIONS",
    "AUDIT_FILE_NAME",
    "AuditError",
    "AuditLog",
    "AuditedModerationAPI",
    "Change",
    "audited",
    "default_audit_path",
]

logger = logging.getLogger("tui.audit")

AUDIT_FILE_NAME = "audit.jsonl"
ACTIONS = ("select", "bulk_select", "custom_grade", "add_to_moderation_set", "publish")

# Not every platform has these flags; 0 leaves the open() call unchanged where they are missing.
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows would otherwise turn "\n" into "\r\n"
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)  # a child process (a browser, a pager) gets no handle


class AuditError(Exception):
    """The audit log could not be written. `str()` is one sentence a grader can act on."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


def default_audit_path() -> Path:
    """`audit.jsonl` in the state dir (`MODERATE_STATE_DIR` overrides it, as tests do)."""
    from tui.config import state_dir  # config imports the HTTP client: only pay for it here

    return state_dir() / AUDIT_FILE_NAME


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _reason(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


@dataclass(frozen=True, slots=True)
class Change:
    """One change in flight: what its request line said, so the answer line can repeat it."""

    change_id: str
    action: str
    course_id: int
    assignment_id: int
    user_id: int | None
    # provisional_grade_ids / student_ids / anonymous_ids / grade: only the ones that apply.
    ids: Mapping[str, Any]


class AuditLog:
    """An append-only JSON Lines file of the changes made on one Canvas host."""

    def __init__(self, path: Path, *, host: str) -> None:
        self.path = Path(path)
        self.host = host

    @classmethod
    def default(cls, *, host: str) -> AuditLog:
        return cls(default_audit_path(), host=host)

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r}, host={self.host!r})"

    # -- the two lines of a change ----------------------------------------------------------

    def begin(
        self,
        action: str,
        *,
        course_id: int,
        assignment_id: int,
        user_id: int | None,
        **ids: Any,
    ) -> Change:
        """Write the request line of a change. Raises AuditError: then the change must not be
        sent, because nothing would show it was ever asked for."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        change = Change(
            change_id=uuid.uuid4().hex,
            action=action,
            course_id=course_id,
            assignment_id=assignment_id,
            user_id=user_id,
            ids={key: value for key, value in ids.items() if value is not None},
        )
        try:
            self.append(self._record(change, "request"))
        except OSError as error:
            raise AuditError(
                f"Moderate could not write its audit log at {self.path}: {_reason(error)}; "
                "no change was sent.",
                path=self.path,
            ) from error
        return change

    def succeeded(self, change: Change, answer: Mapping[str, Any]) -> None:
        """Write the answer line of a change Canvas made. `answer` is a summary: ids and counts."""
        self._finish(change, {"outcome": "ok", "answer": dict(answer)})

    def failed(self, change: Change, error: BaseException) -> None:
        """Write the answer line of a change that failed, or whose outcome Moderate can't know."""
        if isinstance(error, CanvasError):
            # The sentence never holds the token or a query string (see tui.canvas.errors).
            details: dict[str, Any] = {"class": type(error).__name__, "message": error.sentence}
            if error.status is not None:
                details["status"] = error.status
            self._finish(change, {"outcome": "error", "error": details})
            return
        # Not Canvas's answer (cancelled, interrupted, a bug): the request may have reached
        # Canvas, so the outcome is unknown. The exception's text is not copied: it is not
        # written for this file and could hold anything.
        details = {
            "class": type(error).__name__,
            "message": "Moderate stopped before Canvas answered; check Canvas for the outcome.",
        }
        self._finish(change, {"outcome": "unknown", "error": details})

    def _finish(self, change: Change, outcome: dict[str, Any]) -> None:
        # By now the request was sent. Raising here would report a change Canvas may have made
        # as refused; the missing answer line already says "outcome unknown", so say it in the
        # log and carry on (the next change's request line will meet the same problem and be
        # refused loudly).
        try:
            self.append({**self._record(change, "answer"), **outcome})
        except OSError as error:
            logger.warning(
                "Moderate could not record Canvas's answer to change %s in its audit log at %s: %s",
                change.change_id,
                self.path,
                _reason(error),
            )

    def _record(self, change: Change, phase: str) -> dict[str, Any]:
        return {
            "time": _now(),
            "phase": phase,
            "change_id": change.change_id,
            "host": self.host,
            "course_id": change.course_id,
            "assignment_id": change.assignment_id,
            "user_id": change.user_id,
            "action": change.action,
            **change.ids,
        }

    # -- the file ---------------------------------------------------------------------------

    def append(self, record: Mapping[str, Any]) -> None:
        """Append one record as one line, on disk when this returns. Raises OSError.

        One os.write() of the whole line on an O_APPEND descriptor: the kernel puts it at the end
        of the file in one piece, so two Moderates appending at once never interleave their
        lines, and there is no userspace buffer to flush. The flock covers network filesystems,
        where O_APPEND alone is not atomic. fsync before returning: the request line must
        survive a crash that happens while the request is in flight.
        """
        # ASCII JSON: no raw newline or control character can get into a line and split it.
        text = json.dumps(record, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        line = (text + "\n").encode("ascii")
        _ensure_private_dir(self.path.parent)
        created = not self.path.exists()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_BINARY | _O_CLOEXEC
        descriptor = os.open(self.path, flags, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(descriptor, fcntl.LOCK_EX)  # released by close()
            _make_private(descriptor)
            written = os.write(descriptor, line)
            if written != len(line):
                # A short write only happens when the disk is full: say so, like ENOSPC would.
                raise OSError(errno.ENOSPC, "No space left on device (the record was cut short)")
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if created:
            _sync_directory(self.path.parent)


def _ensure_private_dir(directory: Path) -> None:
    """Create the state dir as 0700. An existing dir is left as its owner set it."""
    if directory.is_dir():
        return
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)  # mkdir's mode is filtered by the umask; chmod is exact


def _make_private(descriptor: int) -> None:
    """0600 even for a file that was created looser (by hand, or by an older version)."""
    if not hasattr(os, "fchmod"):  # Windows: permissions work differently there
        return
    if os.fstat(descriptor).st_mode & 0o077:
        os.fchmod(descriptor, 0o600)


def _sync_directory(directory: Path) -> None:
    """Make a new file's name durable too: without it a crash can lose the whole new file."""
    with contextlib.suppress(OSError):  # not possible on every platform; the data is synced
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


# ---------------------------------------------------------------------------------------------
# What goes into the lines: ids and numbers only, never a name


def _student_ids(student: GradeableStudent) -> dict[str, list[Any]]:
    # Anonymous students are known by their anonymous id alone: that is all Canvas shows.
    if student.is_anonymous:
        return {"anonymous_ids": [student.anonymous_id]}
    return {"student_ids": [student.user_id]}


def _selection_summary(selection: Selection) -> dict[str, Any]:
    who: dict[str, Any] = (
        {"student_id": selection.student_id}
        if selection.student_id is not None
        else {"anonymous_id": selection.anonymous_id}
    )
    return {**who, "provisional_grade_id": selection.selected_provisional_grade_id}


def _grade_summary(grade: ProvisionalGrade) -> dict[str, Any]:
    # Not scorer_name or scorer_id: the grader's identity may be hidden from the final grader.
    # A non-finite score would make the line invalid JSON for every tool but Python's.
    score = grade.score if grade.score is not None and math.isfinite(grade.score) else None
    return {
        "provisional_grade_id": grade.id,
        "score": score,
        "grade": grade.grade,
        "final": grade.final,
    }


# ---------------------------------------------------------------------------------------------
# The audited API


class AuditedModerationAPI:
    """A ModerationAPI whose every change is written to the audit log before and after.

    The five methods that change something in Canvas write a request line, send, and write an
    answer line. If the request line can't be written they raise AuditError and send nothing.
    Every other attribute (the reads, `.client`) is the wrapped API's own.

    The file writes are synchronous on purpose, on the event loop. A change is one key press
    and costs two fsyncs (milliseconds) next to a network round trip; in a thread, a task
    cancelled while the request line was being written could leave the line on disk for a
    request never sent, and the strict order "request line on disk, then request" would depend
    on thread scheduling.
    """

    def __init__(self, api: ModerationAPI, log: AuditLog, *, user_id: int | None = None) -> None:
        self.wrapped = api
        self.audit_log = log
        # The acting user. The app always asks who it is right after connecting (and that
        # passes through here), so the id is normally known for free; if not, the first change
        # asks Canvas before sending anything.
        self.user_id = user_id

    @property
    def client(self) -> CanvasClient:
        return self.wrapped.client

    def __getattr__(self, name: str) -> Any:
        # Only called for names this class doesn't define: the reads go straight through.
        return getattr(self.wrapped, name)

    def __repr__(self) -> str:
        return f"AuditedModerationAPI({self.wrapped!r}, {self.audit_log!r})"

    async def current_user(self) -> User:
        user = await self.wrapped.current_user()
        self.user_id = user.id  # Canvas says who the token belongs to: that is who acts
        return user

    async def _acting_user_id(self) -> int:
        if self.user_id is None:
            await self.current_user()
        assert self.user_id is not None
        return self.user_id

    async def _begin(self, action: str, course_id: int, assignment_id: int, **ids: Any) -> Change:
        user_id = await self._acting_user_id()
        return self.audit_log.begin(
            action, course_id=course_id, assignment_id=assignment_id, user_id=user_id, **ids
        )

    # -- the five changes -------------------------------------------------------------------

    async def select_grade(
        self, course_id: int, assignment_id: int, provisional_grade_id: int
    ) -> Selection:
        change = await self._begin(
            "select", course_id, assignment_id, provisional_grade_ids=[provisional_grade_id]
        )
        try:
            selection = await self.wrapped.select_grade(
                course_id, assignment_id, provisional_grade_id
            )
        except BaseException as error:
            self.audit_log.failed(change, error)
            raise
        self.audit_log.succeeded(change, {"selections": [_selection_summary(selection)]})
        return selection

    async def bulk_select(
        self, course_id: int, assignment_id: int, provisional_grade_ids: Iterable[int]
    ) -> list[Selection]:
        ids = list(provisional_grade_ids)  # an iterator could only be read once
        if not ids:
            return await self.wrapped.bulk_select(course_id, assignment_id, ids)  # sends nothing
        change = await self._begin(
            "bulk_select", course_id, assignment_id, provisional_grade_ids=ids
        )
        try:
            selections = await self.wrapped.bulk_select(course_id, assignment_id, ids)
        except BaseException as error:
            self.audit_log.failed(change, error)
            raise
        # Canvas answers with only the selections it changed: their number is the news.
        self.audit_log.succeeded(
            change,
            {
                "changed": len(selections),
                "selections": [_selection_summary(selection) for selection in selections],
            },
        )
        return selections

    async def set_custom_grade(
        self, course_id: int, assignment_id: int, student: GradeableStudent, grade: str
    ) -> ProvisionalGrade:
        change = await self._begin(
            "custom_grade", course_id, assignment_id, **_student_ids(student), grade=grade
        )
        try:
            final_grade = await self.wrapped.set_custom_grade(
                course_id, assignment_id, student, grade
            )
        except BaseException as error:
            self.audit_log.failed(change, error)
            raise
        self.audit_log.succeeded(change, _grade_summary(final_grade))
        return final_grade

    async def add_moderated_students(
        self, course_id: int, assignment_id: int, student_ids: Iterable[int]
    ) -> list[User]:
        ids = list(student_ids)
        if not ids:
            return await self.wrapped.add_moderated_students(course_id, assignment_id, ids)
        change = await self._begin(
            "add_to_moderation_set", course_id, assignment_id, student_ids=ids
        )
        try:
            members = await self.wrapped.add_moderated_students(course_id, assignment_id, ids)
        except BaseException as error:
            self.audit_log.failed(change, error)
            raise
        # Canvas answers with the users, names included: keep their ids only.
        self.audit_log.succeeded(change, {"student_ids": [member.id for member in members]})
        return members

    async def publish(self, course_id: int, assignment_id: int) -> None:
        change = await self._begin("publish", course_id, assignment_id)
        try:
            await self.wrapped.publish(course_id, assignment_id)
        except BaseException as error:
            self.audit_log.failed(change, error)
            raise
        # publish() returns only once Canvas confirms the release (even after a lost answer).
        self.audit_log.succeeded(change, {"released": True})


def audited(api: ModerationAPI, *, path: Path | None = None) -> AuditedModerationAPI:
    """`api` with an audit trail in the default log (or `path`), for its client's Canvas host.

    The host includes a non-default port, so two Canvases on one machine stay apart.
    """
    from tui.config import canvas_host

    host = canvas_host(api.client.base_url)
    log = AuditLog(path, host=host) if path is not None else AuditLog.default(host=host)
    return AuditedModerationAPI(api, log)
