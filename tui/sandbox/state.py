"""The sandbox Canvas's memory: plain records, the indexes that keep them fast, and the rules
that Canvas keeps on its models (who is a moderator, who may see names, how many graders fit).

The HTTP layer (`tui.sandbox.api`) asks this module questions and calls its mutations; nothing
here knows about requests or JSON. Every record mirrors a Canvas table closely enough that the
JSON built from it has Canvas's shape (reference §0 and §4).

Access from more than one thread (a test mutating state while the server thread answers) goes
through `SandboxState.lock`: every endpoint holds it while it reads and changes the state.
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = [
    "AccessToken",
    "Assignment",
    "Course",
    "Enrollment",
    "ModerationGrader",
    "ProvisionalComment",
    "ProvisionalGrade",
    "SandboxState",
    "Selection",
    "Submission",
    "User",
    "iso8601",
]

# Roles that grade in a course. Canvas gives TAs `manage_grades` by default, like teachers.
GRADING_ROLES = frozenset({"teacher", "ta"})
ENROLLMENT_TYPES = frozenset({"teacher", "ta", "student", "designer", "observer"})
TOKEN_FAILURES = ("Invalid", "Revoked", "Expired")

# Canvas makes anonymous ids with `SecureRandom.base58`: no 0, O, I or l to misread.
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ANONYMOUS_ID_LENGTH = 5

# First id handed out per table, so ids of different kinds never look alike in a log.
ID_BASES = {
    "user": 5000,
    "course": 100,
    "enrollment": 1,
    "assignment": 900,
    "submission": 70001,
    "provisional_grade": 53001,
    "comment": 9001,
    "moderation_grader": 4501,
    "selection": 1,
}


def iso8601(moment: datetime | None) -> str | None:
    """Canvas's timestamp format: UTC, whole seconds, a trailing Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# --- records ------------------------------------------------------------------------------


@dataclass(slots=True)
class User:
    id: int
    name: str
    sortable_name: str
    short_name: str
    created_at: datetime
    pronouns: str | None = None


@dataclass(slots=True)
class AccessToken:
    token: str
    user_id: int
    # None while the token works; otherwise how Canvas words the refusal (§2.2).
    failure: str | None = None
    failed_at: datetime | None = None


@dataclass(slots=True)
class Course:
    id: int
    name: str
    course_code: str
    created_at: datetime
    workflow_state: str = "available"
    start_at: datetime | None = None
    end_at: datetime | None = None
    account_id: int = 1
    enrollment_term_id: int = 1
    time_zone: str = "Europe/London"


@dataclass(slots=True)
class Enrollment:
    id: int
    course_id: int
    user_id: int
    type: str  # "teacher", "ta", "student", "designer" or "observer"
    workflow_state: str = "active"


@dataclass(slots=True)
class Assignment:
    id: int
    course_id: int
    name: str
    points_possible: float
    position: int
    created_at: datetime
    due_at: datetime | None = None
    grading_type: str = "points"
    submission_types: tuple[str, ...] = ("online_text_entry",)
    workflow_state: str = "published"
    moderated_grading: bool = False
    grader_count: int = 0
    final_grader_id: int | None = None
    grader_comments_visible_to_graders: bool = True
    graders_anonymous_to_graders: bool = False
    grader_names_visible_to_final_grader: bool = True
    anonymous_grading: bool = False
    grades_published_at: datetime | None = None
    # Turning moderation on mutes the assignment and forces manual posting (AA#mute_if_…).
    muted: bool = False
    post_manually: bool = False

    @property
    def grades_published(self) -> bool:
        # Canvas: `!moderated_grading? || grades_published_at.present?` (always true unmoderated).
        return not self.moderated_grading or self.grades_published_at is not None

    @property
    def anonymize_students(self) -> bool:
        return self.anonymous_grading and not self.grades_published


@dataclass(slots=True)
class Submission:
    id: int
    assignment_id: int
    user_id: int
    anonymous_id: str
    updated_at: datetime
    submitted_at: datetime | None = None
    attempt: int | None = None
    submission_type: str | None = None
    workflow_state: str = "unsubmitted"
    score: float | None = None
    grade: str | None = None
    grader_id: int | None = None
    graded_at: datetime | None = None
    graded_anonymously: bool | None = None


@dataclass(slots=True)
class ProvisionalComment:
    id: int
    author_id: int
    comment: str
    created_at: datetime


