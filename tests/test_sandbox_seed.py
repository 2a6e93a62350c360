"""The demo seed tells the story the README promises, the same way every time, and grades read
the way Canvas writes them."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest

from tui.sandbox import DEMO, SandboxState, build_moderated_course, create_app, demo_state
from tui.sandbox.grades import InvalidGrade, format_grade, interpret

WITH_GRADES = {
    "include[]": "provisional_grades",
    "allow_new_anonymous_id": "true",
    "per_page": "100",
}


async def gradeable(app, course_id: int, assignment_id: int) -> list[dict]:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {DEMO.final_grader_token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://canvas.test", headers=headers
    ) as client:
        students: list[dict] = []
        url: str | None = (
            f"/api/v1/courses/{course_id}/assignments/{assignment_id}/gradeable_students"
        )
        params: dict | None = WITH_GRADES
        while url:
            response = await client.get(url, params=params)
            assert response.status_code == 200, response.text
            students += response.json()
            url, params = response.links.get("next", {}).get("url"), None
        return students


def graded(student: dict) -> list[dict]:
    return [pg for pg in student["provisional_grades"] if not pg["final"]]


async def test_the_demo_is_the_same_every_time():
    first, second = create_app(demo_state()), create_app(demo_state())
    for assignment_id in (DEMO.essay_id, DEMO.lab_id, DEMO.anonymous_id, DEMO.ready_id):
        assert json.dumps(await gradeable(first, DEMO.course_id, assignment_id)) == json.dumps(
            await gradeable(second, DEMO.course_id, assignment_id)
        )


async def test_essay_two_is_mid_moderation(sandbox_app):
    students = await gradeable(sandbox_app, DEMO.course_id, DEMO.essay_id)
    by_id = {s["id"]: s for s in students}
    selected = [s for s in students if s["selected_provisional_grade_id"] is not None]
    undecided = [s for s in students if not s["in_moderation_set"] and len(graded(s)) > 1]
    agreeing = [s for s in undecided if len({pg["score"] for pg in graded(s)}) == 1]
    assert (len(students), len(selected), len(undecided), len(agreeing)) == (24, 7, 15, 6)
    assert graded(by_id[DEMO.ungraded_student_id]) == []
    assert [pg["score"] for pg in graded(by_id[DEMO.single_grade_student_id])] == [9.0]
    assert by_id[DEMO.custom_grade_student_id]["provisional_grades"][-1]["final"] is True
    names = {s["display_name"] for s in students}
    assert {"Zoë [resit] Ångström", "Smith [/x]", "Ñoño O'Brien"} <= names


async def test_the_lab_is_letter_graded_by_two_graders(sandbox_app):
    students = await gradeable(sandbox_app, DEMO.course_id, DEMO.lab_id)
    grades = {pg["grade"] for s in students for pg in s["provisional_grades"]}
    assert grades <= {"A", "A-", "B+", "B", "B-", "C+"} and "B+" in grades
    assert max(len(s["provisional_grades"]) for s in students) == 2


def test_essay_one_is_released_and_in_the_gradebook():
    state = demo_state()
    released = state.assignments[DEMO.released_id]
    assert released.grades_published
    submission = state.submission_for(DEMO.released_id, DEMO.student_id)
    assert submission is not None
    assert (submission.workflow_state, submission.grade) == ("graded", "6")


async def test_the_big_course_has_2500_students_and_three_graders(sandbox_app):
    students = await gradeable(sandbox_app, DEMO.big_course_id, DEMO.big_assignment_id)
    assert len(students) == DEMO.big_course_students
    scorers = {pg["scorer_id"] for s in students for pg in s["provisional_grades"]}
    assert scorers == {DEMO.grader_id, DEMO.ta_id, DEMO.second_ta_id}


async def test_a_course_can_be_built_on_an_empty_state_with_the_demo_staff():
    state = SandboxState()
    course_id, assignment_id = build_moderated_course(state, students=3, graders=4)
    assert state.assignments[assignment_id].final_grader_id == DEMO.final_grader_id
    students = await gradeable(create_app(state), course_id, assignment_id)
    assert [s["display_name"] for s in students] == ["Student 1", "Student 2", "Student 3"]
    assert len(students[0]["provisional_grades"]) == 4


def test_demo_ids_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEMO.course_id = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("posted", "grading_type", "points", "expected"),
    [
        ("8", "points", 10, (8.0, "8")),
        ("8.5", "points", 10, (8.5, "8.5")),
        ("80%", "points", 10, (8.0, "8")),
        ("B+", "letter_grade", 100, (87.0, "B+")),
        ("b+", "letter_grade", 100, (87.0, "B+")),
        ("91", "letter_grade", 100, (91.0, "A-")),
        ("7", "percent", 20, (7.0, "35%")),
        ("complete", "pass_fail", 5, (5.0, "complete")),
    ],
)
def test_posted_grades_read_as_canvas_reads_them(posted, grading_type, points, expected):
    assert interpret(posted, grading_type, points) == expected


def test_nonsense_grades_are_refused():
    with pytest.raises(InvalidGrade):
        interpret("B+", "points", 10)
    assert format_grade(0.0, "letter_grade", 100) == "F"
