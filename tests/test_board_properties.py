"""Properties of the board that must hold for any course Canvas can send.

Pages arrive in any split and students in any order; the grid must not reorder, duplicate or
renumber anything because of that, and its counts must always agree with its rows.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.board import Board, BoardCounts, StudentStatus, build_board
from tui.canvas.models import Assignment, GradeableStudent, ProvisionalGrade, Selection, User

ASSIGNMENT = Assignment(
    id=867,
    course_id=42,
    name="Essay",
    points_possible=10.0,
    moderated_grading=True,
    grader_count=3,
    final_grader_id=900,
)
NAMED_GRADERS = (User(1, "Betty Ford"), User(2, "ada Lovelace"), User(3, "Ángel Ruiz"))
GRADED_AT = datetime(2024, 3, 5, tzinfo=UTC)

anonymous_grader_ids = st.text(alphabet="aAbB09xZ", min_size=1, max_size=4)
scores = st.sampled_from([0.0, 5.0, 7.5, 8.0, 10.0])


@st.composite
def courses(draw, *, unique_students: bool = False) -> list[GradeableStudent]:
    """Students as gradeable_students sends them, graded by named or by hidden graders."""
    hidden = draw(st.booleans())
    if hidden:
        pool = draw(st.lists(anonymous_grader_ids, min_size=1, max_size=5, unique=True))
    else:
        pool = [user.id for user in NAMED_GRADERS] + [77]  # 77: a grader Canvas did not list
    user_ids = draw(st.lists(st.integers(1, 40), max_size=30, unique=unique_students))
    pg_ids = itertools.count(1)
    students = []
    for user_id in user_ids:
        grades = []
        for grader in draw(st.lists(st.sampled_from(pool), unique=True, max_size=len(pool))):
            graded = draw(st.integers(0, 3)) > 0  # mostly graded, sometimes comment-only
            score = draw(scores) if graded else None
            grades.append(
                ProvisionalGrade(
                    id=next(pg_ids),
                    grade=None if score is None else f"{score:g}",
                    score=score,
                    scorer_id=None if hidden else grader,
                    anonymous_grader_id=grader if hidden else None,
                    graded_at=GRADED_AT if graded else None,
                )
            )
        if grades and draw(st.booleans()):
            score = draw(scores)
            grades.append(
                ProvisionalGrade(
                    id=next(pg_ids),
                    grade=f"{score:g}",
                    score=score,
                    final=True,
                    scorer_id=900,
                    graded_at=GRADED_AT,
                )
            )
        choices = [None, 99_999] + [grade.id for grade in grades]  # 99_999: a stale selection
        students.append(
            GradeableStudent(
                display_name=draw(st.sampled_from(["Ada", "Zoë [resit] Ångström", "Smith [/x]"])),
                user_id=user_id,
                selected_provisional_grade_id=draw(st.sampled_from(choices)),
                provisional_grades=tuple(grades),
            )
        )
    return students


def counted(board: Board) -> BoardCounts:
    """The counts, recomputed from the rows the slow way."""
    statuses = [row.status for row in board.rows]
    disagreements = sum(
        (row.spread > board.disagreement_threshold)
        if row.spread is not None
        else row.agreement is False
        for row in board.rows
    )
    return BoardCounts(
        total=len(statuses),
        selected=statuses.count(StudentStatus.SELECTED),
        needs_choice=statuses.count(StudentStatus.NEEDS_CHOICE),
        single=statuses.count(StudentStatus.SINGLE),
        no_grade=statuses.count(StudentStatus.NO_GRADE),
        disagreements=disagreements,
    )


def build(students) -> Board:
    return build_board(ASSIGNMENT, students, NAMED_GRADERS, me=NAMED_GRADERS[0])


@given(courses(unique_students=True), st.randoms(use_true_random=False))
def test_grader_columns_do_not_depend_on_the_order_students_arrive_in(students, random):
    shuffled = list(students)
    random.shuffle(shuffled)
    assert build(shuffled).graders == build(students).graders


@given(courses(), st.data())
def test_pages_in_any_split_give_the_board_loaded_at_once(students, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(students)), max_size=6)))
    pages = [students[a:b] for a, b in itertools.pairwise([0, *cuts, len(students)])]

    board = build([])
    for page in pages:
        board = board.with_students(page)
    at_once = build(students)

    assert board == at_once
    assert board.counts == at_once.counts == counted(board)
    assert all(board.index(row.key) == i for i, row in enumerate(board.rows))


@given(courses())
def test_rows_keep_canvas_order_without_duplicates(students):
    board = build(students)
    first_seen = list(dict.fromkeys(student.key for student in students))
    assert [row.key for row in board.rows] == first_seen


@given(courses())
def test_hidden_graders_are_numbered_one_to_n_in_anonymous_id_order(students):
    board = build(students)
    hidden = [column for column in board.graders if column.anonymous_grader_id is not None]
    assert [column.label for column in hidden] == [f"Grader {n}" for n in range(1, len(hidden) + 1)]
    ids = [column.anonymous_grader_id for column in hidden]
    assert ids == sorted(ids)
    graded_keys = {key for row in board.rows for key in row.grades}
    assert {column.key for column in board.graders} == graded_keys


@given(courses())
def test_publish_plan_accounts_for_every_student(students):
    board = build(students)
    plan = board.publish_plan
    assert plan.selected + plan.single + plan.no_grade + len(plan.blocking) == len(board.rows)
    assert board.counts == counted(board)


@given(courses())
def test_can_publish_exactly_when_nobody_needs_a_choice(students):
    board = build(students)
    needs_choice = [row for row in board.rows if row.status is StudentStatus.NEEDS_CHOICE]
    assert board.can_publish is (not needs_choice)
    assert list(board.blocking_rows) == needs_choice
    for row in board.rows:
        # Whatever Moderate lets through, Canvas's publish has a grade to give (or no grade
        # at all for a student without grades): it would not answer 422.
        if row.status is not StudentStatus.NEEDS_CHOICE and row.student.provisional_grades:
            assert row.publish_grade is not None


@settings(max_examples=60)
@given(courses(), st.data())
def test_selections_give_the_board_canvas_would_send_afterwards(students, data):
    board = build(students)
    all_grades = [
        (student.user_id, grade.id) for student in students for grade in student.provisional_grades
    ]
    chosen = data.draw(st.lists(st.sampled_from(all_grades), max_size=10)) if all_grades else []
    selections = [Selection(ASSIGNMENT.id, pg_id, student_id=user_id) for user_id, pg_id in chosen]

    after = board.with_selections(selections)

    latest = dict(chosen)  # the later answer for a student wins
    reloaded = build(
        [
            GradeableStudent(
                display_name=s.display_name,
                user_id=s.user_id,
                selected_provisional_grade_id=latest.get(
                    s.user_id, s.selected_provisional_grade_id
                ),
                provisional_grades=s.provisional_grades,
            )
            for s in students
        ]
    )
    assert [(r.key, r.selected_id, r.status) for r in after.rows] == [
        (r.key, r.selected_id, r.status) for r in reloaded.rows
    ]
    assert after.counts == reloaded.counts == counted(after)
    assert set(after.changed_since(board)) == {
        row.key for row in after.rows if row.selected_id != board.row(row.key).selected_id
    }