@dataclass(slots=True)
class ProvisionalGrade:
    id: int
    submission_id: int
    scorer_id: int
    grade: str | None
    score: float | None
    graded_at: datetime | None
    created_at: datetime
    final: bool = False
    graded_anonymously: bool = False
    comments: list[ProvisionalComment] = field(default_factory=list)


@dataclass(slots=True)
class ModerationGrader:
    id: int
    assignment_id: int
    user_id: int
    anonymous_id: str
    slot_taken: bool = True


@dataclass(slots=True)
class Selection:
    id: int
    assignment_id: int
    student_id: int
    selected_provisional_grade_id: int | None = None


# --- the store ----------------------------------------------------------------------------


class SandboxState:
    """Everything the sandbox Canvas knows, with Canvas's model-level rules."""

    def __init__(self, *, clock: Callable[[], datetime] = _utc_now) -> None:
        # Seeds pass fixed timestamps; the clock only stamps what happens at run time
        # (a grade entered, a publish), so a restarted demo looks the same until it is used.
        self.clock = clock
        self.lock = threading.RLock()
        self.users: dict[int, User] = {}
        self.tokens: dict[str, AccessToken] = {}
        # Account admins: user id -> may they "Select Final Grade for Moderation"?
        self.account_admins: dict[int, bool] = {}
        self.courses: dict[int, Course] = {}
        self.enrollments: list[Enrollment] = []
        self.assignments: dict[int, Assignment] = {}
        self.submissions: dict[int, Submission] = {}
        self.provisional_grades: dict[int, ProvisionalGrade] = {}
        self.moderation_graders: dict[tuple[int, int], ModerationGrader] = {}
        self.selections: dict[tuple[int, int], Selection] = {}

        self._next_ids = dict(ID_BASES)
        self._enrollments_by_course: dict[int, list[Enrollment]] = defaultdict(list)
        self._enrollments_by_member: dict[tuple[int, int], list[Enrollment]] = defaultdict(list)
        self._submission_by_student: dict[tuple[int, int], Submission] = {}
        self._submission_by_anonymous_id: dict[tuple[int, str], Submission] = {}
        self._submissions_by_assignment: dict[int, list[Submission]] = defaultdict(list)
        self._submission_anonymous_ids: dict[int, set[str]] = defaultdict(set)
        self._grades_by_submission: dict[int, list[ProvisionalGrade]] = defaultdict(list)
        self._grader_anonymous_ids: dict[int, set[str]] = defaultdict(set)

    # -- ids ------------------------------------------------------------------------------

    def _allocate(self, kind: str, wanted: int | None = None) -> int:
        if wanted is None:
            wanted = self._next_ids[kind]
        self._next_ids[kind] = max(self._next_ids[kind], wanted + 1)
        return wanted

    @staticmethod
    def _anonymous_id(salt: str, taken: set[str]) -> str:
        """A deterministic 5-character base58 id, unique among `taken` (Canvas: random)."""
        attempt = 0
        while True:
            digest = hashlib.blake2b(f"{salt}/{attempt}".encode(), digest_size=8).digest()
            number = int.from_bytes(digest, "big")
            chars = []
            for _ in range(ANONYMOUS_ID_LENGTH):
                number, index = divmod(number, len(BASE58))
                chars.append(BASE58[index])
            candidate = "".join(chars)
            if candidate not in taken:
                taken.add(candidate)
                return candidate
            attempt += 1

    # -- people and courses ---------------------------------------------------------------

    def add_user(
        self,
        name: str,
        *,
        sortable_name: str | None = None,
        short_name: str | None = None,
        created_at: datetime,
        user_id: int | None = None,
        token: str | None = None,
        pronouns: str | None = None,
    ) -> User:
        if sortable_name is None:
            first, _, last = name.rpartition(" ")
            sortable_name = f"{last}, {first}" if first else name
        user = User(
            id=self._allocate("user", user_id),
            name=name,
            sortable_name=sortable_name,
            short_name=short_name or name,
            created_at=created_at,
            pronouns=pronouns,
        )
        self.users[user.id] = user
        if token is not None:
            self.issue_token(user.id, token)
        return user

    def issue_token(self, user_id: int, token: str) -> AccessToken:
        access_token = AccessToken(token=token, user_id=user_id)
        self.tokens[token] = access_token
        return access_token

    def revoke_token(self, token: str, reason: str = "Invalid") -> None:
        """Make `token` stop working from the next request on, the way Canvas words it:
        "Invalid" (deleted), "Revoked" or "Expired" (§2.2)."""
        if reason not in TOKEN_FAILURES:
            raise ValueError(f"reason must be one of {TOKEN_FAILURES}, not {reason!r}")
        with self.lock:
            access_token = self.tokens[token]
            access_token.failure = reason
            access_token.failed_at = self.clock()

    def make_account_admin(self, user_id: int, *, select_final_grade: bool = True) -> None:
        self.account_admins[user_id] = select_final_grade

    def add_course(
        self,
        name: str,
        course_code: str,
        *,
        created_at: datetime,
        course_id: int | None = None,
        workflow_state: str = "available",
        start_at: datetime | None = None,
        end_at: datetime | None = None,
    ) -> Course:
        course = Course(
            id=self._allocate("course", course_id),
            name=name,
            course_code=course_code,
            created_at=created_at,
            workflow_state=workflow_state,
            start_at=start_at,
            end_at=end_at,
        )
        self.courses[course.id] = course
        return course

    def enroll(
        self, course_id: int, user_id: int, type: str, *, workflow_state: str = "active"
    ) -> Enrollment:
        if type not in ENROLLMENT_TYPES:
            raise ValueError(f"unknown enrollment type {type!r}")
        enrollment = Enrollment(
            id=self._allocate("enrollment"),
            course_id=course_id,
            user_id=user_id,
            type=type,
            workflow_state=workflow_state,
        )
        self.enrollments.append(enrollment)
        self._enrollments_by_course[course_id].append(enrollment)
        self._enrollments_by_member[(course_id, user_id)].append(enrollment)
        if type == "student":
            # Canvas's SubmissionLifecycleManager gives a new student a submission (and a
            # moderation selection) for every assignment already in the course.
            for assignment in self.course_assignments(course_id):
                self._ensure_submission(assignment, user_id)
        return enrollment

    def enroll_students(self, course_id: int, user_ids: Iterable[int]) -> None:
        for user_id in user_ids:
            self.enroll(course_id, user_id, "student")

    def course_enrollments(self, course_id: int) -> list[Enrollment]:
        return self._enrollments_by_course.get(course_id, [])

    def enrollments_of(self, course_id: int, user_id: int) -> list[Enrollment]:
        return self._enrollments_by_member.get((course_id, user_id), [])

    def student_ids(self, course_id: int) -> list[int]:
        """Students of a course, active or not (`students_visible_to(include: :inactive)`)."""
        ids = {e.user_id for e in self.course_enrollments(course_id) if e.type == "student"}
        return sorted(ids)

    def is_student(self, course_id: int, user_id: int) -> bool:
        return any(e.type == "student" for e in self.enrollments_of(course_id, user_id))

    def is_active_student(self, course_id: int, user_id: int) -> bool:
        return any(
            e.type == "student" and e.workflow_state == "active"
            for e in self.enrollments_of(course_id, user_id)
        )

    # -- permissions (Canvas's course rights and AbstractAssignment predicates) -----------

    def is_account_admin(self, user_id: int) -> bool:
        return user_id in self.account_admins

    def can_read_course(self, user_id: int, course_id: int) -> bool:
        if self.is_account_admin(user_id):
            return True
        return any(e.workflow_state == "active" for e in self.enrollments_of(course_id, user_id))

    def can_manage_grades(self, user_id: int, course_id: int) -> bool:
        if self.is_account_admin(user_id):
            return True
        return any(
            e.type in GRADING_ROLES and e.workflow_state == "active"
            for e in self.enrollments_of(course_id, user_id)
        )

    def permits_moderation(self, assignment: Assignment, user_id: int) -> bool:
        """AA#permits_moderation?: the final grader, or an admin with select_final_grade."""
        return assignment.final_grader_id == user_id or self.account_admins.get(user_id, False)

    def can_view_other_grader_identities(self, assignment: Assignment, user_id: int) -> bool:
        if not self.can_manage_grades(user_id, assignment.course_id):
            return False
        if not assignment.moderated_grading or assignment.grades_published:
            return True
        if assignment.final_grader_id == user_id:
            return assignment.grader_names_visible_to_final_grader
        if self.account_admins.get(user_id, False):
            return True
        return (
            assignment.grader_comments_visible_to_graders
            and not assignment.graders_anonymous_to_graders
        )

    def can_view_student_names(self, assignment: Assignment, user_id: int) -> bool:
        if assignment.anonymize_students:
            return False
        return self.can_manage_grades(user_id, assignment.course_id)

    def provisional_grader_ids(self, assignment: Assignment) -> set[int]:
        """Graders holding a counted slot: the final grader never takes one."""
        return {
            grader.user_id
            for (assignment_id, _), grader in self.moderation_graders.items()
            if assignment_id == assignment.id
            and grader.slot_taken
            and grader.user_id != assignment.final_grader_id
        }

    def moderated_grader_limit_reached(self, assignment: Assignment) -> bool:
        return (
            assignment.moderated_grading
            and len(self.provisional_grader_ids(assignment)) >= assignment.grader_count
        )

    def can_be_moderated_grader(self, assignment: Assignment, user_id: int) -> bool:
        if not self.can_manage_grades(user_id, assignment.course_id):
            return False
        if not self.moderated_grader_limit_reached(assignment):
            return True
        if assignment.final_grader_id == user_id:
            return True
        grader = self.moderation_graders.get((assignment.id, user_id))
        return grader is not None and grader.slot_taken

    # -- assignments and submissions ------------------------------------------------------

    def add_assignment(
        self,
        course_id: int,
        name: str,
        *,
        points_possible: float,
        created_at: datetime,
        assignment_id: int | None = None,
        **attributes: object,
    ) -> Assignment:
        position = 1 + len(self.course_assignments(course_id))
        assignment = Assignment(
            id=self._allocate("assignment", assignment_id),
            course_id=course_id,
            name=name,
            points_possible=points_possible,
            position=position,
            created_at=created_at,
            **attributes,  # type: ignore[arg-type]
        )
        if assignment.moderated_grading:
            if assignment.grader_count < 1:
                raise ValueError("a moderated assignment needs grader_count > 0")
            assignment.muted = True
            assignment.post_manually = True
        self.assignments[assignment.id] = assignment
        for student_id in self.student_ids(course_id):
            self._ensure_submission(assignment, student_id)
        return assignment

    def course_assignments(self, course_id: int) -> list[Assignment]:
        found = [a for a in self.assignments.values() if a.course_id == course_id]
        return sorted(found, key=lambda a: (a.position, a.id))

    def _ensure_submission(self, assignment: Assignment, student_id: int) -> Submission:
        key = (assignment.id, student_id)
        submission = self._submission_by_student.get(key)
        if submission is None:
            submission = Submission(
                id=self._allocate("submission"),
                assignment_id=assignment.id,
                user_id=student_id,
                anonymous_id=self._anonymous_id(
                    f"submission/{assignment.id}/{student_id}",
                    self._submission_anonymous_ids[assignment.id],
                ),
                updated_at=assignment.created_at,
            )
            self.submissions[submission.id] = submission
            self._submission_by_student[key] = submission
            self._submission_by_anonymous_id[(assignment.id, submission.anonymous_id)] = submission
            self._submissions_by_assignment[assignment.id].append(submission)
        if assignment.moderated_grading and key not in self.selections:
            # Modern Canvas puts every student in the moderation set (lib/moderation.rb).
            self.add_selection(assignment.id, student_id)
        return submission

    def submission_for(self, assignment_id: int, student_id: int) -> Submission | None:
        return self._submission_by_student.get((assignment_id, student_id))

    def submission_by_anonymous_id(
        self, assignment_id: int, anonymous_id: str
    ) -> Submission | None:
        return self._submission_by_anonymous_id.get((assignment_id, anonymous_id))

    def assignment_submissions(self, assignment_id: int) -> list[Submission]:
        return self._submissions_by_assignment.get(assignment_id, [])

    def submit(self, submission: Submission, *, at: datetime, attempt: int | None = None) -> None:
        """The student hands in (or hands in again, which makes earlier grades stale)."""
        submission.submitted_at = at
        submission.attempt = attempt if attempt is not None else (submission.attempt or 0) + 1
        submission.submission_type = "online_text_entry"
        if submission.workflow_state in ("unsubmitted", "graded"):
            submission.workflow_state = "submitted"
        submission.updated_at = max(submission.updated_at, at)

    # -- provisional grades ---------------------------------------------------------------

    def grades_of(self, submission: Submission) -> list[ProvisionalGrade]:
        """The submission's provisional grades, oldest id first."""
        return self._grades_by_submission.get(submission.id, [])

    def grade_of(
        self, submission: Submission, scorer_id: int, *, final: bool
    ) -> ProvisionalGrade | None:
        """The scorer's own grade, or the submission's one final grade (whoever gave it)."""
        for grade in self.grades_of(submission):
            if grade.final == final and (final or grade.scorer_id == scorer_id):
                return grade
        return None

    def add_provisional_grade(
        self,
        submission: Submission,
        scorer_id: int,
        *,
        score: float | None,
        grade: str | None,
        graded_at: datetime | None,
        created_at: datetime | None = None,
        final: bool = False,
        comments: Iterable[tuple[str, datetime]] = (),
    ) -> ProvisionalGrade:
        assignment = self.assignments[submission.assignment_id]
        # A moderator's final ("custom") grade adjudicates; it does not take a grader slot.
        self.ensure_moderation_grader(assignment, scorer_id, occupy_slot=not final)
        created = created_at or graded_at or self.clock()
        provisional_grade = ProvisionalGrade(
            id=self._allocate("provisional_grade"),
            submission_id=submission.id,
            scorer_id=scorer_id,
            grade=grade,
            score=score,
            graded_at=graded_at,
            created_at=created,
            final=final,
        )
        for text, at in comments:
            provisional_grade.comments.append(
                ProvisionalComment(
                    id=self._allocate("comment"), author_id=scorer_id, comment=text, created_at=at
                )
            )
        self.provisional_grades[provisional_grade.id] = provisional_grade
        self._grades_by_submission[submission.id].append(provisional_grade)
        submission.updated_at = max(submission.updated_at, created)
        return provisional_grade

    def ensure_moderation_grader(
        self, assignment: Assignment, user_id: int, *, occupy_slot: bool = True
    ) -> ModerationGrader:
        """Grading provisionally takes a grader slot (AA#ensure_grader_can_adjudicate)."""
        key = (assignment.id, user_id)
        grader = self.moderation_graders.get(key)
        if grader is None:
            grader = ModerationGrader(
                id=self._allocate("moderation_grader"),
                assignment_id=assignment.id,
                user_id=user_id,
                anonymous_id=self._anonymous_id(
                    f"grader/{assignment.id}/{user_id}", self._grader_anonymous_ids[assignment.id]
                ),
                slot_taken=occupy_slot,
            )
            self.moderation_graders[key] = grader
        elif occupy_slot:
            grader.slot_taken = True
        return grader

    def selection_for(self, assignment_id: int, student_id: int) -> Selection | None:
        return self.selections.get((assignment_id, student_id))

    def add_selection(self, assignment_id: int, student_id: int) -> Selection:
        """Put a student in the moderation set (POST moderated_students)."""
        selection = Selection(
            id=self._allocate("selection"), assignment_id=assignment_id, student_id=student_id
        )
        self.selections[(assignment_id, student_id)] = selection
        return selection

    def remove_selection(self, assignment_id: int, student_id: int) -> None:
        """Take a student out of the moderation set. Modern Canvas never does; older Canvas
        did, and its answers for such students ("student not in moderation set") live on."""
        with self.lock:
            self.selections.pop((assignment_id, student_id), None)

    def selected_grade(self, submission: Submission) -> ProvisionalGrade | None:
        """The selected provisional grade, if the selection points at one of this
        submission's grades (Canvas: `provisional_grades.find(&:selection)`)."""
        selection = self.selection_for(submission.assignment_id, submission.user_id)
        if selection is None or selection.selected_provisional_grade_id is None:
            return None
        chosen = self.provisional_grades.get(selection.selected_provisional_grade_id)
        if chosen is None or chosen.submission_id != submission.id:
            return None
        return chosen

    def select(
        self, provisional_grade: ProvisionalGrade, *, at: datetime | None = None
    ) -> Selection | None:
        """Point the student's selection at `provisional_grade`; None if they have no
        selection row. Touches the submission, as Canvas does."""
        submission = self.submissions[provisional_grade.submission_id]
        selection = self.selection_for(submission.assignment_id, submission.user_id)
        if selection is None:
            return None
        selection.selected_provisional_grade_id = provisional_grade.id
        submission.updated_at = max(submission.updated_at, at or self.clock())
        return selection
