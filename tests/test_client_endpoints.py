"""Every moderation endpoint, through `ModerationAPI`, against the sandbox Canvas over loopback.

The demo seed's story (tui/sandbox/seed.py) is the data: Mira Okafor is the final grader of the
moderated assignments of ENG 210; Essay 2 is mid-moderation, Lab Report 3 hides grader names,
the Reflection Journal is anonymous, Essay 1 is already released, Presentation Outline is ready.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tui.canvas.client import CanvasClient, RetryPolicy
from tui.canvas.errors import (
    AlreadyPublishedError,
    NotModeratedError,
    UnselectedGradesError,
)
from tui.canvas.models import GradeableStudent
from tui.canvas.moderation import ModerationAPI
from tui.sandbox.app import create_app
from tui.sandbox.seed import DEMO
from tui.sandbox.server import SandboxServer
from tui.secret import Secret

COURSE = DEMO.course_id


def fast_retries() -> RetryPolicy:
    async def no_wait(_: float) -> None:
        return None

    return RetryPolicy(
        base_delay=0.001, max_delay=0.002, random=random.Random(1).random, sleep=no_wait
    )


@pytest.fixture(scope="module")
def demo_canvas() -> Iterator[SandboxServer]:
    """One sandbox for the tests that only read: starting one per test costs more than all of
    them together. Tests that change anything take the fresh `sandbox` instead."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
async def reader(demo_canvas: SandboxServer) -> AsyncIterator[ModerationAPI]:
    async with CanvasClient(
        demo_canvas.url, Secret(demo_canvas.token), retry=fast_retries()
    ) as client:
        yield ModerationAPI(client)


@pytest.fixture
async def api(sandbox: SandboxServer) -> AsyncIterator[ModerationAPI]:
    async with CanvasClient(sandbox.url, Secret(sandbox.token), retry=fast_retries()) as client:
        yield ModerationAPI(client)


def by_user(students: list[GradeableStudent]) -> dict[int | None, GradeableStudent]:
    return {student.user_id: student for student in students}


# -- who and where --------------------------------------------------------------------------


async def test_current_user_is_the_token_owner(reader: ModerationAPI) -> None:
    me = await reader.current_user()
    assert (me.id, me.name) == (DEMO.final_grader_id, "Mira Okafor")


async def test_courses_are_those_the_user_teaches(reader: ModerationAPI) -> None:
    courses = await reader.list_courses()
    assert [course.id for course in courses] == [DEMO.course_id, DEMO.big_course_id]
    assert courses[0].name.startswith("ENG 210")


async def test_courses_taught_as_ta_are_listed_once(sandbox: SandboxServer) -> None:
    # Priya is a TA in ENG 210 and, after this, a teacher elsewhere: both roles, no repeats.
    sandbox.state.enroll(DEMO.big_course_id, DEMO.ta_id, "teacher")
    async with CanvasClient(sandbox.url, Secret(DEMO.ta_token), retry=fast_retries()) as client:
        courses = await ModerationAPI(client).list_courses()
    ids = [course.id for course in courses]
    assert sorted(ids) == sorted({DEMO.course_id, DEMO.big_course_id})
    assert len(ids) == len(set(ids))


async def test_assignments_carry_their_moderation_settings(reader: ModerationAPI) -> None:
    assignments = {a.id: a for a in await reader.list_assignments(COURSE)}
    assert {DEMO.essay_id, DEMO.lab_id, DEMO.anonymous_id, DEMO.plain_id} <= set(assignments)
    essay = assignments[DEMO.essay_id]
    assert essay.moderated_grading and essay.grader_count == 3
    assert essay.is_final_grader(DEMO.final_grader_id)
    assert not assignments[DEMO.lab_id].grader_names_visible_to_final_grader
    assert assignments[DEMO.anonymous_id].anonymous_grading
    assert not assignments[DEMO.plain_id].moderated_grading


async def test_one_assignment(reader: ModerationAPI) -> None:
    essay = await reader.get_assignment(COURSE, DEMO.essay_id)
    assert (essay.id, essay.course_id, essay.name) == (
        DEMO.essay_id,
        COURSE,
        "Essay 2: Argument & Evidence",
    )


