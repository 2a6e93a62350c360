"""Canvas's JSON for each record (lib/api/v1/*.rb): the same keys, types and nulls.

Presenters only shape data; who may see what (names, grader identities) is decided by the
caller and passed in as plain flags.
"""

from __future__ import annotations

import hashlib
from typing import Any

from tui.sandbox.state import (
    Assignment,
    Course,
    Enrollment,
    ProvisionalComment,
    ProvisionalGrade,
    SandboxState,
    Selection,
    Submission,
    User,
    iso8601,
)

__all__ = [
    "anonymous_user_display_json",
    "assignment_json",
    "course_json",
    "provisional_comment_json",
    "provisional_grade_json",
    "selection_json",
    "self_json",
    "submission_json",
    "user_display_json",
    "user_json",
]

ENROLLMENT_ROLES = {
    "student": ("StudentEnrollment", 3),
    "teacher": ("TeacherEnrollment", 4),
    "ta": ("TaEnrollment", 5),
    "designer": ("DesignerEnrollment", 6),
    "observer": ("ObserverEnrollment", 7),
}
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, index = divmod(number, 36)
        digits = _BASE36[index] + digits
        if number == 0:
            return digits


def _uuid(kind: str, record_id: int) -> str:
    return hashlib.sha1(f"{kind}/{record_id}".encode()).hexdigest()[:40]


def default_avatar(base_url: str) -> str:
    return f"{base_url}/images/messages/avatar-50.png"


# --- people -------------------------------------------------------------------------------


def user_json(user: User) -> dict[str, Any]:
    json: dict[str, Any] = {
        "id": user.id,
        "name": user.name,
        "created_at": iso8601(user.created_at),
        "sortable_name": user.sortable_name,
        "short_name": user.short_name,
    }
    if user.pronouns:
        json["pronouns"] = user.pronouns
    return json


def self_json(user: User, base_url: str) -> dict[str, Any]:
    """GET users/self: user_json plus what a user may see about themselves."""
    return {
        **user_json(user),
        "avatar_url": default_avatar(base_url),
        "locale": None,
        "effective_locale": "en",
        "permissions": {"can_update_name": True, "can_update_avatar": False},
    }


def user_display_json(user: User, course_id: int, base_url: str) -> dict[str, Any]:
    return {
        "id": user.id,
        # Not the submission's anonymous id: the user id in base 36 (lib/api/v1/user.rb).
        "anonymous_id": _base36(user.id),
        "display_name": user.short_name,
        "avatar_image_url": default_avatar(base_url),
        "html_url": f"{base_url}/courses/{course_id}/users/{user.id}",
        "pronouns": user.pronouns,
    }


def anonymous_user_display_json(anonymous_id: str, number: int, base_url: str) -> dict[str, Any]:
    return {
        "anonymous_id": anonymous_id,
        "avatar_image_url": default_avatar(base_url),
        "display_name": f"Student {number}",
    }


# --- courses and assignments --------------------------------------------------------------


def enrollment_json(enrollment: Enrollment) -> dict[str, Any]:
    role, role_id = ENROLLMENT_ROLES[enrollment.type]
    return {
        "type": enrollment.type,
        "role": role,
        "role_id": role_id,
        "user_id": enrollment.user_id,
        "enrollment_state": enrollment.workflow_state,
        "limit_privileges_to_course_section": False,
    }


def course_json(course: Course, enrollments: list[Enrollment], base_url: str) -> dict[str, Any]:
    uuid = _uuid("course", course.id)
    return {
        "id": course.id,
        "name": course.name,
        "account_id": course.account_id,
        "uuid": uuid,
        "start_at": iso8601(course.start_at),
        "grading_standard_id": None,
        "is_public": False,
        "created_at": iso8601(course.created_at),
        "course_code": course.course_code,
        "default_view": "modules",
        "root_account_id": 1,
        "enrollment_term_id": course.enrollment_term_id,
        "license": "private",
        "grade_passback_setting": None,
        "end_at": iso8601(course.end_at),
        "public_syllabus": False,
        "public_syllabus_to_auth": False,
        "storage_quota_mb": 500,
        "is_public_to_auth_users": False,
        "homeroom_course": False,
        "course_color": None,
        "friendly_name": None,
        "apply_assignment_group_weights": False,
        "calendar": {"ics": f"{base_url}/feeds/calendars/course_{uuid}.ics"},
        "time_zone": course.time_zone,
        "blueprint": False,
        "template": False,
        "enrollments": [enrollment_json(e) for e in enrollments],
        "hide_final_grades": False,
        "workflow_state": course.workflow_state,
        "restrict_enrollments_to_course_dates": False,
    }


