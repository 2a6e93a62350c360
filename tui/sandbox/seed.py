"""The demo Canvas: a course whose moderation tells a story, and a big course for scale.

ENG 210 ("Argument & Evidence", 24 students) is mid-moderation. Mira Okafor is the final
grader of every moderated assignment in it; Jonas Weber (teacher), Priya Raman and Tomás
Lindqvist (TAs) are the graders.

- Essay 2 (points, 3 graders, names visible): seven students already have a selected grade
  (one of them Mira's own custom grade); six have grades that agree but none selected; nine
  have graders who disagree, one of them resubmitted after Jonas graded; Ken Thompson has a
  single grade and Radia Perlman none. Releasing it is refused until the fifteen unresolved
  students are settled.
- Lab Report 3 (letter grades, 2 graders whose names are hidden from the final grader).
- Reflection Journal (anonymous grading: students appear as "Student N").
- Reading Quiz 4 (not moderated), Essay 1 (moderated, already released) and Presentation
  Outline (moderated, every student resolved: releasing it succeeds).

BIO 101 has 2,500 students graded by the same three graders, for pagination and speed.
Everything is deterministic: fixed ids, fixed timestamps, no randomness.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tui.sandbox.grades import LETTER_SCHEME, format_grade
from tui.sandbox.grading import publish
from tui.sandbox.state import Assignment, ProvisionalGrade, SandboxState, Submission

__all__ = ["DEMO", "DemoIds", "build_moderated_course", "demo_state"]


@dataclass(frozen=True)
class DemoIds:
    """Well-known ids and tokens of the demo seed."""

    final_grader_token: str
    grader_token: str
    ta_token: str
    admin_token: str
    student_token: str
    final_grader_id: int
    grader_id: int  # Jonas Weber: a teacher who grades but is not the final grader
    ta_id: int  # Priya Raman
    second_ta_id: int  # Tomás Lindqvist
    admin_id: int  # account admin with "Select Final Grade for Moderation"
    student_id: int
    course_id: int
    essay_id: int
    lab_id: int
    anonymous_id: int
    plain_id: int
    released_id: int
    ready_id: int
    big_course_id: int
    big_assignment_id: int
    big_course_students: int
    # Essay 2 students worth naming in a test or a demo script.
    resubmitted_student_id: int  # Jonas's grade predates the resubmission
    custom_grade_student_id: int  # Mira's custom (final) grade is the selected one
    ungraded_student_id: int  # no provisional grade at all
    single_grade_student_id: int  # exactly one grade: publishing takes it as is


DEMO = DemoIds(
    final_grader_token="7~demo-final-grader-mira-okafor",
    grader_token="7~demo-grader-jonas-weber",
    ta_token="7~demo-ta-priya-raman",
    admin_token="7~demo-admin-sam-whitaker",
    student_token="7~demo-student-ada-lovelace",
    final_grader_id=1101,
    grader_id=1102,
    ta_id=1103,
    second_ta_id=1104,
    admin_id=1001,
    student_id=5301,
    course_id=42,
    essay_id=861,
    lab_id=862,
    anonymous_id=863,
    plain_id=864,
    released_id=865,
    ready_id=866,
    big_course_id=43,
    big_assignment_id=870,
    big_course_students=2500,
    resubmitted_student_id=5307,
    custom_grade_student_id=5305,
    ungraded_student_id=5311,
    single_grade_student_id=5312,
)

_TERM_START = datetime(2025, 1, 13, 9, 0, tzinfo=UTC)
_TERM_END = datetime(2025, 5, 30, 17, 0, tzinfo=UTC)
_ACCOUNTS_CREATED = datetime(2024, 8, 20, 9, 0, tzinfo=UTC)


def _march(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


# --- people -------------------------------------------------------------------------------

# (id, name, token, sortable name or None to derive it)
_STAFF = (
    (DEMO.admin_id, "Sam Whitaker", DEMO.admin_token),
    (DEMO.final_grader_id, "Mira Okafor", DEMO.final_grader_token),
    (DEMO.grader_id, "Jonas Weber", DEMO.grader_token),
    (DEMO.ta_id, "Priya Raman", DEMO.ta_token),
    (DEMO.second_ta_id, "Tomás Lindqvist", None),
)
_GRADERS = (DEMO.grader_id, DEMO.ta_id, DEMO.second_ta_id)

# Names a terminal has to get right: accents, apostrophes, and square brackets that a
# markup-aware widget would swallow if nobody escaped them.
_STUDENTS: tuple[tuple[str, str | None], ...] = (
    ("Ada Lovelace", None),
    ("Alan Turing", None),
    ("Grace Hopper", None),
    ("Katherine Johnson", None),
    ("Edsger Dijkstra", None),
    ("Barbara Liskov", None),
    ("Zoë [resit] Ångström", "Ångström, Zoë [resit]"),
    ("Donald Knuth", None),
    ("Margaret Hamilton", None),
    ("Ñoño O'Brien", None),
    ("Radia Perlman", None),
    ("Ken Thompson", None),
    ("Frances Allen", None),
    ("Smith [/x]", "Smith [/x]"),
    ("Hedy Lamarr", None),
    ("Claude Shannon", None),
    ("Shafi Goldwasser", None),
    ("Leslie Lamport", None),
    ("Kateryna Yushchenko", None),
    ("Yukihiro Matsumoto", None),
    ("Siobhán Ní Bhriain", "Ní Bhriain, Siobhán"),
    ("José Ángel Núñez", "Núñez, José Ángel"),
    ("Chidi Okonkwo", None),
    ("Mei-Ling Chen", None),
)
_FIRST_STUDENT_ID = DEMO.student_id


def _ensure_staff(state: SandboxState) -> None:
    """The demo's staff and admin, once per state (build_moderated_course needs them too)."""
    for user_id, name, token in _STAFF:
        if user_id not in state.users:
            state.add_user(name, user_id=user_id, token=token, created_at=_ACCOUNTS_CREATED)
    state.make_account_admin(DEMO.admin_id, select_final_grade=True)