async def test_graders_are_the_courses_teachers_and_tas(reader: ModerationAPI) -> None:
    graders = await reader.list_graders(COURSE)
    assert {g.id for g in graders} == {
        DEMO.final_grader_id,
        DEMO.grader_id,
        DEMO.ta_id,
        DEMO.second_ta_id,
    }
    assert "Tomás Lindqvist" in {g.name for g in graders}


# -- the moderation set --------------------------------------------------------------------


async def test_moderation_set_lists_every_student(reader: ModerationAPI) -> None:
    students = await reader.list_moderated_students(COURSE, DEMO.essay_id)
    assert len(students) == 24
    assert students[0].id == DEMO.student_id


async def test_adding_to_the_moderation_set_returns_the_requested_students(
    reader: ModerationAPI, demo_canvas: SandboxServer
) -> None:
    added = await reader.add_moderated_students(COURSE, DEMO.essay_id, [DEMO.student_id, 999999])
    # Canvas ignores ids that are not students and returns the others, new or not (§1.2).
    assert [user.id for user in added] == [DEMO.student_id]


async def test_adding_nobody_asks_nothing(
    reader: ModerationAPI, demo_canvas: SandboxServer
) -> None:
    before = demo_canvas.stats.requests
    assert await reader.add_moderated_students(COURSE, DEMO.essay_id, []) == []
    assert demo_canvas.stats.requests == before


# -- the grid ------------------------------------------------------------------------------


async def test_gradeable_students_with_their_provisional_grades(reader: ModerationAPI) -> None:
    students = await reader.gradeable_students(COURSE, DEMO.essay_id)
    assert len(students) == 24
    assert [s.user_id for s in students] == sorted(s.user_id for s in students)
    rows = by_user(students)
    assert rows[DEMO.ungraded_student_id].provisional_grades == ()
    assert len(rows[DEMO.single_grade_student_id].provisional_grades) == 1
    custom = rows[DEMO.custom_grade_student_id]
    final = [pg for pg in custom.provisional_grades if pg.final]
    assert len(final) == 1 and custom.selected_provisional_grade_id == final[0].id
    resubmitted = rows[DEMO.resubmitted_student_id]
    assert any(not pg.grade_matches_current_submission for pg in resubmitted.provisional_grades)
    assert "Zoë [resit] Ångström" in {s.display_name for s in students}


async def test_hidden_grader_names_come_as_anonymous_grader_ids(reader: ModerationAPI) -> None:
    students = await reader.gradeable_students(COURSE, DEMO.lab_id)
    grades = [pg for s in students for pg in s.provisional_grades if not pg.final]
    assert grades and all(pg.scorer_id is None and pg.anonymous_grader_id for pg in grades)


async def test_anonymous_students_come_as_student_n(reader: ModerationAPI) -> None:
    students = await reader.gradeable_students(COURSE, DEMO.anonymous_id)
    assert len(students) == 24
    assert all(s.is_anonymous and s.anonymous_id for s in students)
    assert {s.display_name for s in students} == {f"Student {n}" for n in range(1, 25)}


async def test_pages_report_progress(reader: ModerationAPI) -> None:
    pages = [page async for page in reader.iter_gradeable_students(COURSE, DEMO.essay_id)]
    assert len(pages) == 1
    assert pages[0].loaded == 24
    assert pages[0].expected_total is not None and pages[0].expected_total >= 24


# -- one student's details -----------------------------------------------------------------


async def test_grade_status_has_every_grade_with_names_and_comments(
    reader: ModerationAPI, demo_canvas: SandboxServer
) -> None:
    commented = next(
        pg
        for pg in demo_canvas.state.provisional_grades.values()
        if pg.comments
        and demo_canvas.state.submissions[pg.submission_id].assignment_id == DEMO.essay_id
    )
    student_id = demo_canvas.state.submissions[commented.submission_id].user_id
    student = by_user(await reader.gradeable_students(COURSE, DEMO.essay_id))[student_id]

    status = await reader.grade_status(COURSE, DEMO.essay_id, student)

    assert {pg.id for pg in status.provisional_grades} == {
        pg.id for pg in student.provisional_grades if not pg.final
    }
    shown = next(pg for pg in status.provisional_grades if pg.id == commented.id)
    assert shown.comments[0].comment == commented.comments[0].comment
    assert shown.scorer_name == demo_canvas.state.users[commented.scorer_id].short_name


