"""The /api/v1 endpoints: each one a small Canvas controller action, checking what Canvas
checks in the order Canvas checks it (reference §1), then answering in Canvas's JSON.

An endpoint is a plain function of a `Call` that returns a Response or raises `ApiError`;
`endpoint` wraps it with authentication, parameter parsing and the state lock.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tui.sandbox import grading, presenters
from tui.sandbox.canvas_http import (
    ApiError,
    bad_request,
    bad_token,
    canvas_json,
    missing_parameter,
    not_found,
    paginate,
    permission_denied,
    read_params,
    ruby_to_i,
    server_error_body,
    unauthenticated,
    value_to_boolean,
)
from tui.sandbox.faults import Faults
from tui.sandbox.state import (
    Assignment,
    Course,
    ProvisionalGrade,
    SandboxState,
    Submission,
    User,
    iso8601,
)
from tui.sandbox.stats import SandboxStats

__all__ = ["API_ROUTES"]

NOT_MODERATED = "Assignment does not use moderated grading"
ALREADY_PUBLISHED = "Assignment grades have already been published"
UNSELECTED_GRADES = "All submissions must have a selected grade"
NOT_IN_MODERATION_SET = "student not in moderation set"
COURSE_STATES_BY_DEFAULT = frozenset({"available", "unpublished"})
ROSTER_STATES_BY_DEFAULT = frozenset({"active", "invited"})


# --- the call: one authenticated request --------------------------------------------------


@dataclass
class Call:
    request: Request
    state: SandboxState
    faults: Faults
    stats: SandboxStats
    user: User
    params: dict[str, Any]

    @property
    def base_url(self) -> str:
        return f"{self.request.url.scheme}://{self.request.url.netloc}"

    def deny(self) -> ApiError:
        return permission_denied(self.faults.permission_status)

    def json(
        self, body: Any, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        return canvas_json(self.request, body, status=status, headers=headers)

    def page(self, items: Sequence[Any], render: Callable[[Any], Any]) -> Response:
        page = paginate(self.request, items)
        return self.json([render(item) for item in page.items], headers=page.headers)

    def path_id(self, name: str) -> int:
        raw = self.request.path_params[name]
        if not raw.isdigit():
            raise not_found()
        return int(raw)

    def course(self) -> Course:
        course = self.state.courses.get(self.path_id("course_id"))
        if course is None or course.workflow_state == "deleted":
            raise not_found()
        return course

    def assignment(self, course: Course) -> Assignment:
        assignment = self.state.assignments.get(self.path_id("assignment_id"))
        if (
            assignment is None
            or assignment.course_id != course.id
            or assignment.workflow_state == "deleted"
        ):
            raise not_found()
        return assignment

    def list_param(self, name: str) -> list[Any]:
        """`name[]=a&name[]=b`, a JSON list, or a single value: always a list."""
        value = self.params.get(name)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]


def _authenticate(request: Request, params: dict[str, Any], state: SandboxState) -> User:
    """Bearer header first, then the access_token parameter (lib/authentication_methods.rb)."""
    token = None
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.casefold() == "bearer":
        token = credentials.strip()
    elif isinstance(params.get("access_token"), str):
        token = params["access_token"]
    if not token:
        raise unauthenticated()
    access_token = state.tokens.get(token)
    if access_token is None:
        raise bad_token("Invalid", None)
    if access_token.failure is not None:
        raise bad_token(access_token.failure, iso8601(access_token.failed_at))
    return state.users[access_token.user_id]


def endpoint(handler: Callable[[Call], Response]) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        app_state = request.app.state
        state: SandboxState = app_state.sandbox
        try:
            params = await read_params(request)
            with state.lock:
                user = _authenticate(request, params, state)
                call = Call(request, state, app_state.faults, app_state.stats, user, params)
                return handler(call)
        except ApiError as error:
            return canvas_json(request, error.body, status=error.status, headers=error.headers)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


# --- users and courses --------------------------------------------------------------------


def _sort_key(text: str) -> str:
    """Names sort the way a person reads them: Ångström with the A's, case ignored."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def show_self(call: Call) -> Response:
    """GET /api/v1/users/self"""
    return call.json(presenters.self_json(call.user, call.base_url))


