"""Typed, frozen views of the Canvas JSON that Moderate reads.

Every `from_json` tolerates extra fields and string ids (`application/json+canvas-string-ids`),
and turns a missing or malformed required field into `ProtocolError` rather than a KeyError deep
inside a screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui.canvas.errors import ProtocolError

__all__ = [
    "Assignment",
    "Comment",
    "Course",
    "GradeStatus",
    "GradeableStudent",
    "ProvisionalGrade",
    "Selection",
    "User",
]

Json = Mapping[str, Any]


def _object(data: Any, what: str) -> Json:
    if not isinstance(data, Mapping):
        raise ProtocolError(f"expected a JSON object for {what}, got {type(data).__name__}")
    return data


def _id(data: Json, key: str, what: str) -> int:
    value = _optional_id(data, key, what)
    if value is None:
        raise ProtocolError(f"{what} has no {key}")
    return value


def _optional_id(data: Json, key: str, what: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    # Canvas sends ints, or strings when asked for string ids; bool is an int in Python: refuse it.
    if isinstance(value, bool):
        raise ProtocolError(f"{what} has a malformed {key}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ProtocolError(f"{what} has a malformed {key}")


def _str(data: Json, key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ProtocolError(f"{what} has no {key}")
    return value


def _optional_str(data: Json, key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _bool(data: Json, key: str, default: bool = False) -> bool:
    value = data.get(key)
    return default if value is None else bool(value)


def _optional_float(data: Json, key: str, what: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ProtocolError(f"{what} has a malformed {key}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ProtocolError(f"{what} has a malformed {key}") from None


def _optional_time(data: Json, key: str) -> datetime | None:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _list(data: Json, key: str, what: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProtocolError(f"{what} has a malformed {key}")
    return value


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    sortable_name: str | None = None
    short_name: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> User:
        data = _object(data, "a user")
        name = data.get("name") or data.get("display_name") or data.get("short_name")
        if not isinstance(name, str):
            raise ProtocolError("a user has no name")
        return cls(
            id=_id(data, "id", "a user"),
            name=name,
            sortable_name=_optional_str(data, "sortable_name"),
            short_name=_optional_str(data, "short_name"),
        )


@dataclass(frozen=True, slots=True)
class Course:
    id: int
    name: str
    course_code: str | None = None
    workflow_state: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Course:
        data = _object(data, "a course")
        return cls(
            id=_id(data, "id", "a course"),
            name=_str(data, "name", "a course"),
            course_code=_optional_str(data, "course_code"),
            workflow_state=_optional_str(data, "workflow_state"),
        )


@dataclass(frozen=True, slots=True)
class Assignment:
    id: int
    course_id: int
    name: str
    points_possible: float | None = None
    grading_type: str = "points"
    moderated_grading: bool = False
    grader_count: int = 0
    final_grader_id: int | None = None
    grader_names_visible_to_final_grader: bool = True
    graders_anonymous_to_graders: bool = False
    grader_comments_visible_to_graders: bool = True
    anonymous_grading: bool = False
    published: bool = True
    muted: bool | None = None
    html_url: str | None = None
    # Not in Canvas's REST JSON (reference §1.10): learnt from a publish or status answer.
    grades_published: bool | None = None

    @classmethod
    def from_json(cls, data: Any) -> Assignment:
        data = _object(data, "an assignment")
        grader_count = data.get("grader_count") or 0
        if not isinstance(grader_count, int) or isinstance(grader_count, bool):
            raise ProtocolError("an assignment has a malformed grader_count")
        return cls(
            id=_id(data, "id", "an assignment"),
            course_id=_id(data, "course_id", "an assignment"),
            name=_str(data, "name", "an assignment"),
            points_possible=_optional_float(data, "points_possible", "an assignment"),
            grading_type=_optional_str(data, "grading_type") or "points",
            moderated_grading=_bool(data, "moderated_grading"),
            grader_count=grader_count,
            final_grader_id=_optional_id(data, "final_grader_id", "an assignment"),
            grader_names_visible_to_final_grader=_bool(
                data, "grader_names_visible_to_final_grader", True
            ),
            graders_anonymous_to_graders=_bool(data, "graders_anonymous_to_graders"),
            grader_comments_visible_to_graders=_bool(
                data, "grader_comments_visible_to_graders", True
            ),
            anonymous_grading=_bool(data, "anonymous_grading"),
            published=_bool(data, "published", True),
            muted=data.get("muted") if isinstance(data.get("muted"), bool) else None,
            html_url=_optional_str(data, "html_url"),
            grades_published=(
                data["grades_published"] if isinstance(data.get("grades_published"), bool) else None
            ),
        )

    @property
    def moderation_refusal(self) -> str | None:
        """Why this assignment can't be moderated, or None when it can."""
        if not self.moderated_grading:
            return "not a moderated assignment"
        return None

    def is_final_grader(self, user_id: int | None) -> bool:
        return user_id is not None and self.final_grader_id == user_id


@dataclass(frozen=True, slots=True)
class Comment:
    author_name: str | None
    comment: str
    created_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Any) -> Comment:
        data = _object(data, "a comment")
        return cls(
            author_name=_optional_str(data, "author_name"),
            comment=_optional_str(data, "comment") or "",
            created_at=_optional_time(data, "created_at"),
        )