def assignment_json(
    assignment: Assignment, base_url: str, *, needs_grading_count: int | None = None
) -> dict[str, Any]:
    """lib/api/v1/assignment.rb. `grades_published` is deliberately absent, as in Canvas."""
    html_url = f"{base_url}/courses/{assignment.course_id}/assignments/{assignment.id}"
    json: dict[str, Any] = {
        "id": assignment.id,
        "description": None,
        "due_at": iso8601(assignment.due_at),
        "unlock_at": None,
        "lock_at": None,
        "points_possible": assignment.points_possible,
        "grading_type": assignment.grading_type,
        "assignment_group_id": assignment.course_id * 10 + 1,
        "grading_standard_id": None,
        "created_at": iso8601(assignment.created_at),
        "updated_at": iso8601(assignment.created_at),
        "peer_reviews": False,
        "automatic_peer_reviews": False,
        "position": assignment.position,
        "grade_group_students_individually": False,
        "anonymous_peer_reviews": False,
        "group_category_id": None,
        "post_to_sis": False,
        "moderated_grading": assignment.moderated_grading,
        "omit_from_final_grade": False,
        "intra_group_peer_reviews": False,
        "anonymous_instructor_annotations": False,
        "anonymous_grading": assignment.anonymous_grading,
        "graders_anonymous_to_graders": assignment.graders_anonymous_to_graders,
        "grader_count": assignment.grader_count,
        "grader_comments_visible_to_graders": assignment.grader_comments_visible_to_graders,
        "final_grader_id": assignment.final_grader_id,
        "grader_names_visible_to_final_grader": assignment.grader_names_visible_to_final_grader,
        "allowed_attempts": -1,
        "hide_in_gradebook": False,
        "course_id": assignment.course_id,
        "name": assignment.name,
        "submission_types": list(assignment.submission_types),
        "has_submitted_submissions": True,
        "due_date_required": False,
        "max_name_length": 255,
        "in_closed_grading_period": False,
        "is_quiz_assignment": False,
        "workflow_state": assignment.workflow_state,
        "muted": assignment.muted,
        "html_url": html_url,
        "has_overrides": False,
        "sis_assignment_id": None,
        "integration_id": None,
        "integration_data": {},
        "published": assignment.workflow_state == "published",
        "unpublishable": False,
        "only_visible_to_overrides": False,
        "locked_for_user": False,
        "submissions_download_url": f"{html_url}/submissions?zip=1",
        "post_manually": assignment.post_manually,
        "anonymize_students": assignment.anonymize_students,
        "require_lockdown_browser": False,
        "restrict_quantitative_data": False,
    }
    if needs_grading_count is not None:
        json["needs_grading_count"] = needs_grading_count
    return json


# --- grading ------------------------------------------------------------------------------


def speedgrader_url(
    base_url: str, assignment: Assignment, submission: Submission, *, anonymous: bool
) -> str:
    student = (
        f"anonymous_id={submission.anonymous_id}"
        if anonymous
        else f"student_id={submission.user_id}"
    )
    return (
        f"{base_url}/courses/{assignment.course_id}/gradebook/speed_grader"
        f"?assignment_id={assignment.id}&{student}"
    )


def grade_matches_current_submission(grade: ProvisionalGrade, submission: Submission) -> bool:
    """False once the student has handed in again after this grade was given."""
    if grade.graded_at is None or submission.submitted_at is None:
        return True
    return submission.submitted_at <= grade.graded_at


