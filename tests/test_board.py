"""The board: every decision the desk takes from what Canvas sent, on hand-built models.

The models are shaped like Canvas's JSON (reference §1.8); the rules checked are Canvas's (§1.6
publish, §1.10 grader numbering, §3.3 "Accept")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tui.board import (
    Board,
    BoardCounts,
    StudentStatus,
    board_to_csv_rows,
    board_to_json,
    build_board,
    format_grade,
)
from tui.canvas.models import Assignment, GradeableStudent, ProvisionalGrade, Selection, User

GRADED_AT = datetime(2024, 3, 5, 17, 21, 9, tzinfo=UTC)
ASSIGNMENT_ID = 867

BETTY = User(1102, "Betty Ford")
ADA = User(1103, "ada Lovelace")  # lower-case on purpose: columns sort case-blind
FINAL = User(1105, "Frances Final")  # the final grader


def assignment(**changes) -> Assignment:
    fields = {
        "id": ASSIGNMENT_ID,
        "course_id": 42,
        "name": "Essay 1",
        "points_possible": 10.0,
        "grading_type": "points",
        "moderated_grading": True,
        "grader_count": 2,
        "final_grader_id": FINAL.id,
    }
    fields.update(changes)
    return Assignment(**fields)


def pg(
    pg_id: int,
    score: float | None = None,
    *,
    grader: int | None = BETTY.id,
    anonymous_grader: str | None = None,
    grade: str | None = None,
    final: bool = False,
    graded_at: datetime | None = None,
    resubmitted: bool = False,
) -> ProvisionalGrade:
    """A graded provisional grade (grade text from the score unless given); with neither a
    score nor a grade it is comment-only, as Canvas sends one (no grade, no graded_at)."""
    if grade is None and score is not None:
        grade = f"{score:g}"
    has_grade = grade is not None or score is not None
    return ProvisionalGrade(
        id=pg_id,
        grade=grade,
        score=score,
        final=final,
        scorer_id=None if anonymous_grader is not None else grader,
        anonymous_grader_id=anonymous_grader,
        graded_at=graded_at if graded_at is not None else (GRADED_AT if has_grade else None),
        grade_matches_current_submission=not resubmitted,
    )


def comment_only(pg_id: int, *, grader: int = BETTY.id) -> ProvisionalGrade:
    return pg(pg_id, None, grader=grader)


def custom(pg_id: int, score: float) -> ProvisionalGrade:
    return pg(pg_id, score, grader=FINAL.id, final=True)


def student(
    user_id: int, name: str, *grades: ProvisionalGrade, selected: int | None = None
) -> GradeableStudent:
    return GradeableStudent(
        display_name=name,
        user_id=user_id,
        anonymous_id=f"{user_id:x}",  # Canvas: the user id in base 36, not a submission's
        in_moderation_set=selected is not None,
        selected_provisional_grade_id=selected,
        provisional_grades=tuple(grades),
    )


def anonymous_student(
    anonymous_id: str, display_name: str, *grades: ProvisionalGrade, selected: int | None = None
) -> GradeableStudent:
    return GradeableStudent(
        display_name=display_name,
        anonymous_id=anonymous_id,
        selected_provisional_grade_id=selected,
        provisional_grades=tuple(grades),
    )


def selection(user_id: int, pg_id: int, *, assignment_id: int = ASSIGNMENT_ID) -> Selection:
    return Selection(
        assignment_id=assignment_id, selected_provisional_grade_id=pg_id, student_id=user_id
    )


def anonymous_selection(anonymous_id: str, pg_id: int) -> Selection:
    return Selection(
        assignment_id=ASSIGNMENT_ID, selected_provisional_grade_id=pg_id, anonymous_id=anonymous_id
    )


def board_of(*students: GradeableStudent, graders=(BETTY, ADA), **options) -> Board:
    return build_board(options.pop("assignment", assignment()), students, graders, **options)


# ----------------------------------------------------------------------------- statuses


def test_each_status_is_what_release_would_do():
    board = board_of(
        student(1, "Chosen", pg(11, 8, grader=BETTY.id), pg(12, 6, grader=ADA.id), selected=12),
        student(2, "Undecided", pg(21, 8, grader=BETTY.id), pg(22, 6, grader=ADA.id)),
        student(3, "One grader", pg(31, 9, grader=BETTY.id)),
        student(4, "Ungraded"),
    )
    chosen, undecided, single, ungraded = board.rows

    assert chosen.status is StudentStatus.SELECTED
    assert chosen.selected.id == 12 and chosen.publish_grade.id == 12
    assert undecided.status is StudentStatus.NEEDS_CHOICE
    assert undecided.publish_grade is None  # Canvas would refuse the whole release (422)
    assert undecided.blocking_reason == "2 grades, none selected"
    assert single.status is StudentStatus.SINGLE and single.publish_grade.id == 31
    assert ungraded.status is StudentStatus.NO_GRADE and ungraded.publish_grade is None
    assert [row.blocking_reason for row in (chosen, single, ungraded)] == [None, None, None]
    assert StudentStatus.NEEDS_CHOICE.value == "needs a choice"
    assert StudentStatus.SINGLE.value == "single grade"


def test_three_grades_blocking_reason_counts_them():
    row = board_of(
        student(1, "A", pg(1, 5, grader=1), pg(2, 6, grader=2), pg(3, 7, grader=3))
    ).rows[0]
    assert row.blocking_reason == "3 grades, none selected"


def test_a_selected_id_that_is_none_of_the_students_grades_counts_as_unselected():
    board = board_of(
        student(1, "Stale", pg(11, 8, grader=BETTY.id), pg(12, 6, grader=ADA.id), selected=999),
        student(2, "Stale single", pg(21, 8, grader=BETTY.id), selected=998),
    )
    stale, stale_single = board.rows

    assert stale.selected is None and stale.selected_id == 999 and stale.stale_selection
    assert stale.status is StudentStatus.NEEDS_CHOICE
    assert stale.blocking_reason == "2 grades; the selected grade is none of them"
    assert stale_single.status is StudentStatus.SINGLE and stale_single.stale_selection
    assert not board.can_publish


# ------------------------------------------------------------------ publish choice (§1.6)


def test_publish_prefers_the_selected_grade_even_a_comment_only_one():
    row = board_of(student(1, "A", pg(11, 8), comment_only(12, grader=ADA.id), selected=12)).rows[0]
    assert row.status is StudentStatus.SELECTED
    assert row.publish_grade.id == 12


def test_publish_takes_the_only_graded_grade_over_comment_only_ones():
    row = board_of(student(1, "A", comment_only(11), pg(12, 7, grader=ADA.id))).rows[0]
    assert row.status is StudentStatus.SINGLE
    assert row.publish_grade.id == 12


def test_publish_falls_back_to_the_first_comment_only_grade():
    row = board_of(student(1, "A", comment_only(11), comment_only(12, grader=ADA.id))).rows[0]
    assert row.status is StudentStatus.NO_GRADE
    assert row.publish_grade.id == 11
    assert row.grades == {}  # comment-only grades are not grid cells, as on Canvas's page


def test_several_grades_and_a_comment_only_one_still_block_although_canvas_would_not():
    # Canvas would release the comment-only grade, i.e. no grade at all: Moderate refuses.
    row = board_of(
        student(1, "A", pg(11, 8), pg(12, 6, grader=ADA.id), comment_only(13, grader=7))
    ).rows[0]
    assert row.status is StudentStatus.NEEDS_CHOICE
    assert row.publish_grade.id == 13
    assert row.blocking_reason == "2 grades, none selected"


def test_a_timestamped_grade_without_a_value_counts_as_graded_like_canvas_does():
    cleared = ProvisionalGrade(id=12, grade=None, score=None, scorer_id=ADA.id, graded_at=GRADED_AT)
    row = board_of(student(1, "A", pg(11, 8), cleared)).rows[0]
    assert list(row.grades) == [f"user:{BETTY.id}"]
    assert row.status is StudentStatus.NEEDS_CHOICE


def test_a_grade_without_a_timestamp_is_still_a_grade():
    untimed = ProvisionalGrade(id=11, grade="8", score=8.0, scorer_id=BETTY.id)
    row = board_of(student(1, "A", untimed)).rows[0]
    assert row.status is StudentStatus.SINGLE and row.publish_grade is untimed


def test_publish_plan_counts_and_names_the_blocking_students():
    board = board_of(
        student(1, "Chosen", pg(11, 8), pg(12, 6, grader=ADA.id), selected=11),
        student(2, "Undecided", pg(21, 8), pg(22, 6, grader=ADA.id)),
        student(3, "Single", pg(31, 9)),
        student(4, "Ungraded"),
        student(5, "Also undecided", pg(51, 1), pg(52, 2, grader=ADA.id)),
    )
    plan = board.publish_plan

    assert (plan.selected, plan.single, plan.no_grade) == (1, 1, 1)
    assert [row.name for row in plan.blocking] == ["Undecided", "Also undecided"]
    assert board.blocking_rows == plan.blocking
    assert not board.can_publish and not plan.can_publish


def test_a_board_without_blocking_students_can_be_published():
    board = board_of(student(1, "Single", pg(11, 8)), student(2, "Ungraded"))
    assert board.can_publish
    assert board.blocking_rows == ()
    assert board.publish_plan.blocking == ()


# --------------------------------------------------------------- agreement and spread


def test_agreement_and_spread_compare_the_graders_scores():
    board = board_of(
        student(1, "Agree", pg(11, 8), pg(12, 8.0, grader=ADA.id)),
        student(2, "Disagree", pg(21, 9.5), pg(22, 6, grader=ADA.id)),
        student(3, "Alone", pg(31, 7)),
        student(4, "Nobody"),
        student(5, "Float noise", pg(51, 0.1 + 0.2), pg(52, 0.3, grader=ADA.id)),
    )
    agree, disagree, alone, nobody, noise = board.rows

    assert (agree.agreement, agree.spread) == (True, 0.0)
    assert (disagree.agreement, disagree.spread) == (False, 3.5)
    assert (alone.agreement, alone.spread) == (None, None)
    assert (nobody.agreement, nobody.spread) == (None, None)
    assert noise.agreement is True


def test_grades_without_scores_agree_by_their_grade_strings():
    pass_fail = assignment(grading_type="pass_fail")
    board = board_of(
        student(1, "Same", pg(11, grade="complete"), pg(12, grade="complete", grader=ADA.id)),
        student(2, "Differ", pg(21, grade="complete"), pg(22, grade="incomplete", grader=ADA.id)),
        assignment=pass_fail,
    )
    same, differ = board.rows
    assert (same.agreement, same.spread) == (True, None)
    assert (differ.agreement, differ.spread) == (False, None)
    assert board.counts.disagreements == 1


def test_the_custom_grade_is_not_compared_with_the_graders():
    row = board_of(student(1, "A", pg(11, 8), pg(12, 8, grader=ADA.id), custom(13, 2))).rows[0]
    assert (row.agreement, row.spread) == (True, 0.0)


def test_a_resubmission_after_grading_is_flagged():
    board = board_of(
        student(1, "Resubmitted", pg(11, 8), pg(12, 8, grader=ADA.id, resubmitted=True)),
        student(2, "Current", pg(21, 8)),
    )
    assert [row.resubmitted for row in board.rows] == [True, False]


# ------------------------------------------------------------------------- custom grade


def test_the_final_graders_custom_grade_is_its_own_cell_not_a_column():
    board = board_of(
        student(1, "A", pg(11, 8), pg(12, 6, grader=ADA.id), custom(13, 7), selected=13)
    )
    row = board.rows[0]
    assert row.custom.id == 13
    assert 13 not in {grade.id for grade in row.grades.values()}
    assert [c.label for c in board.graders] == ["ada Lovelace", "Betty Ford"]
    assert row.status is StudentStatus.SELECTED and row.publish_grade.id == 13


def test_an_unselected_custom_grade_is_one_more_grade_for_canvas():
    # One grader and a custom grade, nothing selected: Canvas sees two graded grades (422).
    row = board_of(student(1, "A", pg(11, 8), custom(12, 7))).rows[0]
    assert row.status is StudentStatus.NEEDS_CHOICE
    assert row.blocking_reason == "2 grades, none selected"


# --------------------------------------------------------------------------- columns


def test_named_columns_sort_case_blind_then_by_id_and_mark_me():
    stranger = 77
    twin_a, twin_b = User(2001, "Sam Twin"), User(2000, "sam twin")
    board = board_of(
        student(1, "A", pg(11, 1, grader=BETTY.id), pg(12, 2, grader=ADA.id)),
        student(2, "B", pg(21, 1, grader=stranger), pg(22, 2, grader=twin_a.id)),
        student(3, "C", pg(31, 1, grader=twin_b.id)),
        graders=(BETTY, ADA, twin_a, twin_b),
        me=BETTY,
    )
    assert [(c.label, c.user_id) for c in board.graders] == [
        ("ada Lovelace", ADA.id),
        ("Betty Ford", BETTY.id),
        ("sam twin", 2000),
        ("Sam Twin", 2001),
        ("User 77", 77),
    ]
    assert [c.is_me for c in board.graders] == [False, True, False, False, False]
    assert all(c.anonymous_grader_id is None for c in board.graders)


def test_my_own_name_labels_my_column_even_when_not_among_the_graders():
    board = board_of(student(1, "A", pg(11, 8, grader=FINAL.id)), graders=(), me=FINAL)
    assert [(c.label, c.is_me) for c in board.graders] == [("Frances Final", True)]


def test_comment_only_graders_get_no_column():
    board = board_of(student(1, "A", pg(11, 8), comment_only(12, grader=ADA.id)))
    assert [c.key for c in board.graders] == [f"user:{BETTY.id}"]


def test_hidden_grader_names_are_numbered_by_sorted_anonymous_ids():
    hidden = assignment(grader_names_visible_to_final_grader=False)
    board = board_of(
        # "Qx7Rt" arrives first but sorts after "Bb2": it is Grader 2 whatever the order.
        student(1, "A", pg(11, 8, anonymous_grader="Qx7Rt"), pg(12, 6, anonymous_grader="aa1")),
        student(2, "B", pg(21, 5, anonymous_grader="Bb2")),
        assignment=hidden,
        graders=(BETTY, ADA),  # names Canvas did give for the course never leak into columns
        me=BETTY,
    )
    assert [(c.label, c.anonymous_grader_id) for c in board.graders] == [
        ("Grader 1", "Bb2"),
        ("Grader 2", "Qx7Rt"),
        ("Grader 3", "aa1"),  # string order, as the page sorts: upper case first
    ]
    assert [c.key for c in board.graders] == ["anonymous:Bb2", "anonymous:Qx7Rt", "anonymous:aa1"]
    assert not any(c.is_me or c.user_id for c in board.graders)
    assert set(board.rows[0].grades) == {"anonymous:Qx7Rt", "anonymous:aa1"}


# --------------------------------------------------------------------- anonymous students


def test_anonymous_students_show_canvas_student_numbers_only():
    anonymous = assignment(anonymous_grading=True)
    board = board_of(
        anonymous_student("b2Xk9", "Student 1", pg(11, 8), pg(12, 6, grader=ADA.id)),
        anonymous_student("c3Yl0", "Student 2", pg(21, 8)),
        assignment=anonymous,
    )
    first, second = board.rows
    assert (first.key, first.name) == ("anonymous:b2Xk9", "Student 1")
    assert (second.key, second.name) == ("anonymous:c3Yl0", "Student 2")
    assert board.index("anonymous:c3Yl0") == 1
    assert board.row("anonymous:b2Xk9") is first


def test_anonymous_students_without_a_display_name_are_numbered_by_position():
    # Older Canvas sends no display_name; the model calls such a student "Student".
    board = board_of(
        anonymous_student("a1", "Student"),
        anonymous_student("b2", "Student"),
        assignment=assignment(anonymous_grading=True),
    )
    assert [row.name for row in board.rows] == ["Student 1", "Student 2"]


# --------------------------------------------------------------------- lookups and counts


def test_row_and_index_find_students_by_key():
    board = board_of(student(1, "A"), student(2, "B"))
    assert board.row("user:2").name == "B"
    assert board.index("user:2") == 1
    assert board.row("user:3") is None and board.index("user:3") is None


def test_a_student_sent_twice_keeps_the_first_place_and_the_last_data():
    board = board_of(student(1, "Old"), student(2, "B"), student(1, "New", pg(11, 8)))
    assert [row.name for row in board.rows] == ["New", "B"]
    assert board.counts.total == 2 and board.counts.single == 1


def test_counts_cover_every_status_and_disagreements():
    board = board_of(
        student(1, "Chosen", pg(11, 8), pg(12, 6, grader=ADA.id), selected=11),
        student(2, "Undecided", pg(21, 8), pg(22, 6, grader=ADA.id)),
        student(3, "Agreed", pg(31, 8), pg(32, 8, grader=ADA.id)),
        student(4, "Single", pg(41, 9)),
        student(5, "Ungraded"),
    )
    assert board.counts == BoardCounts(
        total=5, selected=1, needs_choice=2, single=1, no_grade=1, disagreements=2
    )


def test_status_line_wording():
    rows = [student(i, f"S{i}", pg(i * 10, 8), selected=i * 10) for i in range(1, 38)]
    rows += [
        student(i, f"N{i}", pg(i * 10, 8), pg(i * 10 + 1, 6, grader=ADA.id)) for i in range(38, 50)
    ]
    rows += [student(i, f"U{i}") for i in range(50, 53)]
    rows += [student(i, f"One{i}", pg(i * 10, 8)) for i in range(53, 121)]
    assert (
        board_of(*rows).status_line() == "37 / 120 selected · 12 need a choice · 3 without a grade"
    )


def test_status_line_singular_and_zero_parts():
    one_choice = board_of(student(1, "A", pg(11, 8), pg(12, 6, grader=ADA.id)), student(2, "B"))
    assert one_choice.status_line() == "0 / 2 selected · 1 needs a choice · 1 without a grade"
    done = board_of(student(1, "A", pg(11, 8), selected=11))
    assert done.status_line() == "1 / 1 selected"
    assert board_of().status_line() == "0 / 0 selected"


# --------------------------------------------------------------- "Accept" (§3.3) and agreed


def _accept_board() -> Board:
    return board_of(
        student(1, "Betty only", pg(11, 8, grader=BETTY.id)),
        student(2, "Betty chosen", pg(21, 7, grader=BETTY.id), selected=21),
        student(3, "Ada only", pg(31, 6, grader=ADA.id)),
        student(
            4, "Ada and the final grader", pg(41, 6, grader=ADA.id), pg(42, 9, grader=FINAL.id)
        ),
        student(5, "Nobody"),
        graders=(BETTY, ADA, FINAL),
    )


def test_accept_selects_a_graders_grades_for_students_without_a_selection():
    board = _accept_board()
    assert board.grader_accept_allowed(f"user:{BETTY.id}")
    assert board.accept_grader_ids(f"user:{BETTY.id}") == [11]
    # The final grader is not a listed grader on Canvas's page: their grade does not count.
    assert board.grader_accept_allowed(f"user:{ADA.id}")
    assert board.accept_grader_ids(f"user:{ADA.id}") == [31, 41]
    assert not board.grader_accept_allowed(f"user:{FINAL.id}")
    assert board.accept_grader_ids(f"user:{FINAL.id}") == []
    assert not board.grader_accept_allowed("user:4242")


def test_accept_is_refused_to_graders_who_share_a_student():
    board = _accept_board().with_students(
        [student(6, "Both", pg(61, 8, grader=BETTY.id), pg(62, 6, grader=ADA.id))]
    )
    assert not board.grader_accept_allowed(f"user:{BETTY.id}")
    assert not board.grader_accept_allowed(f"user:{ADA.id}")
    assert board.accept_grader_ids(f"user:{BETTY.id}") == []


def test_accept_offers_nothing_once_everything_is_selected():
    board = board_of(student(1, "A", pg(11, 8), selected=11))
    assert board.grader_accept_allowed(f"user:{BETTY.id}")
    assert board.accept_grader_ids(f"user:{BETTY.id}") == []


def test_agreed_ids_pick_the_leftmost_columns_grade_where_graders_agree():
    board = board_of(
        student(1, "Agree", pg(11, 8, grader=BETTY.id), pg(12, 8, grader=ADA.id)),
        student(2, "Disagree", pg(21, 8, grader=BETTY.id), pg(22, 6, grader=ADA.id)),
        student(
            3, "Agree, chosen", pg(31, 5, grader=BETTY.id), pg(32, 5, grader=ADA.id), selected=31
        ),
        student(4, "Single", pg(41, 9, grader=BETTY.id)),
        student(
            5, "Agree, custom", pg(51, 4, grader=BETTY.id), pg(52, 4, grader=ADA.id), custom(53, 6)
        ),
        student(
            6, "Agree, stale", pg(61, 3, grader=BETTY.id), pg(62, 3, grader=ADA.id), selected=9
        ),
    )
    # "ada Lovelace" is the leftmost column (case-blind order), so her grades are chosen.
    assert board.graders[0].user_id == ADA.id
    assert board.agreed_ids() == [12, 62]


# -------------------------------------------------------------------------- derivations


def test_with_selections_applies_select_answers_and_leaves_the_old_board_alone():
    board = board_of(
        student(1, "A", pg(11, 8), pg(12, 6, grader=ADA.id)),
        student(2, "B", pg(21, 8), pg(22, 6, grader=ADA.id)),
    )
    after = board.with_selections([selection(1, 12), selection(99, 5)])

    assert after.row("user:1").status is StudentStatus.SELECTED
    assert after.row("user:1").selected.id == 12
    assert after.row("user:1").student.selected_provisional_grade_id == 12
    assert after.counts.selected == 1 and after.counts.needs_choice == 1
    assert after.status_line() == "1 / 2 selected · 1 needs a choice"
    assert board.row("user:1").status is StudentStatus.NEEDS_CHOICE  # immutable
    assert board.counts.needs_choice == 2
    assert after.rows[1] is board.rows[1]  # untouched rows are shared, not rebuilt


def test_with_selections_later_answers_win_and_no_change_returns_the_same_board():
    board = board_of(student(1, "A", pg(11, 8), pg(12, 6, grader=ADA.id), selected=11))
    assert board.with_selections([selection(1, 11)]) is board
    assert board.with_selections([selection(1, 12, assignment_id=5)]) is board
    after = board.with_selections([selection(1, 12), selection(1, 11), selection(1, 12)])
    assert after.row("user:1").selected.id == 12


def test_with_selections_finds_anonymous_students_by_anonymous_id():
    board = board_of(
        anonymous_student("b2Xk9", "Student 1", pg(11, 8), pg(12, 6, grader=ADA.id)),
        assignment=assignment(anonymous_grading=True),
    )
    after = board.with_selections([anonymous_selection("b2Xk9", 11)])
    assert after.rows[0].status is StudentStatus.SELECTED
    assert after.can_publish


def test_with_students_replaces_in_place_and_appends_new_ones():
    board = board_of(student(1, "A", pg(11, 8)), student(2, "B"))
    reloaded = board.with_students(
        [student(1, "A", pg(11, 8), pg(12, 5, grader=ADA.id)), student(3, "C", pg(31, 1, grader=7))]
    )
    assert [row.key for row in reloaded.rows] == ["user:1", "user:2", "user:3"]
    assert reloaded.row("user:1").status is StudentStatus.NEEDS_CHOICE
    assert [c.label for c in reloaded.graders] == ["ada Lovelace", "Betty Ford", "User 7"]
    assert reloaded.counts == BoardCounts(
        total=3, selected=0, needs_choice=1, single=1, no_grade=1, disagreements=1
    )
    assert reloaded.index("user:3") == 2
    assert board.index("user:3") is None  # the old board's index was not touched


def test_with_students_drops_a_column_when_its_last_grade_goes():
    board = board_of(student(1, "A", pg(11, 8), pg(12, 5, grader=ADA.id)))
    reloaded = board.with_students([student(1, "A", pg(11, 8))])
    assert [c.label for c in reloaded.graders] == ["Betty Ford"]


def test_changed_since_names_students_whose_grades_or_selection_changed():
    before = board_of(
        student(1, "Selected later", pg(11, 8), pg(12, 6, grader=ADA.id)),
        student(2, "Regraded", pg(21, 8)),
        student(3, "Unchanged", pg(31, 8)),
        student(4, "Gone"),
    )
    after = build_board(
        assignment(),
        [
            student(1, "Selected later", pg(11, 8), pg(12, 6, grader=ADA.id), selected=12),
            student(2, "Regraded", pg(21, 9)),
            student(3, "Unchanged", pg(31, 8)),
            student(5, "New"),
        ],
        (BETTY, ADA),
    )
    assert after.changed_since(before) == ["user:1", "user:2", "user:5", "user:4"]
    assert after.changed_since(after) == []
    assert before.with_selections([selection(1, 11)]).changed_since(before) == ["user:1"]


# ------------------------------------------------------------------------ views


def _view_board(threshold: float = 0.0) -> Board:
    return board_of(
        student(1, "student 10", pg(11, 8), pg(12, 6, grader=ADA.id)),
        student(2, "Student 2", pg(21, 8), pg(22, 7.5, grader=ADA.id), selected=21),
        student(3, "Zoë [resit] Ångström", pg(31, 8), pg(32, 8, grader=ADA.id)),
        student(4, "ñoño O'Brien", pg(41, 9)),
        student(5, "Ada", pg(51, 1), pg(52, 9, grader=ADA.id)),
        disagreement_threshold=threshold,
    )


def test_filters():
    board = _view_board()
    names = lambda kind: [row.name for row in board.filtered(kind)]  # noqa: E731
    assert names("all") == [row.name for row in board.rows]
    assert names("needs_choice") == ["student 10", "Zoë [resit] Ångström", "Ada"]
    assert names("selected") == ["Student 2"]
    assert names("single") == ["ñoño O'Brien"]
    assert names("disagreements") == ["student 10", "Student 2", "Ada"]
    with pytest.raises(ValueError, match="unknown filter"):
        board.filtered("everything")


def test_disagreement_threshold_ignores_small_differences():
    board = _view_board(threshold=1.0)
    assert [row.name for row in board.filtered("disagreements")] == ["student 10", "Ada"]
    assert board.counts.disagreements == 2


def test_sorting():
    board = _view_board()
    by_name = [row.name for row in board.sorted_rows("name")]
    assert by_name == ["Ada", "ñoño O'Brien", "Student 2", "student 10", "Zoë [resit] Ångström"]
    by_spread = [row.name for row in board.sorted_rows("spread")]
    assert by_spread == ["Ada", "student 10", "Student 2", "Zoë [resit] Ångström", "ñoño O'Brien"]
    assert board.sorted_rows("canvas") == list(board.rows)
    with pytest.raises(ValueError, match="unknown sort order"):
        board.sorted_rows("mood")


# ----------------------------------------------------------------------- format_grade


@pytest.mark.parametrize(
    ("grading_type", "grade", "score", "shown"),
    [
        ("points", "8", 8.0, "8"),
        ("points", "7.5", 7.5, "7.5"),
        ("points", "7.25", 7.25, "7.25"),
        ("points", "7.333333", 7.333333, "7.33"),
        ("points", "0", 0.0, "0"),
        ("points", None, None, "–"),
        ("points", "EX", None, "EX"),
        ("letter_grade", "B+", 87.0, "B+"),
        ("gpa_scale", "3.7", 9.0, "3.7"),
        ("pass_fail", "complete", 10.0, "complete"),
        ("percent", "87%", 8.7, "87%"),
        ("letter_grade", None, 8.5, "8.5"),
        ("letter_grade", None, None, "–"),
    ],
)
def test_format_grade_shows_what_canvas_shows(grading_type, grade, score, shown):
    grade_pg = ProvisionalGrade(id=1, grade=grade, score=score, scorer_id=BETTY.id)
    assert format_grade(grade_pg, assignment(grading_type=grading_type)) == shown


def test_format_grade_of_no_grade_is_a_dash():
    assert format_grade(None, assignment()) == "–"


# ------------------------------------------------------------------------ JSON and CSV


def test_board_json_has_the_stable_shape():
    board = board_of(
        student(
            5309, "Ada Lovelace", pg(34, 4, grader=ADA.id), pg(35, 8, grader=BETTY.id), selected=34
        ),
        student(5310, "Alan Turing", pg(36, 7, grader=BETTY.id), custom(37, 6.5)),
    )
    data = board_to_json(board)

    assert set(data) >= {"assignment", "graders", "students"}
    assert data["assignment"]["id"] == ASSIGNMENT_ID and data["assignment"]["name"] == "Essay 1"
    assert [g["label"] for g in data["graders"]] == ["ada Lovelace", "Betty Ford"]
    first, second = data["students"]
    assert {"id", "name", "provisional_grades", "selected_provisional_grade_id"} <= set(first)
    assert first["id"] == 5309 and first["name"] == "Ada Lovelace"
    assert first["provisional_grades"] == [
        {"provisional_grade_id": 34, "grader": "ada Lovelace", "score": 4.0, "grade": "4"},
        {"provisional_grade_id": 35, "grader": "Betty Ford", "score": 8.0, "grade": "8"},
    ]
    assert first["selected_provisional_grade_id"] == 34
    assert first["status"] == "selected" and first["custom"] is None
    assert second["status"] == "needs_choice"
    assert second["custom"]["provisional_grade_id"] == 37
    assert data["summary"]["can_publish"] is False


def test_board_json_for_anonymous_students_has_no_id_and_no_real_name():
    board = board_of(
        anonymous_student("b2Xk9", "Student 1", pg(11, 8, anonymous_grader="Qx")),
        assignment=assignment(anonymous_grading=True),
    )
    (entry,) = board_to_json(board)["students"]
    assert "id" not in entry
    assert entry["anonymous_id"] == "b2Xk9" and entry["name"] == "Student 1"
    assert entry["provisional_grades"][0]["grader"] == "Grader 1"


def test_board_csv_has_a_header_and_one_row_per_student():
    board = board_of(
        student(1, "Ada", pg(11, 8, grader=BETTY.id), pg(12, 6.5, grader=ADA.id), selected=12),
        student(2, '=HYPERLINK("x")', pg(21, 9, grader=BETTY.id), custom(22, 7), selected=22),
        student(3, "Nobody"),
    )
    assert board_to_csv_rows(board) == [
        ["student", "ada Lovelace", "Betty Ford", "custom", "selected", "status"],
        ["Ada", "6.5", "8", "", "6.5 (ada Lovelace)", "selected"],
        ['\'=HYPERLINK("x")', "", "9", "7", "7 (Custom)", "selected"],
        ["Nobody", "", "", "", "", "no grade"],
    ]