async def test_grade_status_of_an_anonymous_student(reader: ModerationAPI) -> None:
    student = (await reader.gradeable_students(COURSE, DEMO.anonymous_id))[0]
    status = await reader.grade_status(COURSE, DEMO.anonymous_id, student)
    assert {pg.id for pg in status.provisional_grades} == {
        pg.id for pg in student.provisional_grades if not pg.final
    }


async def test_grade_status_shows_the_custom_grade_as_final(reader: ModerationAPI) -> None:
    students = by_user(await reader.gradeable_students(COURSE, DEMO.essay_id))
    status = await reader.grade_status(
        COURSE, DEMO.essay_id, students[DEMO.custom_grade_student_id]
    )
    assert status.final_provisional_grade is not None
    assert status.final_provisional_grade.final and status.final_provisional_grade.selected


# -- choosing ------------------------------------------------------------------------------


async def test_selecting_a_grade_shows_on_the_next_load(api: ModerationAPI) -> None:
    student = by_user(await api.gradeable_students(COURSE, DEMO.essay_id))[DEMO.student_id]
    chosen = student.provisional_grades[1]

    selection = await api.select_grade(COURSE, DEMO.essay_id, chosen.id)

    assert (selection.student_id, selection.selected_provisional_grade_id) == (
        DEMO.student_id,
        chosen.id,
    )
    reloaded = by_user(await api.gradeable_students(COURSE, DEMO.essay_id))[DEMO.student_id]
    assert reloaded.selected_provisional_grade_id == chosen.id


async def test_selecting_for_an_anonymous_student_names_the_anonymous_id(
    api: ModerationAPI,
) -> None:
    student = (await api.gradeable_students(COURSE, DEMO.anonymous_id))[0]
    selection = await api.select_grade(COURSE, DEMO.anonymous_id, student.provisional_grades[0].id)
    assert selection.student_id is None and selection.anonymous_id == student.anonymous_id


async def test_bulk_select_returns_only_what_changed(api: ModerationAPI) -> None:
    students = await api.gradeable_students(COURSE, DEMO.essay_id)
    unselected = [
        s for s in students if s.selected_provisional_grade_id is None and s.provisional_grades
    ]
    already = next(s for s in students if s.selected_provisional_grade_id is not None)
    wanted = [s.provisional_grades[0].id for s in unselected[:3]]

    changes = await api.bulk_select(
        COURSE, DEMO.essay_id, [*wanted, already.selected_provisional_grade_id]
    )

    assert sorted(c.selected_provisional_grade_id for c in changes) == sorted(wanted)
    rows = by_user(await api.gradeable_students(COURSE, DEMO.essay_id))
    assert [rows[s.user_id].selected_provisional_grade_id for s in unselected[:3]] == wanted


async def test_bulk_select_with_nothing_sends_nothing(
    reader: ModerationAPI, demo_canvas: SandboxServer
) -> None:
    before = demo_canvas.stats.requests
    assert await reader.bulk_select(COURSE, DEMO.essay_id, []) == []
    assert demo_canvas.stats.requests == before


async def test_custom_grade_becomes_the_final_provisional_grade(api: ModerationAPI) -> None:
    student = by_user(await api.gradeable_students(COURSE, DEMO.essay_id))[DEMO.student_id]

    grade = await api.set_custom_grade(COURSE, DEMO.essay_id, student, "9")

    assert grade.final and grade.score == 9.0 and grade.scorer_id == DEMO.final_grader_id
    reloaded = by_user(await api.gradeable_students(COURSE, DEMO.essay_id))[DEMO.student_id]
    assert grade.id in {pg.id for pg in reloaded.provisional_grades if pg.final}


async def test_changing_the_custom_grade_keeps_one_final_grade(api: ModerationAPI) -> None:
    student = by_user(await api.gradeable_students(COURSE, DEMO.essay_id))[DEMO.student_id]
    first = await api.set_custom_grade(COURSE, DEMO.essay_id, student, "9")
    second = await api.set_custom_grade(COURSE, DEMO.essay_id, student, "7")
    assert second.id == first.id and second.score == 7.0