def _add_students(
    state: SandboxState, course_id: int, names: Sequence[tuple[str, str | None]], first_id: int
) -> list[int]:
    ids = []
    for offset, (name, sortable_name) in enumerate(names):
        user = state.add_user(
            name,
            sortable_name=sortable_name,
            user_id=first_id + offset,
            created_at=_ACCOUNTS_CREATED + timedelta(minutes=offset),
        )
        ids.append(user.id)
    state.enroll_students(course_id, ids)
    return ids


# --- grading helpers ----------------------------------------------------------------------


# One student's row: the score each grader gave (None: did not grade), whose grade is
# selected (a grader's id, "final" for the custom grade, None for nothing), and comments.
@dataclass(frozen=True)
class _Row:
    scores: tuple[float | str | None, ...]
    selected: int | str | None = None
    custom: float | None = None
    comments: dict[int, str] | None = None


def _grade(
    state: SandboxState,
    assignment: Assignment,
    submission: Submission,
    scorer_id: int,
    value: float | str,
    graded_at: datetime,
    comment: str | None = None,
    *,
    final: bool = False,
) -> ProvisionalGrade:
    if isinstance(value, str):  # a letter
        percent = dict(LETTER_SCHEME)[value]
        score = assignment.points_possible * percent / 100.0
    else:
        score = float(value)
    grade = format_grade(score, assignment.grading_type, assignment.points_possible)
    comments = [(comment, graded_at)] if comment else []
    return state.add_provisional_grade(
        submission,
        scorer_id,
        score=score,
        grade=grade,
        graded_at=graded_at,
        final=final,
        comments=comments,
    )


def _apply_rows(
    state: SandboxState,
    assignment: Assignment,
    graders: Sequence[int],
    rows: Sequence[tuple[int, _Row]],
    first_graded: datetime,
) -> None:
    """Grade every student as the rows say. Grader k grades on day k of the marking
    period, students in order, a few minutes apart: timestamps are all fixed."""
    for position, (student_id, row) in enumerate(rows):
        submission = state.submission_for(assignment.id, student_id)
        assert submission is not None
        by_grader = {}
        for k, (grader_id, value) in enumerate(zip(graders, row.scores, strict=False)):
            if value is None:
                continue
            graded_at = first_graded + timedelta(days=k, minutes=7 * position)
            comment = (row.comments or {}).get(grader_id)
            by_grader[grader_id] = _grade(
                state, assignment, submission, grader_id, value, graded_at, comment
            )
        chosen = by_grader.get(row.selected) if isinstance(row.selected, int) else None
        if row.custom is not None:
            custom_at = first_graded + timedelta(days=len(graders) + 1, minutes=position)
            custom = _grade(
                state,
                assignment,
                submission,
                assignment.final_grader_id or DEMO.final_grader_id,
                row.custom,
                custom_at,
                "Read all three reports; settled on 7 after a second reading.",
                final=True,
            )
            if row.selected == "final":
                chosen = custom
        if chosen is not None:
            state.select(chosen, at=chosen.graded_at)