@dataclass(frozen=True, slots=True)
class ProvisionalGrade:
    id: int
    grade: str | None
    score: float | None
    final: bool = False
    # Exactly one of these two names the grader: scorer_id when names are visible to the
    # caller, anonymous_grader_id when Canvas hides them (reference §1.8).
    scorer_id: int | None = None
    anonymous_grader_id: str | None = None
    graded_at: datetime | None = None
    graded_anonymously: bool | None = None
    grade_matches_current_submission: bool = True
    speedgrader_url: str | None = None
    # Only the status endpoint sends these.
    scorer_name: str | None = None
    selected: bool | None = None
    comments: tuple[Comment, ...] = field(default=())

    @classmethod
    def from_json(cls, data: Any) -> ProvisionalGrade:
        data = _object(data, "a provisional grade")
        what = "a provisional grade"
        scorer_id = _optional_id(data, "scorer_id", what)
        anonymous_grader_id = _optional_str(data, "anonymous_grader_id")
        if scorer_id is None and anonymous_grader_id is None:
            raise ProtocolError("a provisional grade names no grader")
        return cls(
            id=_id(data, "provisional_grade_id", what),
            grade=_optional_str(data, "grade"),
            score=_optional_float(data, "score", what),
            final=_bool(data, "final"),
            scorer_id=scorer_id,
            anonymous_grader_id=anonymous_grader_id,
            graded_at=_optional_time(data, "graded_at"),
            graded_anonymously=(
                data["graded_anonymously"]
                if isinstance(data.get("graded_anonymously"), bool)
                else None
            ),
            grade_matches_current_submission=_bool(data, "grade_matches_current_submission", True),
            speedgrader_url=_optional_str(data, "speedgrader_url"),
            scorer_name=_optional_str(data, "scorer_name"),
            selected=data["selected"] if isinstance(data.get("selected"), bool) else None,
            comments=tuple(Comment.from_json(c) for c in _list(data, "submission_comments", what)),
        )

    @property
    def grader_key(self) -> str:
        """A stable key for the grader, whether Canvas names them or not."""
        if self.scorer_id is not None:
            return f"user:{self.scorer_id}"
        return f"anonymous:{self.anonymous_grader_id}"

    @property
    def has_grade(self) -> bool:
        """Comment-only provisional grades have no grade; Canvas's page drops them."""
        return self.grade is not None or self.score is not None


@dataclass(frozen=True, slots=True)
class GradeableStudent:
    """A row of `gradeable_students?include[]=provisional_grades`: named or anonymous."""

    display_name: str
    user_id: int | None = None
    # For anonymous students, the submission's anonymous id (the only handle Canvas gives).
    anonymous_id: str | None = None
    in_moderation_set: bool = False
    selected_provisional_grade_id: int | None = None
    provisional_grades: tuple[ProvisionalGrade, ...] = ()

    @classmethod
    def from_json(cls, data: Any, *, anonymous: bool | None = None) -> GradeableStudent:
        data = _object(data, "a student")
        what = "a student"
        user_id = _optional_id(data, "id", what)
        anonymous_id = _optional_str(data, "anonymous_id")
        if anonymous is True:
            user_id = None
        if user_id is None and anonymous_id is None:
            raise ProtocolError("a student has neither an id nor an anonymous_id")
        display_name = data.get("display_name") or data.get("name")
        if not isinstance(display_name, str) or not display_name:
            display_name = "Student" if user_id is None else f"User {user_id}"
        return cls(
            display_name=display_name,
            user_id=user_id,
            anonymous_id=anonymous_id,
            in_moderation_set=_bool(data, "in_moderation_set"),
            selected_provisional_grade_id=_optional_id(data, "selected_provisional_grade_id", what),
            provisional_grades=tuple(
                ProvisionalGrade.from_json(pg) for pg in _list(data, "provisional_grades", what)
            ),
        )

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @property
    def key(self) -> str:
        """A stable key for the student across reloads, named or anonymous."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return f"anonymous:{self.anonymous_id}"


@dataclass(frozen=True, slots=True)
class Selection:
    """One answer of select / bulk_select: which grade a student will receive."""

    assignment_id: int
    selected_provisional_grade_id: int
    student_id: int | None = None
    anonymous_id: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Selection:
        data = _object(data, "a selection")
        what = "a selection"
        student_id = _optional_id(data, "student_id", what)
        anonymous_id = _optional_str(data, "anonymous_id")
        if student_id is None and anonymous_id is None:
            raise ProtocolError("a selection names no student")
        return cls(
            assignment_id=_id(data, "assignment_id", what),
            selected_provisional_grade_id=_id(data, "selected_provisional_grade_id", what),
            student_id=student_id,
            anonymous_id=anonymous_id,
        )

    @property
    def student_key(self) -> str:
        if self.student_id is not None:
            return f"user:{self.student_id}"
        return f"anonymous:{self.anonymous_id}"


@dataclass(frozen=True, slots=True)
class GradeStatus:
    """provisional_grades/status: the details view's source (comments, scorer names)."""

    needs_provisional_grade: bool
    provisional_grades: tuple[ProvisionalGrade, ...] = ()
    final_provisional_grade: ProvisionalGrade | None = None

    @classmethod
    def from_json(cls, data: Any) -> GradeStatus:
        data = _object(data, "a grade status")
        final = data.get("final_provisional_grade")
        return cls(
            needs_provisional_grade=_bool(data, "needs_provisional_grade"),
            provisional_grades=tuple(
                ProvisionalGrade.from_json(pg)
                for pg in _list(data, "provisional_grades", "a grade status")
            ),
            final_provisional_grade=ProvisionalGrade.from_json(final) if final else None,
        )