def list_courses(call: Call) -> Response:
    """GET /api/v1/courses?enrollment_type=teacher&state[]=available"""
    wanted_type = call.params.get("enrollment_type")
    wanted_states = set(call.list_param("state")) or COURSE_STATES_BY_DEFAULT
    courses = []
    for course in sorted(call.state.courses.values(), key=lambda c: c.id):
        mine = [
            e
            for e in call.state.enrollments_of(course.id, call.user.id)
            if e.workflow_state in ROSTER_STATES_BY_DEFAULT
        ]
        if wanted_type:
            mine = [e for e in mine if e.type == wanted_type]
        if mine and course.workflow_state in wanted_states:
            courses.append((course, mine))
    return call.page(courses, lambda pair: presenters.course_json(pair[0], pair[1], call.base_url))


def show_course(call: Call) -> Response:
    """GET /api/v1/courses/:course_id"""
    course = call.course()
    if not call.state.can_read_course(call.user.id, course.id):
        raise call.deny()
    mine = call.state.enrollments_of(course.id, call.user.id)
    return call.json(presenters.course_json(course, mine, call.base_url))


def list_course_users(call: Call) -> Response:
    """GET /api/v1/courses/:course_id/users?enrollment_type[]=teacher&enrollment_type[]=ta"""
    course = call.course()
    if not call.state.can_read_course(call.user.id, course.id):
        raise call.deny()
    # Canvas takes "teacher" or "TeacherEnrollment"-less names only; unknown types match none.
    wanted_types = {str(t) for t in call.list_param("enrollment_type")}
    wanted_states = {str(s) for s in call.list_param("enrollment_state")}
    wanted_states = wanted_states or ROSTER_STATES_BY_DEFAULT
    user_ids = {
        e.user_id
        for e in call.state.course_enrollments(course.id)
        if (not wanted_types or e.type in wanted_types) and e.workflow_state in wanted_states
    }
    users = sorted(
        (call.state.users[user_id] for user_id in user_ids),
        key=lambda u: (_sort_key(u.sortable_name), u.id),
    )
    return call.page(users, presenters.user_json)


# --- assignments --------------------------------------------------------------------------


def _needs_grading_count(call: Call, assignment: Assignment) -> int | None:
    if not call.state.can_manage_grades(call.user.id, assignment.course_id):
        return None
    return sum(
        1
        for s in call.state.assignment_submissions(assignment.id)
        if s.submitted_at is not None and s.workflow_state != "graded"
    )


def _visible_assignments(call: Call, course: Course) -> list[Assignment]:
    assignments = [
        a for a in call.state.course_assignments(course.id) if a.workflow_state != "deleted"
    ]
    if call.state.can_manage_grades(call.user.id, course.id):
        return assignments
    return [a for a in assignments if a.workflow_state == "published"]


def list_assignments(call: Call) -> Response:
    """GET /api/v1/courses/:course_id/assignments"""
    course = call.course()
    if not call.state.can_read_course(call.user.id, course.id):
        raise call.deny()
    return call.page(
        _visible_assignments(call, course),
        lambda a: presenters.assignment_json(
            a, call.base_url, needs_grading_count=_needs_grading_count(call, a)
        ),
    )


def show_assignment(call: Call) -> Response:
    """GET /api/v1/courses/:course_id/assignments/:assignment_id"""
    course = call.course()
    if not call.state.can_read_course(call.user.id, course.id):
        raise call.deny()
    assignment = call.assignment(course)
    if assignment.id not in {a.id for a in _visible_assignments(call, course)}:
        raise not_found()
    return call.json(
        presenters.assignment_json(
            assignment, call.base_url, needs_grading_count=_needs_grading_count(call, assignment)
        )
    )


# --- the moderation set -------------------------------------------------------------------


def _moderation_context(call: Call) -> tuple[Course, Assignment]:
    """Course, assignment, then "is a moderator": the order of ModerationSetController."""
    course = call.course()
    assignment = call.assignment(course)
    if not call.state.permits_moderation(assignment, call.user.id):
        raise call.deny()
    return course, assignment


def list_moderated_students(call: Call) -> Response:
    """GET …/assignments/:assignment_id/moderated_students"""
    _, assignment = _moderation_context(call)
    student_ids = sorted(
        student_id
        for (assignment_id, student_id) in call.state.selections
        if assignment_id == assignment.id
    )
    return call.page([call.state.users[i] for i in student_ids], presenters.user_json)


def add_moderated_students(call: Call) -> Response:
    """POST …/assignments/:assignment_id/moderated_students  student_ids[]=…"""
    course, assignment = _moderation_context(call)
    requested = [i for i in call.list_param("student_ids") if i not in (None, "")]
    if not requested:
        return call.json([], status=400)
    # Ids that are not students of the course are ignored without a word (§1.2).
    student_ids = sorted(
        {
            student_id
            for student_id in map(ruby_to_i, requested)
            if call.state.is_student(course.id, student_id)
        }
    )
    for student_id in student_ids:
        if call.state.selection_for(assignment.id, student_id) is None:
            call.state.add_selection(assignment.id, student_id)
    return call.json([presenters.user_json(call.state.users[i]) for i in student_ids])