def _submit_all(
    state: SandboxState,
    assignment: Assignment,
    student_ids: Sequence[int],
    first: datetime,
    *,
    skip: Sequence[int] = (),
) -> None:
    for position, student_id in enumerate(student_ids):
        if student_id in skip:
            continue
        submission = state.submission_for(assignment.id, student_id)
        assert submission is not None
        state.submit(submission, at=first + timedelta(minutes=11 * position))


# --- the main course ----------------------------------------------------------------------

J, P, T = DEMO.grader_id, DEMO.ta_id, DEMO.second_ta_id

# Essay 2, in student order (ids 5301…5324). Scores by (Jonas, Priya, Tomás).
_ESSAY_ROWS = (
    _Row((8, 8, 8)),  # Ada: agree, not yet selected
    _Row((7, 7, 7), selected=J),  # Alan
    _Row(
        (6, 9, 7),
        comments={
            J: "Thesis only becomes clear on page 2.",
            P: "Strong thesis; the evidence in section 3 is thin but well argued.",
        },
    ),  # Grace: disagree
    _Row((9, 9, 9), selected=P),  # Katherine
    _Row((5, 8, 6), selected="final", custom=7),  # Edsger: Mira's custom grade
    _Row((8, 8.5, 8)),  # Barbara: half a point apart
    _Row((6, 8, 8), comments={J: "Graded the first draft."}),  # Zoë: resubmitted after Jonas
    _Row(
        (4, 8, 5),
        comments={P: "Ambitious; I read the counter-argument as deliberate.", T: "Off-brief."},
    ),  # Donald: far apart
    _Row((10, 10, 10)),  # Margaret
    _Row((7, 6, 7), selected=T),  # Ñoño
    _Row((None, None, None)),  # Radia: did not submit, nobody graded
    _Row((None, 9, None)),  # Ken: a single grade
    _Row((8, None, 8)),  # Frances: two graders, agreeing
    _Row((3, 7, 6), comments={J: "Plagiarism check flagged two paragraphs; see report."}),
    _Row((8, 8, 8), selected=J),  # Hedy
    _Row((6, 6, 6)),  # Claude
    _Row((9, 7, 8), selected=T),  # Shafi
    _Row((7, 7, 7)),  # Leslie
    _Row((5, 5, 6)),  # Kateryna
    _Row((8, 9, None)),  # Yukihiro: two graders, apart
    _Row((9, 9, 9)),  # Siobhán
    _Row((7, 8, 7)),  # José
    _Row((6, 6, 6), selected=J),  # Chidi
    _Row((10, 9, 10)),  # Mei-Ling
)

# Lab Report 3, letter grades by (Priya, Tomás); every third student already selected.
_LAB_PATTERN = (
    ("B+", "B+"),
    ("A-", "B+"),
    ("B", "B"),
    ("A", "A-"),
    ("C+", "B-"),
    ("B+", "B+"),
    ("A-", "A-"),
    ("B-", "C+"),
)

# Reflection Journal (anonymous students), scores by (Jonas, Priya).
_JOURNAL_PATTERN = ((8, 8), (7, 9), (6, 6), (9, 8), (10, 10), (5, 7))


