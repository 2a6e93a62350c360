"""Canvas's moderated-grading endpoints as typed async methods.

Each method builds one Canvas call (reference sections noted), parses the answer into
`tui.canvas.models`, and lets `tui.canvas.errors` through. Screens call these and nothing lower.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tui.canvas.client import CanvasClient
from tui.canvas.errors import (
    AlreadyPublishedError,
    CanvasError,
    NetworkError,
    ProtocolError,
    ServerError,
)
from tui.canvas.models import (
    Assignment,
    Course,
    GradeableStudent,
    GradeStatus,
    ProvisionalGrade,
    Selection,
    User,
)

__all__ = ["ModerationAPI", "StudentPage"]

logger = logging.getLogger("tui.canvas")

# The status endpoint only adds provisional grades (with comments) when `last_updated_at` does
# not match the submission's updated_at (reference §1.4 step 7): a date that never matches.
NEVER_UPDATED = "1970-01-01T00:00:00Z"

GRADEABLE_STUDENT_PARAMS = (
    ("include[]", "provisional_grades"),
    # Without it Canvas shows names even on anonymous assignments (legacy mobile behaviour,
    # §1.8); with it anonymity applies exactly as on Canvas's own page.
    ("allow_new_anonymous_id", "true"),
)


@dataclass(frozen=True, slots=True)
class StudentPage:
    """One page of the grid's students, in Canvas's order, as soon as it arrives."""

    students: list[GradeableStudent]
    loaded: int  # students handed out so far, this page included
    expected_total: int | None  # an upper bound from the page count; None when Canvas gave none


def _segment(value: int | str) -> str:
    """An id as one URL path segment (anonymous ids are strings: never let one add a `/`)."""
    return quote(str(value), safe="")


def _parse_list(data: Any, parse, what: str, path: str, method: str) -> list:
    if not isinstance(data, list):
        raise ProtocolError(f"expected a list of {what}", method=method, path=path)
    return [_with_request(parse, item, method, path) for item in data]


def _with_request(parse, data: Any, method: str, path: str):
    """Parse, and give a ProtocolError the request it came from (models don't know it)."""
    try:
        return parse(data)
    except ProtocolError as exc:
        if exc.path is None:
            raise ProtocolError(exc.canvas_message, method=method, path=path) from None
        raise


class ModerationAPI:
    """The moderation endpoints of one Canvas, for one user (the client's token)."""

    def __init__(self, client: CanvasClient) -> None:
        self.client = client

    # -- paths ------------------------------------------------------------------------------

    @staticmethod
    def _assignment_path(course_id: int, assignment_id: int) -> str:
        return f"courses/{_segment(course_id)}/assignments/{_segment(assignment_id)}"

    def _full_path(self, path: str) -> str:
        return self.client.path_of(path)

    async def _get_all(self, path: str, params: Sequence[tuple[str, Any]] = ()) -> list[dict]:
        items: list[dict] = []
        async with aclosing(self.client.get_paginated(path, params)) as pages:
            async for page in pages:
                items.extend(page.items)
        return items

    # -- who and where ----------------------------------------------------------------------

    async def current_user(self) -> User:
        data = await self.client.get("users/self")
        return _with_request(User.from_json, data, "GET", self._full_path("users/self"))

    async def list_courses(self) -> list[Course]:
        """Courses where the user teaches or assists, teacher courses first, each once."""
        by_role = await asyncio.gather(
            self._get_all("courses", [("enrollment_type", "teacher")]),
            self._get_all("courses", [("enrollment_type", "ta")]),
        )
        courses: dict[int, Course] = {}
        for items in by_role:
            for item in items:
                course = _with_request(Course.from_json, item, "GET", self._full_path("courses"))
                courses.setdefault(course.id, course)
        return list(courses.values())

    async def list_assignments(self, course_id: int) -> list[Assignment]:
        path = f"courses/{_segment(course_id)}/assignments"
        items = await self._get_all(path)
        return _parse_list(items, Assignment.from_json, "assignments", self._full_path(path), "GET")

    async def get_assignment(self, course_id: int, assignment_id: int) -> Assignment:
        path = self._assignment_path(course_id, assignment_id)
        data = await self.client.get(path)
        return _with_request(Assignment.from_json, data, "GET", self._full_path(path))

    async def list_graders(self, course_id: int) -> list[User]:
        """The course's teachers and TAs: the names behind scorer_id (there is no grader API)."""
        path = f"courses/{_segment(course_id)}/users"
        items = await self._get_all(
            path, [("enrollment_type[]", "teacher"), ("enrollment_type[]", "ta")]
        )
        return _parse_list(items, User.from_json, "users", self._full_path(path), "GET")

    async def any_student_id(self, course_id: int) -> int | None:
        """One student of the course, or None: some questions Canvas answers only per student
        (whether an assignment's grades were released, §1.4)."""
        path = f"courses/{_segment(course_id)}/users"
        data = await self.client.get(path, [("enrollment_type[]", "student"), ("per_page", 1)])
        users = _parse_list(data, User.from_json, "users", self._full_path(path), "GET")
        return users[0].id if users else None

    # -- the moderation set (§1.1, §1.2) ----------------------------------------------------

    async def list_moderated_students(self, course_id: int, assignment_id: int) -> list[User]:
        path = f"{self._assignment_path(course_id, assignment_id)}/moderated_students"
        items = await self._get_all(path)
        return _parse_list(items, User.from_json, "users", self._full_path(path), "GET")

    async def add_moderated_students(
        self, course_id: int, assignment_id: int, student_ids: Iterable[int]
    ) -> list[User]:
        ids = list(student_ids)
        if not ids:
            # Canvas answers 400 `[]` to an empty list (§1.2): there is nothing to ask.
            return []
        path = f"{self._assignment_path(course_id, assignment_id)}/moderated_students"
        # Safe to repeat: Canvas only adds students not yet selected and answers with all the
        # requested ones either way (§1.2), so a retry after a lost answer changes nothing.
        data = await self.client.post(path, json={"student_ids": ids}, idempotent=True)
        return _parse_list(data, User.from_json, "users", self._full_path(path), "POST")

    # -- the grid (§1.8) --------------------------------------------------------------------

    async def iter_gradeable_students(
        self, course_id: int, assignment_id: int
    ) -> AsyncIterator[StudentPage]:
        """The grid's rows page by page, in Canvas's order, each student once."""
        path = f"{self._assignment_path(course_id, assignment_id)}/gradeable_students"
        loaded = 0
        async with aclosing(self.client.get_paginated(path, GRADEABLE_STUDENT_PARAMS)) as pages:
            async for page in pages:
                students = [
                    _with_request(GradeableStudent.from_json, item, "GET", self._full_path(path))
                    for item in page.items
                ]
                loaded += len(students)
                expected = None
                if page.total_pages is not None:
                    expected = max(loaded, page.total_pages * self.client.per_page)
                yield StudentPage(students, loaded, expected)

    async def gradeable_students(
        self, course_id: int, assignment_id: int
    ) -> list[GradeableStudent]:
        students: list[GradeableStudent] = []
        async with aclosing(self.iter_gradeable_students(course_id, assignment_id)) as pages:
            async for page in pages:
                students.extend(page.students)
        return students

    # -- one student's details (§1.4, §1.7) -------------------------------------------------

    def _status_request(
        self, course_id: int, assignment_id: int, student: GradeableStudent | int
    ) -> tuple[str, list[tuple[str, Any]]]:
        base = self._assignment_path(course_id, assignment_id)
        if isinstance(student, int):
            return f"{base}/provisional_grades/status", [("student_id", student)]
        if student.is_anonymous:
            return (
                f"{base}/anonymous_provisional_grades/status",
                [("anonymous_id", student.anonymous_id)],
            )
        return f"{base}/provisional_grades/status", [("student_id", student.user_id)]

    async def grade_status(
        self, course_id: int, assignment_id: int, student: GradeableStudent
    ) -> GradeStatus:
        """Every provisional grade of one student with comments and, if visible, grader names."""
        path, params = self._status_request(course_id, assignment_id, student)
        data = await self.client.get(path, [*params, ("last_updated_at", NEVER_UPDATED)])
        return _with_request(GradeStatus.from_json, data, "GET", self._full_path(path))

    async def grades_published(
        self, course_id: int, assignment_id: int, probe_student: GradeableStudent | int
    ) -> bool:
        """Whether the grades were released, asked via any one student of the assignment.

        The REST assignment JSON has no published flag (§1.10); the status endpoint answers
        400 "already been published" once they are (§1.4 step 6). Without `last_updated_at` the
        answer is the small `needs_provisional_grade` object.
        """
        path, params = self._status_request(course_id, assignment_id, probe_student)
        try:
            await self.client.get(path, params)
        except AlreadyPublishedError:
            return True
        return False

    # -- choosing (§1.5, §1.3, §1.9) --------------------------------------------------------

    async def select_grade(
        self, course_id: int, assignment_id: int, provisional_grade_id: int
    ) -> Selection:
        base = self._assignment_path(course_id, assignment_id)
        path = f"{base}/provisional_grades/{_segment(provisional_grade_id)}/select"
        data = await self.client.put(path)
        return _with_request(Selection.from_json, data, "PUT", self._full_path(path))

    async def bulk_select(
        self, course_id: int, assignment_id: int, provisional_grade_ids: Iterable[int]
    ) -> list[Selection]:
        """Select many grades in one transaction; Canvas returns only the selections it changed."""
        ids = list(provisional_grade_ids)
        if not ids:
            return []
        path = f"{self._assignment_path(course_id, assignment_id)}/provisional_grades/bulk_select"
        data = await self.client.put(path, json={"provisional_grade_ids": ids})
        return _parse_list(data, Selection.from_json, "selections", self._full_path(path), "PUT")

    async def set_custom_grade(
        self, course_id: int, assignment_id: int, student: GradeableStudent, grade: str
    ) -> ProvisionalGrade:
        """The final grader's own ("Custom") grade for a student: the final provisional grade.

        Uses the public submissions API with provisional and final (§1.9a), then reads the
        student's status, because the submissions answer names the grade's id but not its
        fields.
        """
        base = self._assignment_path(course_id, assignment_id)
        if student.is_anonymous:
            path = f"{base}/anonymous_submissions/{_segment(student.anonymous_id or '')}"
        else:
            path = f"{base}/submissions/{_segment(student.user_id or 0)}"
        body = {"submission": {"posted_grade": grade, "provisional": True, "final": True}}
        # Setting the same final grade twice leaves the same single final grade: safe to retry.
        data = await self.client.put(path, json=body)
        pg_id = _provisional_grade_id(data, self._full_path(path))
        status = await self.grade_status(course_id, assignment_id, student)
        candidates = [status.final_provisional_grade, *status.provisional_grades]
        for candidate in candidates:
            if candidate is not None and candidate.id == pg_id:
                return candidate
        raise ProtocolError(
            f"the grade Canvas saved ({pg_id}) is missing from the student's status",
            method="PUT",
            path=self._full_path(path),
        )

    # -- releasing (§1.6) -------------------------------------------------------------------

    async def publish(self, course_id: int, assignment_id: int) -> None:
        """Release the selected grades to the gradebook. Sent once, whatever happens.

        If the answer is lost (the connection dropped, a gateway timed out), the grades may or
        may not have been released. Sending the POST again would be a release request the
        grader did not make a second time, so the outcome is settled by reading instead: the
        status endpoint answers "already been published" once they are (§1.4). Success if
        they were; otherwise the original error, saying they were not released.
        """
        base = self._assignment_path(course_id, assignment_id)
        path = f"{base}/provisional_grades/publish"
        try:
            await self.client.post(path)
        except (NetworkError, ServerError) as failure:
            released = await self._settle_publish(course_id, assignment_id, failure)
            if released:
                logger.info("publish answer lost; Canvas confirms the grades were released")
                return
            raise type(failure)(
                _not_released_message(failure),
                method=failure.method,
                path=failure.path,
                status=failure.status,
            ) from None

    async def _settle_publish(
        self, course_id: int, assignment_id: int, failure: CanvasError
    ) -> bool:
        """Ask Canvas whether the grades are now released. Raises if even that can't be told."""
        path = f"{self._assignment_path(course_id, assignment_id)}/gradeable_students"
        try:
            rows = await self.client.get(
                path, [("allow_new_anonymous_id", "true"), ("per_page", 1)]
            )
            if not isinstance(rows, list) or not rows:
                raise ProtocolError("there is no student to ask about")
            probe = GradeableStudent.from_json(rows[0])
            return await self.grades_published(course_id, assignment_id, probe)
        except CanvasError as exc:
            raise NetworkError(
                "the release may or may not have happened and Canvas could not be asked "
                f"({exc.canvas_message or type(exc).__name__}); reload before releasing again",
                method=failure.method,
                path=failure.path,
                status=failure.status,
            ) from None


def _provisional_grade_id(data: Any, path: str) -> int:
    value = data.get("provisional_grade_id") if isinstance(data, dict) else None
    if isinstance(value, bool) or value is None:
        raise ProtocolError("the answer has no provisional_grade_id", method="PUT", path=path)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ProtocolError(
            "the answer has a malformed provisional_grade_id", method="PUT", path=path
        ) from None


def _not_released_message(failure: CanvasError) -> str:
    cause = failure.canvas_message or type(failure).__name__
    return f"{cause}. Canvas confirms the grades were NOT released; it is safe to try again"
