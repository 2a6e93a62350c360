"""The moderation rules Canvas keeps in its controllers and grading code: entering a grade
(provisional, final or direct), bulk selection, and which grade publishing gives each student
(reference §1.3, §1.6, §1.9). Pure functions over `SandboxState`; no HTTP here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tui.sandbox.grades import InvalidGrade, interpret
from tui.sandbox.state import (
    Assignment,
    ProvisionalGrade,
    SandboxState,
    Selection,
    Submission,
)

__all__ = [
    "GradeError",
    "MissingSelection",
    "bulk_select",
    "grade_directly",
    "grade_provisionally",
    "publish",
    "publish_plan",
]

MAX_GRADERS_REACHED = "The maximum number of graders has been reached for this assignment."
FINAL_WITHOUT_OTHERS = "Cannot give a final mark for a student with no other provisional grades"
# Canvas raises these two GradeErrors with an error code and no human message; the API
# renders `e.to_s`, which is not settled by the source read, so the code is the message.
INVALID_SCORE = "PROVISIONAL_GRADE_INVALID_SCORE"
MODIFY_SELECTED = "PROVISIONAL_GRADE_MODIFY_SELECTED"


class GradeError(Exception):
    """Assignment::GradeError: the submissions API answers 400 {"error": message}."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingSelection(Exception):
    """A grade's student has no selection row: Canvas dereferences nil and answers 500."""


def _score_and_grade(assignment: Assignment, posted_grade: str) -> tuple[float | None, str | None]:
    if posted_grade == "":
        return None, None  # an empty grade clears it
    try:
        return interpret(posted_grade, assignment.grading_type, assignment.points_possible)
    except InvalidGrade:
        raise GradeError(INVALID_SCORE) from None


def grade_provisionally(
    state: SandboxState,
    assignment: Assignment,
    submission: Submission,
    grader_id: int,
    posted_grade: str,
    *,
    final: bool,
) -> ProvisionalGrade:
    """Write `grader_id`'s provisional grade, or the submission's final ("custom") grade."""
    score, grade = _score_and_grade(assignment, posted_grade)
    now = state.clock()
    if final:
        if not any(not other.final for other in state.grades_of(submission)):
            raise GradeError(FINAL_WITHOUT_OTHERS)
    elif not state.can_be_moderated_grader(assignment, grader_id):
        raise GradeError(MAX_GRADERS_REACHED)

    existing = state.grade_of(submission, grader_id, final=final)
    if existing is None:
        return state.add_provisional_grade(
            submission, grader_id, score=score, grade=grade, graded_at=now, final=final
        )
    if state.selected_grade(submission) is existing and (
        existing.scorer_id != assignment.final_grader_id
    ):
        raise GradeError(MODIFY_SELECTED)
    state.ensure_moderation_grader(assignment, grader_id, occupy_slot=not final)
    existing.scorer_id = grader_id  # the final grade belongs to whoever last set it
    existing.score, existing.grade, existing.graded_at = score, grade, now
    submission.updated_at = max(submission.updated_at, now)
    return existing


def grade_directly(
    state: SandboxState,
    assignment: Assignment,
    submission: Submission,
    grader_id: int,
    posted_grade: str,
) -> None:
    """An ordinary grade, straight onto the submission (unmoderated or already published)."""
    try:
        score, grade = (
            (None, None)
            if posted_grade == ""
            else interpret(posted_grade, assignment.grading_type, assignment.points_possible)
        )
    except InvalidGrade:
        score, grade = None, None  # Canvas stores an unreadable grade as no grade
    now = state.clock()
    submission.score, submission.grade = score, grade
    submission.grader_id, submission.graded_at = grader_id, now
    submission.workflow_state = "graded" if score is not None else submission.workflow_state
    submission.updated_at = max(submission.updated_at, now)


@dataclass(frozen=True, slots=True)
class SelectionChange:
    selection: Selection
    submission: Submission


def bulk_select(
    state: SandboxState, assignment: Assignment, provisional_grade_ids: Iterable[int]
) -> list[SelectionChange]:
    """PUT provisional_grades/bulk_select: ids of other assignments (or none at all) are
    ignored, a later id for the same student wins, and only selections that actually change
    are saved and returned. All or nothing, like Canvas's transaction."""
    chosen: dict[int, ProvisionalGrade] = {}
    for grade_id in provisional_grade_ids:
        grade = state.provisional_grades.get(grade_id)
        if grade is None:
            continue
        submission = state.submissions[grade.submission_id]
        if submission.assignment_id == assignment.id:
            chosen[submission.user_id] = grade

    changes = []
    for student_id, grade in chosen.items():
        selection = state.selection_for(assignment.id, student_id)
        if selection is None:
            raise MissingSelection(student_id)
        if selection.selected_provisional_grade_id != grade.id:
            changes.append((selection, grade))
    now = state.clock()
    for _, grade in changes:
        state.select(grade, at=now)
    return [
        SelectionChange(selection, state.submissions[grade.submission_id])
        for selection, grade in changes
    ]


def publish_plan(
    state: SandboxState, assignment: Assignment
) -> list[tuple[Submission, ProvisionalGrade]] | None:
    """The grade each student would receive, or None when one cannot be decided (422).

    For every active student with any provisional grade: the selected one; else the only one
    that was graded; else the first comment-only one. Several graded and none selected
    decides nothing. Students without provisional grades are skipped."""
    plan = []
    for submission in state.assignment_submissions(assignment.id):
        grades = state.grades_of(submission)
        if not grades or not state.is_active_student(assignment.course_id, submission.user_id):
            continue
        chosen = state.selected_grade(submission)
        if chosen is None:
            graded = [grade for grade in grades if grade.graded_at is not None]
            comment_only = [grade for grade in grades if grade.graded_at is None]
            if len(graded) == 1:
                chosen = graded[0]
            elif comment_only:
                chosen = comment_only[0]
            else:
                return None
        plan.append((submission, chosen))
    return plan


def publish(state: SandboxState, assignment: Assignment, *, now: datetime) -> bool:
    """Copy each chosen grade to its submission and mark the assignment published.
    False (and nothing changed) when some student's grade cannot be decided."""
    plan = publish_plan(state, assignment)
    if plan is None:
        return False
    for submission, grade in plan:
        submission.score, submission.grade = grade.score, grade.grade
        submission.grader_id = grade.scorer_id
        submission.graded_anonymously = grade.graded_anonymously
        submission.graded_at = now
        if grade.score is not None:
            submission.workflow_state = "graded"
        submission.updated_at = now
    assignment.grades_published_at = now
    return True