def _build_main_course(state: SandboxState) -> None:
    course = state.add_course(
        "ENG 210: Argument & Evidence",
        "ENG 210",
        course_id=DEMO.course_id,
        created_at=_TERM_START - timedelta(days=30),
        start_at=_TERM_START,
        end_at=_TERM_END,
    )
    state.enroll(course.id, DEMO.final_grader_id, "teacher")
    state.enroll(course.id, DEMO.grader_id, "teacher")
    state.enroll(course.id, DEMO.ta_id, "ta")
    state.enroll(course.id, DEMO.second_ta_id, "ta")
    students = _add_students(state, course.id, _STUDENTS, _FIRST_STUDENT_ID)
    state.issue_token(DEMO.student_id, DEMO.student_token)

    created = _TERM_START + timedelta(days=7)
    moderated = {"moderated_grading": True, "final_grader_id": DEMO.final_grader_id}

    # Essay 1, released a month ago: every grade selected and copied to the gradebook.
    released = state.add_assignment(
        course.id,
        "Essay 1: Close Reading",
        points_possible=10,
        assignment_id=DEMO.released_id,
        created_at=created,
        due_at=datetime(2025, 2, 3, 23, 59, tzinfo=UTC),
        grader_count=2,
        **moderated,
    )
    _submit_all(state, released, students, datetime(2025, 2, 2, 18, 0, tzinfo=UTC))
    rows = [(sid, _Row((6 + i % 5, 6 + (i + 1) % 5), selected=J)) for i, sid in enumerate(students)]
    _apply_rows(state, released, (J, T), rows, datetime(2025, 2, 5, 9, 0, tzinfo=UTC))
    _release(state, released, datetime(2025, 2, 20, 16, 30, tzinfo=UTC))

    essay = state.add_assignment(
        course.id,
        "Essay 2: Argument & Evidence",
        points_possible=10,
        assignment_id=DEMO.essay_id,
        created_at=created,
        due_at=_march(3, 23, 59),
        grader_count=3,
        **moderated,
    )
    _submit_all(state, essay, students, _march(2, 18), skip=[DEMO.ungraded_student_id])
    _apply_rows(state, essay, _GRADERS, list(zip(students, _ESSAY_ROWS, strict=True)), _march(5, 9))
    # Zoë hands in a revised essay after Jonas graded her first draft (but before the others).
    resubmitted = state.submission_for(essay.id, DEMO.resubmitted_student_id)
    assert resubmitted is not None
    state.submit(resubmitted, at=_march(5, 21, 14))

    lab = state.add_assignment(
        course.id,
        "Lab Report 3: Titration",
        points_possible=100,
        grading_type="letter_grade",
        assignment_id=DEMO.lab_id,
        created_at=created,
        due_at=_march(10, 23, 59),
        grader_count=2,
        grader_names_visible_to_final_grader=False,
        **moderated,
    )
    _submit_all(state, lab, students, _march(9, 15))
    rows = []
    for i, sid in enumerate(students):
        priya, tomas = _LAB_PATTERN[i % len(_LAB_PATTERN)]
        if sid == DEMO.single_grade_student_id:
            tomas = None
        rows.append((sid, _Row((priya, tomas), selected=P if i % 3 == 0 else None)))
    _apply_rows(state, lab, (P, T), rows, _march(12, 10))

    journal = state.add_assignment(
        course.id,
        "Reflection Journal (anonymous)",
        points_possible=10,
        assignment_id=DEMO.anonymous_id,
        created_at=created,
        due_at=_march(14, 23, 59),
        grader_count=2,
        anonymous_grading=True,
        **moderated,
    )
    _submit_all(state, journal, students, _march(14, 12))
    rows = [
        (sid, _Row(_JOURNAL_PATTERN[i % len(_JOURNAL_PATTERN)], selected=J if i % 4 == 1 else None))
        for i, sid in enumerate(students)
    ]
    _apply_rows(state, journal, (J, P), rows, _march(17, 9))

    quiz = state.add_assignment(
        course.id,
        "Reading Quiz 4",
        points_possible=5,
        assignment_id=DEMO.plain_id,
        created_at=created,
        due_at=_march(18, 9),
        submission_types=("online_quiz",),
    )
    _submit_all(state, quiz, students, _march(18, 8))
    for i, sid in enumerate(students):
        submission = state.submission_for(quiz.id, sid)
        assert submission is not None
        submission.score = float(5 - i % 4)
        submission.grade = format_grade(submission.score, "points", 5)
        submission.grader_id, submission.graded_at = J, _march(18, 12, i)
        submission.workflow_state = "graded"

    # Presentation Outline: nothing left to decide, so releasing it succeeds.
    ready = state.add_assignment(
        course.id,
        "Presentation Outline",
        points_possible=20,
        assignment_id=DEMO.ready_id,
        created_at=created,
        due_at=_march(20, 23, 59),
        grader_count=2,
        **moderated,
    )
    _submit_all(state, ready, students, _march(20, 10), skip=[DEMO.ungraded_student_id])
    rows = []
    for i, sid in enumerate(students):
        if sid == DEMO.ungraded_student_id:
            rows.append((sid, _Row((None, None))))
        elif i % 5 == 2:
            rows.append((sid, _Row((None, 14 + i % 6))))  # single grade: publish takes it
        else:
            rows.append((sid, _Row((14 + i % 6, 13 + i % 7), selected=P if i % 2 else J)))
    _apply_rows(state, ready, (J, P), rows, _march(22, 9))