# --- provisional grades -------------------------------------------------------------------


def _grade_views(call: Call, assignment: Assignment) -> tuple[bool, bool]:
    """(anonymous students, anonymous graders) as this caller sees the assignment."""
    return (
        not call.state.can_view_student_names(assignment, call.user.id),
        not call.state.can_view_other_grader_identities(assignment, call.user.id),
    )


def _provisional_grades_json(
    call: Call, assignment: Assignment, submission: Submission
) -> list[dict[str, Any]]:
    """submission_provisional_grades_json: oldest first, the final grade last; a grader who
    is not a moderator sees only their own."""
    anonymous_students, anonymous_graders = _grade_views(call, assignment)
    grades = call.state.grades_of(submission)
    if not call.state.permits_moderation(assignment, call.user.id):
        grades = [g for g in grades if g.scorer_id == call.user.id]
    ordered = sorted(grades, key=lambda g: (g.final, g.created_at, g.id))
    return [
        presenters.provisional_grade_json(
            call.state,
            grade,
            submission,
            assignment,
            call.base_url,
            anonymous_students=anonymous_students,
            anonymous_graders=anonymous_graders,
        )
        for grade in ordered
    ]


def gradeable_students(call: Call) -> Response:
    """GET …/gradeable_students?include[]=provisional_grades&allow_new_anonymous_id=true"""
    course = call.course()
    # SubmissionsApiController checks the course right before it looks the assignment up.
    if not call.state.can_manage_grades(call.user.id, course.id):
        raise call.deny()
    assignment = call.assignment(course)
    include_grades = "provisional_grades" in call.list_param("include")
    if include_grades and not call.state.permits_moderation(assignment, call.user.id):
        raise call.deny()
    # Without allow_new_anonymous_id Canvas shows names regardless (the old mobile apps).
    names_visible = not value_to_boolean(
        call.params.get("allow_new_anonymous_id")
    ) or call.state.can_view_student_names(assignment, call.user.id)

    students = set(call.state.student_ids(course.id))
    submissions = [
        s for s in call.state.assignment_submissions(assignment.id) if s.user_id in students
    ]
    if names_visible:
        submissions.sort(key=lambda s: s.user_id)
    else:
        # Ordered by anonymous id, and "Student N" numbered in that same order.
        submissions.sort(key=lambda s: s.anonymous_id)
    numbers = {s.id: n for n, s in enumerate(submissions, start=1)}

    def render(submission: Submission) -> dict[str, Any]:
        if names_visible:
            user = call.state.users[submission.user_id]
            json = presenters.user_display_json(user, course.id, call.base_url)
        else:
            json = presenters.anonymous_user_display_json(
                submission.anonymous_id, numbers[submission.id], call.base_url
            )
        if include_grades:
            selected = call.state.selected_grade(submission)
            # Quirk: "in the moderation set" only when one of the grades is selected (§1.8).
            json["in_moderation_set"] = selected is not None
            json["selected_provisional_grade_id"] = selected.id if selected else None
            json["provisional_grades"] = _provisional_grades_json(call, assignment, submission)
        return json

    return call.page(submissions, render)


def _status_answer(
    call: Call, course: Course, assignment: Assignment, submission: Submission
) -> Response:
    """Steps 4-8 of the status check, shared by the named and the anonymous endpoint."""
    state = call.state
    if not state.can_manage_grades(call.user.id, course.id):
        raise call.deny()
    if not assignment.moderated_grading:
        raise bad_request(NOT_MODERATED)
    if assignment.grades_published:
        raise bad_request(ALREADY_PUBLISHED)
    answer: dict[str, Any] = {
        "needs_provisional_grade": state.can_be_moderated_grader(assignment, call.user.id)
    }
    last_updated_at = call.params.get("last_updated_at")
    if last_updated_at is None or _same_second(submission.updated_at, last_updated_at):
        return call.json(answer)
    if not state.permits_moderation(assignment, call.user.id):
        raise call.deny()

    anonymous_students, anonymous_graders = _grade_views(call, assignment)
    selected = state.selected_grade(submission)

    def detailed(grade: ProvisionalGrade) -> dict[str, Any]:
        json = presenters.provisional_grade_json(
            state,
            grade,
            submission,
            assignment,
            call.base_url,
            anonymous_students=anonymous_students,
            anonymous_graders=False,  # status keeps scorer_id; it only withholds the name
        )
        json["submission_comments"] = [
            presenters.provisional_comment_json(
                state, comment, assignment, anonymous_graders=anonymous_graders
            )
            for comment in grade.comments
        ]
        json["rubric_assessments"] = []
        json["selected"] = selected is grade
        json["readonly"] = not grade.final and grade.scorer_id != call.user.id
        if not anonymous_graders:
            json["scorer_name"] = state.users[grade.scorer_id].short_name
        return json

    grades = state.grades_of(submission)
    answer["provisional_grades"] = [detailed(g) for g in grades if not g.final]
    final = next((g for g in grades if g.final), None)
    if final is not None:
        answer["final_provisional_grade"] = detailed(final)
    return call.json(answer)