async def test_custom_grade_for_an_anonymous_student(api: ModerationAPI) -> None:
    student = (await api.gradeable_students(COURSE, DEMO.anonymous_id))[0]
    grade = await api.set_custom_grade(COURSE, DEMO.anonymous_id, student, "6")
    assert grade.final and grade.score == 6.0


# -- releasing -----------------------------------------------------------------------------


async def test_publishing_a_resolved_assignment_releases_it(api: ModerationAPI) -> None:
    probe = (await api.gradeable_students(COURSE, DEMO.ready_id))[0]
    assert not await api.grades_published(COURSE, DEMO.ready_id, probe)

    await api.publish(COURSE, DEMO.ready_id)

    assert await api.grades_published(COURSE, DEMO.ready_id, probe)


async def test_publishing_with_unresolved_students_is_refused(reader: ModerationAPI) -> None:
    with pytest.raises(UnselectedGradesError) as caught:
        await reader.publish(COURSE, DEMO.essay_id)
    assert caught.value.status == 422
    assert caught.value.canvas_message == "All submissions must have a selected grade"
    probe = (await reader.gradeable_students(COURSE, DEMO.essay_id))[0]
    assert not await reader.grades_published(COURSE, DEMO.essay_id, probe)


async def test_publishing_twice_says_already_released(reader: ModerationAPI) -> None:
    with pytest.raises(AlreadyPublishedError) as caught:
        await reader.publish(COURSE, DEMO.released_id)
    assert caught.value.path.endswith("/provisional_grades/publish")


async def test_a_plain_assignment_says_not_moderated(
    reader: ModerationAPI, demo_canvas: SandboxServer
) -> None:
    # The final grader is refused before the moderation check (§1.6) for an assignment she is
    # not final grader of; an admin with "Select Final Grade" gets as far as Canvas's 400.
    with pytest.raises(NotModeratedError):
        await reader.grades_published(COURSE, DEMO.plain_id, DEMO.student_id)
    async with CanvasClient(demo_canvas.url, Secret(DEMO.admin_token)) as admin:
        with pytest.raises(NotModeratedError) as caught:
            await ModerationAPI(admin).publish(COURSE, DEMO.plain_id)
    assert caught.value.status == 400


async def test_released_assignment_reads_as_published(reader: ModerationAPI) -> None:
    assert await reader.grades_published(COURSE, DEMO.released_id, DEMO.student_id)


# -- string ids ----------------------------------------------------------------------------


async def test_string_ids_parse_the_same(demo_canvas: SandboxServer) -> None:
    async with (
        CanvasClient(demo_canvas.url, Secret(demo_canvas.token), string_ids=True) as strings,
        CanvasClient(demo_canvas.url, Secret(demo_canvas.token)) as numbers,
    ):
        raw = await strings.get(f"courses/{COURSE}/assignments/{DEMO.essay_id}")
        assert raw["id"] == str(DEMO.essay_id)  # Canvas really sent strings
        for api_call in (
            lambda api: api.gradeable_students(COURSE, DEMO.essay_id),
            lambda api: api.list_courses(),
            lambda api: api.get_assignment(COURSE, DEMO.essay_id),
            lambda api: api.list_graders(COURSE),
        ):
            assert await api_call(ModerationAPI(strings)) == await api_call(ModerationAPI(numbers))


async def test_string_ids_in_answers_to_changes() -> None:
    # In-process through httpx's ASGI transport: the same app, no socket, a fresh seed.
    transport = httpx.ASGITransport(app=create_app())
    async with CanvasClient(
        "http://127.0.0.1", Secret(DEMO.final_grader_token), transport=transport, string_ids=True
    ) as client:
        api = ModerationAPI(client)
        student = (await api.gradeable_students(COURSE, DEMO.essay_id))[0]
        wanted = student.provisional_grades[0].id
        selection = await api.select_grade(COURSE, DEMO.essay_id, wanted)
        changes = await api.bulk_select(COURSE, DEMO.essay_id, [student.provisional_grades[1].id])
        custom = await api.set_custom_grade(COURSE, DEMO.essay_id, student, "7")
    assert (selection.student_id, selection.selected_provisional_grade_id) == (
        student.user_id,
        wanted,
    )
    assert [c.student_id for c in changes] == [student.user_id]
    assert custom.final and custom.scorer_id == DEMO.final_grader_id