def _release(state: SandboxState, assignment: Assignment, at: datetime) -> None:
    """Publish with a fixed timestamp (the API's publish stamps the real time)."""
    if not publish(state, assignment, now=at):
        raise RuntimeError(f"the seed left {assignment.name!r} with undecided grades")


# --- courses of any size ------------------------------------------------------------------


def build_moderated_course(
    state: SandboxState,
    *,
    students: int,
    graders: int = 2,
    anonymous: bool = False,
    grader_names_visible: bool = True,
    name_prefix: str = "Student",
    course_id: int | None = None,
    assignment_id: int | None = None,
) -> tuple[int, int]:
    """Add a course with one moderated assignment whose final grader is DEMO's final grader;
    returns (course_id, assignment_id). Every student handed in; graders agree on two
    students in three; every fourth student already has a selected grade; every tenth was
    graded by the first grader only. Deterministic, and fast enough for 10,000 students."""
    if students < 0 or graders < 1:
        raise ValueError("students must be >= 0 and graders >= 1")
    _ensure_staff(state)
    first_id = max(state.users) + 1
    course = state.add_course(
        f"Moderation at scale ({students:,} students)",
        f"SCALE {students}",
        course_id=course_id,
        created_at=_TERM_START,
        start_at=_TERM_START,
        end_at=_TERM_END,
    )
    state.enroll(course.id, DEMO.final_grader_id, "teacher")
    grader_ids = list(_GRADERS[:graders])
    for n in range(len(grader_ids), graders):
        extra = state.add_user(f"Grader {n + 1}", created_at=_ACCOUNTS_CREATED)
        grader_ids.append(extra.id)
    for position, grader_id in enumerate(grader_ids):
        state.enroll(course.id, grader_id, "teacher" if position == 0 else "ta")

    assignment = state.add_assignment(
        course.id,
        "Midterm Essay",
        points_possible=20,
        assignment_id=assignment_id,
        created_at=_TERM_START,
        due_at=_march(3, 23, 59),
        moderated_grading=True,
        final_grader_id=DEMO.final_grader_id,
        grader_count=graders,
        anonymous_grading=anonymous,
        grader_names_visible_to_final_grader=grader_names_visible,
    )
    width = len(str(students))
    names = [(f"{name_prefix} {n:0{width}d}", None) for n in range(1, students + 1)]
    for offset, (name, _) in enumerate(names):
        state.add_user(
            name, sortable_name=name, user_id=first_id + offset, created_at=_ACCOUNTS_CREATED
        )
    student_ids = list(range(first_id, first_id + students))
    state.enroll_students(course.id, student_ids)

    graded_at = _march(5, 9)
    for i, student_id in enumerate(student_ids):
        submission = state.submission_for(assignment.id, student_id)
        assert submission is not None
        state.submit(submission, at=_march(3, 12))
        base = 8 + (i * 7) % 11
        scorers = grader_ids[:1] if i % 10 == 9 else grader_ids
        first = None
        for k, grader_id in enumerate(scorers):
            score = float(base if i % 3 else min(20, base + k * 2))
            grade = state.add_provisional_grade(
                submission,
                grader_id,
                score=score,
                grade=format_grade(score, "points", 20),
                graded_at=graded_at + timedelta(days=k, seconds=i),
            )
            first = first or grade
        if i % 4 == 0 and first is not None:
            state.select(first, at=first.graded_at)
    return course.id, assignment.id


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Tens of thousands of small acyclic records: the cycle collector would only rescan
    them over and over while they are made, so pause it (a third of the build time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def demo_state() -> SandboxState:
    """A fresh copy of the demo Canvas (see the module docstring for the story)."""
    state = SandboxState()
    with _collector_paused():
        _ensure_staff(state)
        _build_main_course(state)
        build_moderated_course(
            state,
            students=DEMO.big_course_students,
            graders=3,
            course_id=DEMO.big_course_id,
            assignment_id=DEMO.big_assignment_id,
        )
    big = state.courses[DEMO.big_course_id]
    big.name, big.course_code = "BIO 101: Foundations of Biology (all sections)", "BIO 101"
    return state