def _same_second(updated_at: datetime, text: Any) -> bool:
    """`submission.updated_at.to_i == Time.zone.parse(last_updated_at).to_i`."""
    try:
        parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return int(updated_at.timestamp()) == 0  # unreadable: nil, whose to_i is 0
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # the sandbox's time zone is UTC
    return int(updated_at.timestamp()) == int(parsed.timestamp())


def provisional_grade_status(call: Call) -> Response:
    """GET …/provisional_grades/status?student_id=…[&last_updated_at=…]"""
    course = call.course()
    assignment = call.assignment(course)
    if "student_id" not in call.params:
        raise missing_parameter("student_id")
    # The student is looked up (404) before any permission check: observable order (§1.4).
    student_id = ruby_to_i(call.params["student_id"])
    submission = call.state.submission_for(assignment.id, student_id)
    if not call.state.is_student(course.id, student_id) or submission is None:
        raise not_found()
    return _status_answer(call, course, assignment, submission)


def anonymous_provisional_grade_status(call: Call) -> Response:
    """GET …/anonymous_provisional_grades/status?anonymous_id=…"""
    course = call.course()
    assignment = call.assignment(course)
    if "anonymous_id" not in call.params:
        raise missing_parameter("anonymous_id")
    submission = call.state.submission_by_anonymous_id(
        assignment.id, str(call.params["anonymous_id"])
    )
    if submission is None:
        raise not_found()
    return _status_answer(call, course, assignment, submission)


def select_provisional_grade(call: Call) -> Response:
    """PUT …/provisional_grades/:provisional_grade_id/select"""
    _, assignment = _moderation_context(call)
    grade = call.state.provisional_grades.get(call.path_id("provisional_grade_id"))
    submission = call.state.submissions.get(grade.submission_id) if grade else None
    if grade is None or submission is None or submission.assignment_id != assignment.id:
        raise not_found()
    selection = call.state.select(grade)
    if selection is None:
        raise bad_request(NOT_IN_MODERATION_SET)
    anonymous_students, _ = _grade_views(call, assignment)
    return call.json(
        presenters.selection_json(selection, submission, anonymous_student=anonymous_students)
    )


def bulk_select_provisional_grades(call: Call) -> Response:
    """PUT …/provisional_grades/bulk_select  provisional_grade_ids[]=…"""
    _, assignment = _moderation_context(call)
    ids = [ruby_to_i(i) for i in call.list_param("provisional_grade_ids")]
    try:
        changes = grading.bulk_select(call.state, assignment, ids)
    except grading.MissingSelection:
        # Canvas dereferences the missing selection and fails with a 500 (§1.3).
        return call.json(server_error_body(call.stats.next_error_report_id()), status=500)
    anonymous_students, _ = _grade_views(call, assignment)
    return call.json(
        [
            presenters.selection_json(
                change.selection, change.submission, anonymous_student=anonymous_students
            )
            for change in changes
        ]
    )


def publish_provisional_grades(call: Call) -> Response:
    """POST …/provisional_grades/publish"""
    course = call.course()
    assignment = call.assignment(course)
    if not (
        call.state.can_manage_grades(call.user.id, course.id)
        and call.state.permits_moderation(assignment, call.user.id)
    ):
        raise call.deny()
    if not assignment.moderated_grading:
        raise bad_request(NOT_MODERATED)
    if assignment.grades_published:
        raise bad_request(ALREADY_PUBLISHED)
    if not grading.publish(call.state, assignment, now=call.state.clock()):
        raise bad_request(UNSELECTED_GRADES, status=422)
    return call.json({"message": "OK"})


# --- grading a submission -----------------------------------------------------------------