def provisional_grade_json(
    state: SandboxState,
    grade: ProvisionalGrade,
    submission: Submission,
    assignment: Assignment,
    base_url: str,
    *,
    anonymous_students: bool,
    anonymous_graders: bool,
) -> dict[str, Any]:
    """ProvisionalGrade#grade_attributes plus the speedgrader_url. With grader identities
    hidden, `scorer_id` gives way to the grader's `anonymous_grader_id` (reference §1.8)."""
    json: dict[str, Any] = {
        "provisional_grade_id": grade.id,
        "grade": grade.grade,
        "score": grade.score,
        "graded_at": iso8601(grade.graded_at),
        "scorer_id": grade.scorer_id,
        "graded_anonymously": grade.graded_anonymously,
        "entered_grade": grade.grade,
        "entered_score": grade.score,
        "final": grade.final,
        "grade_matches_current_submission": grade_matches_current_submission(grade, submission),
        "speedgrader_url": speedgrader_url(
            base_url, assignment, submission, anonymous=anonymous_students
        ),
    }
    if anonymous_graders:
        del json["scorer_id"]
        grader = state.moderation_graders.get((assignment.id, grade.scorer_id))
        json["anonymous_grader_id"] = grader.anonymous_id if grader else None
    return json


def provisional_comment_json(
    state: SandboxState,
    comment: ProvisionalComment,
    assignment: Assignment,
    *,
    anonymous_graders: bool,
) -> dict[str, Any]:
    json: dict[str, Any] = {
        "id": comment.id,
        "comment": comment.comment,
        "created_at": iso8601(comment.created_at),
        "edited_at": None,
    }
    if anonymous_graders:
        grader = state.moderation_graders.get((assignment.id, comment.author_id))
        json["anonymous_id"] = grader.anonymous_id if grader else None
    else:
        author = state.users[comment.author_id]
        json["author_id"] = author.id
        json["author_name"] = author.short_name
    return json


def submission_json(
    submission: Submission,
    base_url: str,
    assignment: Assignment,
    *,
    anonymous_student: bool,
    shown_grade: ProvisionalGrade | None = None,
) -> dict[str, Any]:
    """A Submission. With `shown_grade`, its grade fields are those of that provisional grade
    (Canvas's apply_provisional_grade_filter!), as the grader who just wrote it expects."""
    score, grade = submission.score, submission.grade
    graded_at, grader_id = submission.graded_at, submission.grader_id
    if shown_grade is not None:
        score, grade = shown_grade.score, shown_grade.grade
        graded_at, grader_id = shown_grade.graded_at, shown_grade.scorer_id
    json: dict[str, Any] = {
        "id": submission.id,
        "body": None,
        "url": None,
        "grade": grade,
        "score": score,
        "submitted_at": iso8601(submission.submitted_at),
        "assignment_id": submission.assignment_id,
        "user_id": submission.user_id,
        "submission_type": submission.submission_type,
        "workflow_state": submission.workflow_state,
        "grade_matches_current_submission": (
            shown_grade is None or grade_matches_current_submission(shown_grade, submission)
        ),
        "graded_at": iso8601(graded_at),
        "grader_id": grader_id,
        "attempt": submission.attempt,
        "cached_due_date": iso8601(assignment.due_at),
        "excused": False,
        "late_policy_status": None,
        "points_deducted": None,
        "grading_period_id": None,
        "extra_attempts": None,
        "posted_at": None,
        "redo_request": False,
        "late": False,
        "missing": False,
        "seconds_late": 0,
        "entered_grade": grade,
        "entered_score": score,
        "preview_url": (
            f"{base_url}/courses/{assignment.course_id}/assignments/{assignment.id}"
            f"/submissions/{submission.user_id}?preview=1&version={submission.attempt or 0}"
        ),
    }
    if anonymous_student:
        del json["user_id"]
        json["anonymous_id"] = submission.anonymous_id
        json["preview_url"] = None
    return json


def selection_json(
    selection: Selection, submission: Submission, *, anonymous_student: bool
) -> dict[str, Any]:
    json: dict[str, Any] = {
        "assignment_id": selection.assignment_id,
        "student_id": selection.student_id,
        "selected_provisional_grade_id": selection.selected_provisional_grade_id,
    }
    if anonymous_student:
        # Students hidden: the submission's anonymous id stands in for the student (§1.3).
        del json["student_id"]
        json["anonymous_id"] = submission.anonymous_id
    return json