def _posted_grade(submission_params: dict[str, Any]) -> str | None:
    value = submission_params.get("posted_grade")
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _update_submission(call: Call, find: Callable[[Course, Assignment], Submission]) -> Response:
    course = call.course()
    assignment = call.assignment(course)
    submission_params = call.params.get("submission")
    if not isinstance(submission_params, dict):
        submission_params = {}
    posted_grade = _posted_grade(submission_params)
    provisional = value_to_boolean(submission_params.get("provisional"))
    # A moderated assignment takes only provisional grades until they are published.
    if posted_grade is not None and not provisional and not assignment.grades_published:
        raise call.deny()
    submission = find(course, assignment)
    if not call.state.can_manage_grades(call.user.id, course.id):
        raise call.deny()
    # `final` is silently dropped for anyone who is not a moderator (§1.9).
    final = value_to_boolean(submission_params.get("final")) and call.state.permits_moderation(
        assignment, call.user.id
    )
    provisional = provisional and not assignment.grades_published

    written = None
    if posted_grade is not None:
        if provisional:
            try:
                written = grading.grade_provisionally(
                    call.state, assignment, submission, call.user.id, posted_grade, final=final
                )
            except grading.GradeError as error:
                return call.json({"error": error.message}, status=400)
        else:
            grading.grade_directly(call.state, assignment, submission, call.user.id, posted_grade)

    anonymous_students, _ = _grade_views(call, assignment)

    def render(with_comments: bool) -> dict[str, Any]:
        json = presenters.submission_json(
            submission,
            call.base_url,
            assignment,
            anonymous_student=anonymous_students,
            shown_grade=written,
        )
        if written is not None:
            json["provisional_grade_id"] = written.id
        if with_comments:
            json["submission_comments"] = []
        if provisional:
            json["provisional_grades"] = _provisional_grades_json(call, assignment, submission)
        return json

    answer = render(with_comments=True)
    answer["all_submissions"] = [render(with_comments=False)]
    return call.json(answer)


def update_submission(call: Call) -> Response:
    """PUT …/submissions/:user_id  submission[posted_grade]=…&submission[provisional]=true"""

    def by_user_id(course: Course, assignment: Assignment) -> Submission:
        raw = call.request.path_params["user_id"]
        student_id = int(raw) if raw.isdigit() else 0
        submission = call.state.submission_for(assignment.id, student_id)
        if submission is None or not call.state.is_student(course.id, student_id):
            raise not_found()
        return submission

    return _update_submission(call, by_user_id)


def update_anonymous_submission(call: Call) -> Response:
    """PUT …/anonymous_submissions/:anonymous_id"""

    def by_anonymous_id(course: Course, assignment: Assignment) -> Submission:
        anonymous_id = call.request.path_params["anonymous_id"]
        submission = call.state.submission_by_anonymous_id(assignment.id, anonymous_id)
        if submission is None:
            raise not_found()
        return submission

    return _update_submission(call, by_anonymous_id)


# --- routes -------------------------------------------------------------------------------

_ASSIGNMENT = "/api/v1/courses/{course_id}/assignments/{assignment_id}"

API_ROUTES = [
    Route(path, endpoint(handler), methods=[method])
    for method, path, handler in (
        ("GET", "/api/v1/users/self", show_self),
        ("GET", "/api/v1/courses", list_courses),
        ("GET", "/api/v1/courses/{course_id}", show_course),
        ("GET", "/api/v1/courses/{course_id}/users", list_course_users),
        ("GET", "/api/v1/courses/{course_id}/assignments", list_assignments),
        ("GET", _ASSIGNMENT, show_assignment),
        ("GET", f"{_ASSIGNMENT}/moderated_students", list_moderated_students),
        ("POST", f"{_ASSIGNMENT}/moderated_students", add_moderated_students),
        ("GET", f"{_ASSIGNMENT}/gradeable_students", gradeable_students),
        ("GET", f"{_ASSIGNMENT}/provisional_grades/status", provisional_grade_status),
        (
            "GET",
            f"{_ASSIGNMENT}/anonymous_provisional_grades/status",
            anonymous_provisional_grade_status,
        ),
        ("PUT", f"{_ASSIGNMENT}/provisional_grades/bulk_select", bulk_select_provisional_grades),
        (
            "PUT",
            f"{_ASSIGNMENT}/provisional_grades/{{provisional_grade_id}}/select",
            select_provisional_grade,
        ),
        ("POST", f"{_ASSIGNMENT}/provisional_grades/publish", publish_provisional_grades),
        ("PUT", f"{_ASSIGNMENT}/submissions/{{user_id}}", update_submission),
        (
            "PUT",
            f"{_ASSIGNMENT}/anonymous_submissions/{{anonymous_id}}",
            update_anonymous_submission,
        ),
    )
]
