"""The sandbox Canvas answers as Canvas does (shared/canvas/moderation-api.md): status codes,
bodies, Link headers, string ids, anonymity and the moderation rules, endpoint by endpoint.

In-process through httpx.ASGITransport: the same app `SandboxServer` serves over a socket.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from tui.sandbox import DEMO, build_moderated_course, create_app, demo_state

BASE = "http://canvas.test"
COURSE = f"/api/v1/courses/{DEMO.course_id}"
WITH_GRADES = {"include[]": "provisional_grades", "allow_new_anonymous_id": "true"}
STRING_IDS = {"Accept": "application/json+canvas-string-ids"}
NOT_FOUND = {"errors": [{"message": "The specified resource does not exist."}]}
UNAUTHORIZED = {
    "status": "unauthorized",
    "errors": [{"message": "user not authorized to perform that action"}],
}
ADA, ALAN, KATHERINE, EDSGER = 5301, 5302, 5304, 5305


def assignment(assignment_id: int, course_id: int = DEMO.course_id) -> str:
    return f"/api/v1/courses/{course_id}/assignments/{assignment_id}"


ESSAY, LAB, JOURNAL = (
    assignment(DEMO.essay_id),
    assignment(DEMO.lab_id),
    assignment(DEMO.anonymous_id),
)
PLAIN, RELEASED, READY = (
    assignment(DEMO.plain_id),
    assignment(DEMO.released_id),
    assignment(DEMO.ready_id),
)


@asynccontextmanager
async def client_for(app, token: str | None) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers) as client:
        yield client


@pytest.fixture
async def canvas(sandbox_app) -> AsyncIterator[httpx.AsyncClient]:
    """The demo's final grader, Mira Okafor."""
    async with client_for(sandbox_app, DEMO.final_grader_token) as client:
        yield client


@pytest.fixture
async def grader(sandbox_app) -> AsyncIterator[httpx.AsyncClient]:
    """Jonas Weber: a teacher who graded, not the final grader."""
    async with client_for(sandbox_app, DEMO.grader_token) as client:
        yield client


@pytest.fixture
async def student(sandbox_app) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(sandbox_app, DEMO.student_token) as client:
        yield client


@pytest.fixture
async def admin(sandbox_app) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(sandbox_app, DEMO.admin_token) as client:
        yield client


async def all_students(client: httpx.AsyncClient, path: str, **params: str) -> list[dict]:
    response = await client.get(
        f"{path}/gradeable_students", params={**WITH_GRADES, **params, "per_page": "100"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def row_of(students: list[dict], student_id: int) -> dict:
    return next(s for s in students if s["id"] == student_id)


async def grade_ids(client: httpx.AsyncClient, path: str, student_id: int) -> list[int]:
    row = row_of(await all_students(client, path), student_id)
    return [pg["provisional_grade_id"] for pg in row["provisional_grades"]]


# --- authentication ---------------------------------------------------------------------


async def test_no_credentials_is_401_unauthenticated_with_a_bearer_challenge(sandbox_app):
    async with client_for(sandbox_app, None) as anonymous:
        response = await anonymous.get("/api/v1/users/self")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="canvas-lms"'
    assert response.json() == {
        "status": "unauthenticated",
        "errors": [{"message": "user authorization required"}],
    }


async def test_an_unknown_token_is_an_invalid_access_token(sandbox_app):
    async with client_for(sandbox_app, "7~not-a-token") as stranger:
        response = await stranger.get("/api/v1/users/self")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="canvas-lms"'
    assert response.json() == {"errors": [{"message": "Invalid access token."}]}


@pytest.mark.parametrize("reason", ["Invalid", "Revoked"])
async def test_a_token_revoked_mid_session_stops_working_at_once(sandbox_app, canvas, reason):
    assert (await canvas.get("/api/v1/users/self")).status_code == 200
    sandbox_app.state.sandbox.revoke_token(DEMO.final_grader_token, reason=reason)
    response = await canvas.get("/api/v1/users/self")
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": f"{reason} access token."}]}
    assert "WWW-Authenticate" in response.headers


async def test_an_expired_token_says_when_it_expired(sandbox_app, canvas):
    sandbox_app.state.sandbox.revoke_token(DEMO.final_grader_token, reason="Expired")
    response = await canvas.get("/api/v1/users/self")
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["message"] == "Expired access token."
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", error["expired_at"])


async def test_the_access_token_parameter_works_and_never_appears_in_links(sandbox_app):
    async with client_for(sandbox_app, None) as anonymous:
        response = await anonymous.get(
            f"{COURSE}/users", params={"access_token": DEMO.final_grader_token, "per_page": "2"}
        )
    assert response.status_code == 200
    assert "access_token" not in response.headers["Link"]


async def test_users_self_is_the_callers_user_json(canvas):
    response = await canvas.get("/api/v1/users/self")
    me = response.json()
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert me["id"] == DEMO.final_grader_id
    assert me["name"] == "Mira Okafor"
    assert me["sortable_name"] == "Okafor, Mira"
    assert me["created_at"] == "2024-08-20T09:00:00Z"


# --- permissions ------------------------------------------------------------------------


async def test_permission_denied_is_401_by_default_and_403_when_canvas_says_so(sandbox_app, grader):
    response = await grader.get(f"{ESSAY}/moderated_students")
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)
    sandbox_app.state.faults.permission_status = 403
    response = await grader.get(f"{ESSAY}/moderated_students")
    assert (response.status_code, response.json()) == (403, UNAUTHORIZED)


@pytest.mark.parametrize("token", [DEMO.final_grader_token, DEMO.admin_token])
async def test_moderators_are_the_final_grader_and_admins_with_select_final_grade(
    sandbox_app, token
):
    async with client_for(sandbox_app, token) as moderator:
        response = await moderator.get(f"{ESSAY}/gradeable_students", params=WITH_GRADES)
    assert response.status_code == 200


async def test_an_admin_without_select_final_grade_is_not_a_moderator(sandbox_app, admin):
    sandbox_app.state.sandbox.make_account_admin(DEMO.admin_id, select_final_grade=False)
    response = await admin.get(f"{ESSAY}/gradeable_students", params=WITH_GRADES)
    assert response.status_code == 401


async def test_other_graders_see_students_but_not_everyones_provisional_grades(grader):
    assert (await grader.get(f"{ESSAY}/gradeable_students")).status_code == 200
    response = await grader.get(f"{ESSAY}/gradeable_students", params=WITH_GRADES)
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


async def test_students_may_not_list_gradeable_students(student):
    response = await student.get(f"{ESSAY}/gradeable_students")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/courses/999/assignments/861/gradeable_students",
        f"{COURSE}/assignments/999/gradeable_students",
        f"{COURSE}/assignments/abc/gradeable_students",
        f"{assignment(DEMO.big_assignment_id)}/gradeable_students",  # another course's
        "/api/v1/no/such/endpoint",
    ],
)
async def test_unknown_things_are_canvas_404s(canvas, path):
    response = await canvas.get(path)
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


# --- Canvas conventions: rate headers, pagination, string ids -----------------------------


async def test_every_api_answer_carries_the_rate_limit_headers(canvas):
    for path in ("/api/v1/users/self", "/api/v1/nowhere", f"{ESSAY}/moderated_students"):
        response = await canvas.get(path)
        assert float(response.headers["X-Request-Cost"]) >= 0
        assert 0 < float(response.headers["X-Rate-Limit-Remaining"]) <= 600


async def test_link_header_lists_current_next_prev_first_last_without_spaces(canvas):
    response = await canvas.get(
        f"{COURSE}/users",
        params={"enrollment_type[]": "student", "page": "2", "per_page": "5"},
    )
    url = f"{BASE}{COURSE}/users?enrollment_type%5B%5D=student&page={{}}&per_page=5"
    assert response.headers["Link"] == ",".join(
        [
            f'<{url.format(2)}>; rel="current"',
            f'<{url.format(3)}>; rel="next"',
            f'<{url.format(1)}>; rel="prev"',
            f'<{url.format(1)}>; rel="first"',
            f'<{url.format(5)}>; rel="last"',
        ]
    )
    assert len(response.json()) == 5


async def test_link_header_keeps_the_other_parameters_sorted_like_rails(canvas):
    response = await canvas.get(
        f"{ESSAY}/gradeable_students",
        params={"include[]": "provisional_grades", "allow_new_anonymous_id": "true"},
    )
    first = response.headers["Link"].split(",")[0]
    assert first == (
        f"<{BASE}{ESSAY}/gradeable_students?allow_new_anonymous_id=true"
        '&include%5B%5D=provisional_grades&page=1&per_page=10>; rel="current"'
    )


@pytest.mark.parametrize(
    ("per_page", "expected"), [(None, 10), ("1", 1), ("0", 1), ("-5", 1), ("abc", 1), ("1000", 100)]
)
async def test_per_page_defaults_to_10_and_is_clamped_to_1_through_100(canvas, per_page, expected):
    params = {} if per_page is None else {"per_page": per_page}
    big = assignment(DEMO.big_assignment_id, DEMO.big_course_id)
    response = await canvas.get(f"{big}/gradeable_students", params=params)
    assert len(response.json()) == expected
    assert f"per_page={expected}>" in response.headers["Link"]


async def test_a_page_past_the_end_is_an_empty_list(canvas):
    response = await canvas.get(f"{ESSAY}/moderated_students", params={"page": "9"})
    assert response.status_code == 200
    assert response.json() == []
    rels = re.findall(r'rel="(\w+)"', response.headers["Link"])
    assert rels == ["current", "prev", "first", "last"]
    assert 'page=3&per_page=10>; rel="last"' in response.headers["Link"]


async def test_following_next_links_visits_every_student_once_in_order(canvas):
    big = assignment(DEMO.big_assignment_id, DEMO.big_course_id)
    url: str | None = f"{big}/gradeable_students?include[]=provisional_grades&per_page=100"
    seen: list[int] = []
    while url:
        response = await canvas.get(url)
        seen.extend(student["id"] for student in response.json())
        url = response.links.get("next", {}).get("url")
    assert len(seen) == DEMO.big_course_students == len(set(seen))
    assert seen == sorted(seen)


async def test_string_ids_are_strings_everywhere_and_nulls_stay_null(canvas):
    response = await canvas.get(
        f"{ESSAY}/gradeable_students", params={**WITH_GRADES, "per_page": "3"}, headers=STRING_IDS
    )
    ada, alan, _ = response.json()
    assert ada["id"] == str(ADA)
    assert ada["selected_provisional_grade_id"] is None
    assert alan["selected_provisional_grade_id"] == str(
        alan["provisional_grades"][0]["provisional_grade_id"]
    )
    assert all(isinstance(pg["provisional_grade_id"], str) for pg in ada["provisional_grades"])
    assert all(pg["scorer_id"].isdigit() for pg in ada["provisional_grades"])
    assert isinstance(ada["provisional_grades"][0]["score"], float)  # only ids change


async def test_string_ids_reach_nested_objects_and_id_lists():
    from tui.sandbox.canvas_http import stringify_ids

    assert stringify_ids(
        {"id": 1, "course": {"user_id": 2, "student_ids": [3, 4]}, "final_grader_id": None}
    ) == {"id": "1", "course": {"user_id": "2", "student_ids": ["3", "4"]}, "final_grader_id": None}


# --- courses and assignments ---------------------------------------------------------------


async def test_courses_lists_the_callers_courses_with_their_enrollments(canvas, student):
    courses = (await canvas.get("/api/v1/courses", params={"enrollment_type": "teacher"})).json()
    assert [c["id"] for c in courses] == [DEMO.course_id, DEMO.big_course_id]
    assert courses[0]["name"] == "ENG 210: Argument & Evidence"
    assert courses[0]["enrollments"][0]["type"] == "teacher"
    assert (
        await student.get("/api/v1/courses", params={"enrollment_type": "teacher"})
    ).json() == []
    mine = (await student.get("/api/v1/courses")).json()
    assert [(c["id"], c["enrollments"][0]["role"]) for c in mine] == [
        (DEMO.course_id, "StudentEnrollment")
    ]


async def test_a_course_the_caller_has_no_part_in_is_unauthorized(student):
    response = await student.get(f"/api/v1/courses/{DEMO.big_course_id}")
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


async def test_course_users_filtered_to_teachers_and_tas_sorted_by_sortable_name(canvas):
    response = await canvas.get(f"{COURSE}/users", params={"enrollment_type[]": ["teacher", "ta"]})
    assert [u["sortable_name"] for u in response.json()] == [
        "Lindqvist, Tomás",
        "Okafor, Mira",
        "Raman, Priya",
        "Weber, Jonas",
    ]
    assert set(response.json()[0]) == {"id", "name", "created_at", "sortable_name", "short_name"}


async def test_assignments_carry_every_moderation_field_but_not_grades_published(canvas):
    assignments = {a["id"]: a for a in (await canvas.get(f"{COURSE}/assignments")).json()}
    assert set(assignments) == {
        DEMO.essay_id,
        DEMO.lab_id,
        DEMO.anonymous_id,
        DEMO.plain_id,
        DEMO.released_id,
        DEMO.ready_id,
    }
    essay, lab = assignments[DEMO.essay_id], assignments[DEMO.lab_id]
    assert essay["moderated_grading"] is True
    assert essay["grader_count"] == 3
    assert essay["final_grader_id"] == DEMO.final_grader_id
    assert essay["muted"] is True and essay["post_manually"] is True
    assert lab["grading_type"] == "letter_grade"
    assert lab["grader_names_visible_to_final_grader"] is False
    assert assignments[DEMO.anonymous_id]["anonymous_grading"] is True
    assert assignments[DEMO.plain_id]["moderated_grading"] is False
    assert assignments[DEMO.plain_id]["final_grader_id"] is None
    assert all("grades_published" not in a for a in assignments.values())


async def test_show_assignment(canvas):
    essay = (await canvas.get(ESSAY)).json()
    assert essay["name"] == "Essay 2: Argument & Evidence"
    assert essay["html_url"] == f"{BASE}/courses/{DEMO.course_id}/assignments/{DEMO.essay_id}"


# --- gradeable students --------------------------------------------------------------------


async def test_gradeable_students_show_names_grades_and_selections(canvas):
    students = await all_students(canvas, ESSAY)
    assert [s["id"] for s in students] == list(range(5301, 5325))
    ada = row_of(students, ADA)
    assert ada["display_name"] == "Ada Lovelace"
    assert ada["html_url"] == f"{BASE}/courses/{DEMO.course_id}/users/{ADA}"
    assert ada["in_moderation_set"] is False and ada["selected_provisional_grade_id"] is None
    assert [(pg["grade"], pg["score"], pg["scorer_id"]) for pg in ada["provisional_grades"]] == [
        ("8", 8.0, DEMO.grader_id),
        ("8", 8.0, DEMO.ta_id),
        ("8", 8.0, DEMO.second_ta_id),
    ]
    assert ada["provisional_grades"][0]["speedgrader_url"] == (
        f"{BASE}/courses/{DEMO.course_id}/gradebook/speed_grader"
        f"?assignment_id={DEMO.essay_id}&student_id={ADA}"
    )
    alan = row_of(students, ALAN)
    assert alan["in_moderation_set"] is True
    assert (
        alan["selected_provisional_grade_id"]
        == alan["provisional_grades"][0]["provisional_grade_id"]
    )


async def test_in_moderation_set_is_true_only_when_a_grade_is_selected(canvas):
    # Canvas's quirk: every student has a selection row (moderated_students lists them all),
    # but gradeable_students only says "in the set" once a grade is chosen.
    moderated = (await canvas.get(f"{ESSAY}/moderated_students", params={"per_page": "100"})).json()
    students = await all_students(canvas, ESSAY)
    assert len(moderated) == len(students) == 24
    assert sum(s["in_moderation_set"] for s in students) == 7


async def test_the_final_grade_comes_last_and_a_resubmission_marks_older_grades(canvas):
    students = await all_students(canvas, ESSAY)
    edsger = row_of(students, DEMO.custom_grade_student_id)
    assert [pg["final"] for pg in edsger["provisional_grades"]] == [False, False, False, True]
    final = edsger["provisional_grades"][-1]
    assert (final["score"], final["scorer_id"]) == (7.0, DEMO.final_grader_id)
    assert edsger["selected_provisional_grade_id"] == final["provisional_grade_id"]
    zoe = row_of(students, DEMO.resubmitted_student_id)
    assert zoe["display_name"] == "Zoë [resit] Ångström"
    assert [pg["grade_matches_current_submission"] for pg in zoe["provisional_grades"]] == [
        False,
        True,
        True,
    ]


async def test_letter_grades_read_as_canvas_shows_them(canvas):
    ada = row_of(await all_students(canvas, LAB), ADA)
    assert [(pg["grade"], pg["score"]) for pg in ada["provisional_grades"]] == [
        ("B+", 87.0),
        ("B+", 87.0),
    ]


async def test_hidden_grader_names_replace_scorer_id_with_an_anonymous_grader_id(canvas, admin):
    students = await all_students(canvas, LAB)
    grades = [pg for s in students for pg in s["provisional_grades"]]
    assert all("scorer_id" not in pg for pg in grades)
    grader_ids = {pg["anonymous_grader_id"] for pg in grades}
    assert len(grader_ids) == 2 and all(len(i) == 5 for i in grader_ids)
    # An admin with select_final_grade may always see who graded.
    admin_view = await all_students(admin, LAB)
    assert all("scorer_id" in pg for s in admin_view for pg in s["provisional_grades"])


async def test_anonymous_students_are_numbered_in_anonymous_id_order(canvas):
    students = await all_students(canvas, JOURNAL)
    assert all(set(s) >= {"anonymous_id", "display_name", "avatar_image_url"} for s in students)
    assert all("id" not in s and "html_url" not in s for s in students)
    anonymous_ids = [s["anonymous_id"] for s in students]
    assert anonymous_ids == sorted(anonymous_ids)
    assert all(re.fullmatch(r"[1-9A-HJ-NP-Za-km-z]{5}", i) for i in anonymous_ids)
    assert [s["display_name"] for s in students] == [f"Student {n}" for n in range(1, 25)]
    first = students[0]
    assert first["provisional_grades"][0]["speedgrader_url"].endswith(
        f"&anonymous_id={first['anonymous_id']}"
    )


async def test_without_allow_new_anonymous_id_names_are_shown_anyway(canvas):
    response = await canvas.get(
        f"{JOURNAL}/gradeable_students", params={"include[]": "provisional_grades"}
    )
    assert response.json()[0]["display_name"] == "Ada Lovelace"


# --- moderation set -----------------------------------------------------------------------


async def test_moderated_students_lists_users_by_id(canvas):
    response = await canvas.get(f"{ESSAY}/moderated_students")
    users = response.json()
    assert [u["id"] for u in users] == list(range(5301, 5311))
    assert users[6] == {
        "id": 5307,
        "name": "Zoë [resit] Ångström",
        "created_at": "2024-08-20T09:06:00Z",
        "sortable_name": "Ångström, Zoë [resit]",
        "short_name": "Zoë [resit] Ångström",
    }
    assert 'page=3&per_page=10>; rel="last"' in response.headers["Link"]


async def test_moderated_students_of_an_unmoderated_assignment_is_empty(sandbox_app):
    # Not a moderator of anything there, so ask as the admin.
    async with client_for(sandbox_app, DEMO.admin_token) as admin:
        response = await admin.get(f"{PLAIN}/moderated_students")
    assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize("body", [{}, {"student_ids": []}, {"student_ids": ""}])
async def test_adding_no_students_is_400_with_an_empty_list(canvas, body):
    response = await canvas.post(f"{ESSAY}/moderated_students", json=body)
    assert (response.status_code, response.json()) == (400, [])


async def test_adding_students_returns_every_requested_student_and_ignores_the_rest(
    sandbox_app, canvas
):
    sandbox_app.state.sandbox.remove_selection(DEMO.essay_id, ADA)
    response = await canvas.post(
        f"{ESSAY}/moderated_students",
        data={"student_ids[]": [str(ALAN), str(ADA), str(DEMO.grader_id), "999999"]},
    )
    assert response.status_code == 200
    assert [u["id"] for u in response.json()] == [ADA, ALAN]
    response = await canvas.post(f"{ESSAY}/moderated_students", json={"student_ids": [ADA]})
    assert [u["id"] for u in response.json()] == [ADA]


# --- selecting grades -----------------------------------------------------------------------


async def test_selecting_a_grade_answers_the_selection_and_shows_in_the_grid(canvas):
    chosen = (await grade_ids(canvas, ESSAY, ADA))[1]
    response = await canvas.put(f"{ESSAY}/provisional_grades/{chosen}/select")
    assert (response.status_code, response.json()) == (
        200,
        {
            "assignment_id": DEMO.essay_id,
            "student_id": ADA,
            "selected_provisional_grade_id": chosen,
        },
    )
    ada = row_of(await all_students(canvas, ESSAY), ADA)
    assert (ada["in_moderation_set"], ada["selected_provisional_grade_id"]) == (True, chosen)


async def test_a_grade_of_another_assignment_cannot_be_selected_here(canvas):
    lab_grade = (await grade_ids(canvas, LAB, ADA))[0]
    for grade_id in (lab_grade, 1):
        response = await canvas.put(f"{ESSAY}/provisional_grades/{grade_id}/select")
        assert (response.status_code, response.json()) == (404, NOT_FOUND)


async def test_selecting_for_a_student_outside_the_moderation_set_is_400(sandbox_app, canvas):
    chosen = (await grade_ids(canvas, ESSAY, ADA))[0]
    sandbox_app.state.sandbox.remove_selection(DEMO.essay_id, ADA)
    response = await canvas.put(f"{ESSAY}/provisional_grades/{chosen}/select")
    assert (response.status_code, response.json()) == (
        400,
        {"message": "student not in moderation set"},
    )


async def test_only_moderators_select(canvas, grader):
    chosen = (await grade_ids(canvas, ESSAY, ADA))[0]
    response = await grader.put(f"{ESSAY}/provisional_grades/{chosen}/select")
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


async def test_selecting_an_anonymous_students_grade_answers_with_the_anonymous_id(canvas):
    first = (await all_students(canvas, JOURNAL))[0]
    chosen = first["provisional_grades"][0]["provisional_grade_id"]
    response = await canvas.put(f"{JOURNAL}/provisional_grades/{chosen}/select")
    assert response.json() == {
        "assignment_id": DEMO.anonymous_id,
        "selected_provisional_grade_id": chosen,
        "anonymous_id": first["anonymous_id"],
    }


async def test_bulk_select_later_ids_win_unknown_ids_are_ignored_and_only_changes_return(canvas):
    ada_first, ada_second, _ = await grade_ids(canvas, ESSAY, ADA)
    alan_selected = (await grade_ids(canvas, ESSAY, ALAN))[0]  # already selected in the seed
    lab_before = row_of(await all_students(canvas, LAB), ADA)
    lab_grade = lab_before["provisional_grades"][1]["provisional_grade_id"]
    response = await canvas.put(
        f"{ESSAY}/provisional_grades/bulk_select",
        json={
            "provisional_grade_ids": [
                str(ada_first),
                "999999",
                str(lab_grade),
                str(alan_selected),
                str(ada_second),
            ]
        },
    )
    assert response.status_code == 200
    assert response.json() == [
        {
            "assignment_id": DEMO.essay_id,
            "student_id": ADA,
            "selected_provisional_grade_id": ada_second,
        }
    ]
    lab_after = row_of(await all_students(canvas, LAB), ADA)
    assert lab_after["selected_provisional_grade_id"] == lab_before["selected_provisional_grade_id"]


async def test_bulk_select_takes_form_ids_and_anonymous_students_answer_with_anonymous_ids(canvas):
    students = await all_students(canvas, JOURNAL)
    unselected = [s for s in students if s["selected_provisional_grade_id"] is None][:2]
    ids = [s["provisional_grades"][0]["provisional_grade_id"] for s in unselected]
    response = await canvas.put(
        f"{JOURNAL}/provisional_grades/bulk_select",
        data={"provisional_grade_ids[]": [str(i) for i in ids]},
        headers=STRING_IDS,
    )
    assert response.json() == [
        {
            "assignment_id": str(DEMO.anonymous_id),
            "selected_provisional_grade_id": str(grade_id),
            "anonymous_id": student["anonymous_id"],
        }
        for grade_id, student in zip(ids, unselected, strict=True)
    ]


async def test_bulk_select_for_a_student_without_a_selection_row_is_a_500(sandbox_app, canvas):
    chosen = (await grade_ids(canvas, ESSAY, ADA))[0]
    sandbox_app.state.sandbox.remove_selection(DEMO.essay_id, ADA)
    response = await canvas.put(
        f"{ESSAY}/provisional_grades/bulk_select", json={"provisional_grade_ids": [chosen]}
    )
    assert response.status_code == 500
    body = response.json()
    assert body["errors"] == [
        {"message": "An error occurred.", "error_code": "internal_server_error"}
    ]
    assert isinstance(body["error_report_id"], int)


# --- status ---------------------------------------------------------------------------------


async def test_status_without_last_updated_at_only_says_whether_a_grade_is_needed(canvas, grader):
    response = await canvas.get(f"{ESSAY}/provisional_grades/status", params={"student_id": ADA})
    assert response.json() == {"needs_provisional_grade": True}
    response = await grader.get(f"{ESSAY}/provisional_grades/status", params={"student_id": ADA})
    assert response.json() == {"needs_provisional_grade": True}  # Jonas holds a grader slot


async def test_status_with_a_stale_time_gives_every_grade_with_comments(canvas):
    response = await canvas.get(
        f"{ESSAY}/provisional_grades/status",
        params={"student_id": EDSGER, "last_updated_at": "1970-01-01T00:00:00Z"},
    )
    status = response.json()
    assert [pg["score"] for pg in status["provisional_grades"]] == [5.0, 8.0, 6.0]
    assert [pg["scorer_name"] for pg in status["provisional_grades"]] == [
        "Jonas Weber",
        "Priya Raman",
        "Tomás Lindqvist",
    ]
    assert all(pg["readonly"] and not pg["selected"] for pg in status["provisional_grades"])
    final = status["final_provisional_grade"]
    assert (final["score"], final["final"], final["selected"], final["readonly"]) == (
        7.0,
        True,
        True,
        False,
    )
    assert final["submission_comments"][0]["author_name"] == "Mira Okafor"


async def test_status_with_hidden_grader_names_omits_scorer_name(canvas):
    response = await canvas.get(
        f"{LAB}/provisional_grades/status",
        params={"student_id": ADA, "last_updated_at": "1970-01-01T00:00:00Z"},
    )
    grades = response.json()["provisional_grades"]
    assert grades and all("scorer_name" not in pg for pg in grades)


async def test_status_checks_the_student_before_the_caller(student):
    # Order matters and shows: an unknown student is 404 even for a caller with no rights.
    unknown = await student.get(f"{ESSAY}/provisional_grades/status", params={"student_id": "1"})
    assert (unknown.status_code, unknown.json()) == (404, NOT_FOUND)
    blank = await student.get(f"{ESSAY}/provisional_grades/status", params={"student_id": ""})
    assert blank.status_code == 404
    real = await student.get(f"{ESSAY}/provisional_grades/status", params={"student_id": ADA})
    assert (real.status_code, real.json()) == (401, UNAUTHORIZED)


async def test_status_without_student_id_is_a_missing_parameter(canvas):
    response = await canvas.get(f"{ESSAY}/provisional_grades/status")
    assert (response.status_code, response.json()) == (
        400,
        {"errors": [{"message": "student_id is missing"}]},
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (PLAIN, "Assignment does not use moderated grading"),
        (RELEASED, "Assignment grades have already been published"),
    ],
)
async def test_status_refuses_unmoderated_and_published_assignments(canvas, path, message):
    response = await canvas.get(f"{path}/provisional_grades/status", params={"student_id": ADA})
    assert (response.status_code, response.json()) == (400, {"message": message})


async def test_grade_details_are_for_moderators_only(grader):
    response = await grader.get(
        f"{ESSAY}/provisional_grades/status",
        params={"student_id": ADA, "last_updated_at": "1970-01-01T00:00:00Z"},
    )
    assert response.status_code == 401


async def test_anonymous_status_finds_the_student_by_anonymous_id(canvas):
    first = (await all_students(canvas, JOURNAL))[0]
    path = f"{JOURNAL}/anonymous_provisional_grades/status"
    response = await canvas.get(
        path, params={"anonymous_id": first["anonymous_id"], "last_updated_at": "1970-01-01"}
    )
    assert len(response.json()["provisional_grades"]) == 2
    assert (await canvas.get(path, params={"anonymous_id": "zzzzz"})).status_code == 404
    missing = await canvas.get(path)
    assert missing.json() == {"errors": [{"message": "anonymous_id is missing"}]}


async def test_a_full_grader_panel_leaves_no_slot_for_another_grader(sandbox_app):
    state = sandbox_app.state.sandbox
    newcomer = state.add_user("Nadia Haddad", token="7~newcomer", created_at=state.clock())
    state.enroll(DEMO.course_id, newcomer.id, "ta")
    async with client_for(sandbox_app, "7~newcomer") as ta:
        status = await ta.get(f"{ESSAY}/provisional_grades/status", params={"student_id": ADA})
        assert status.json() == {"needs_provisional_grade": False}
        response = await ta.put(
            f"{ESSAY}/submissions/{ADA}",
            data={"submission[posted_grade]": "9", "submission[provisional]": "true"},
        )
    assert (response.status_code, response.json()) == (
        400,
        {"error": "The maximum number of graders has been reached for this assignment."},
    )


# --- publishing -----------------------------------------------------------------------------


async def test_publishing_with_undecided_students_is_422_and_changes_nothing(sandbox_app, canvas):
    response = await canvas.post(f"{ESSAY}/provisional_grades/publish")
    assert (response.status_code, response.json()) == (
        422,
        {"message": "All submissions must have a selected grade"},
    )
    assert sandbox_app.state.sandbox.assignments[DEMO.essay_id].grades_published_at is None
    status = await canvas.get(f"{ESSAY}/provisional_grades/status", params={"student_id": ADA})
    assert status.status_code == 200


async def test_publishing_copies_each_chosen_grade_to_the_gradebook(sandbox_app, canvas):
    response = await canvas.post(f"{READY}/provisional_grades/publish")
    assert (response.status_code, response.json()) == (200, {"message": "OK"})
    state = sandbox_app.state.sandbox
    assert state.assignments[DEMO.ready_id].grades_published_at is not None
    single = state.submission_for(DEMO.ready_id, 5303)  # one grade only: Priya's 16
    assert (single.score, single.grade, single.grader_id) == (16.0, "16", DEMO.ta_id)
    ungraded = state.submission_for(DEMO.ready_id, DEMO.ungraded_student_id)
    assert ungraded.score is None
    again = await canvas.post(f"{READY}/provisional_grades/publish")
    assert (again.status_code, again.json()) == (
        400,
        {"message": "Assignment grades have already been published"},
    )


async def test_publishing_an_unmoderated_assignment_is_400(admin):
    response = await admin.post(f"{PLAIN}/provisional_grades/publish")
    assert (response.status_code, response.json()) == (
        400,
        {"message": "Assignment does not use moderated grading"},
    )


async def test_settling_the_last_undecided_students_lets_publishing_through(canvas):
    students = await all_students(canvas, ESSAY)
    undecided = [
        s
        for s in students
        if s["selected_provisional_grade_id"] is None and len(s["provisional_grades"]) > 1
    ]
    assert len(undecided) == 15
    ids = [s["provisional_grades"][0]["provisional_grade_id"] for s in undecided]
    changed = await canvas.put(
        f"{ESSAY}/provisional_grades/bulk_select", json={"provisional_grade_ids": ids}
    )
    assert len(changed.json()) == 15
    response = await canvas.post(f"{ESSAY}/provisional_grades/publish")
    assert response.status_code == 200


@pytest.mark.parametrize("token", [DEMO.grader_token, DEMO.student_token])
async def test_only_the_final_grader_or_an_admin_publishes(sandbox_app, token):
    async with client_for(sandbox_app, token) as someone:
        response = await someone.post(f"{READY}/provisional_grades/publish")
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


# --- entering grades --------------------------------------------------------------------------


async def test_a_custom_grade_is_a_final_provisional_grade(canvas):
    response = await canvas.put(
        f"{ESSAY}/submissions/{ADA}",
        data={
            "submission[posted_grade]": "7.5",
            "submission[provisional]": "true",
            "submission[final]": "true",
        },
    )
    assert response.status_code == 200
    answer = response.json()
    assert (answer["user_id"], answer["score"], answer["grade"]) == (ADA, 7.5, "7.5")
    ada = row_of(await all_students(canvas, ESSAY), ADA)
    final = ada["provisional_grades"][-1]
    assert (final["provisional_grade_id"], final["final"], final["score"]) == (
        answer["provisional_grade_id"],
        True,
        7.5,
    )
    # Changing the custom grade edits the same provisional grade (JSON bodies work too).
    again = await canvas.put(
        f"{ESSAY}/submissions/{ADA}",
        json={"submission": {"posted_grade": 6, "provisional": True, "final": True}},
    )
    assert again.json()["provisional_grade_id"] == answer["provisional_grade_id"]
    assert again.json()["grade"] == "6"


async def test_a_final_grade_needs_another_grade_first(canvas):
    response = await canvas.put(
        f"{ESSAY}/submissions/{DEMO.ungraded_student_id}",
        data={
            "submission[posted_grade]": "7",
            "submission[provisional]": "true",
            "submission[final]": "true",
        },
    )
    assert (response.status_code, response.json()) == (
        400,
        {"error": "Cannot give a final mark for a student with no other provisional grades"},
    )


async def test_a_non_moderators_final_flag_is_ignored(canvas, grader):
    jonas_grade = (await grade_ids(canvas, ESSAY, ADA))[0]
    response = await grader.put(
        f"{ESSAY}/submissions/{ADA}",
        data={
            "submission[posted_grade]": "9",
            "submission[provisional]": "true",
            "submission[final]": "true",
        },
    )
    assert response.json()["provisional_grade_id"] == jonas_grade
    ada = row_of(await all_students(canvas, ESSAY), ADA)
    assert [pg["final"] for pg in ada["provisional_grades"]] == [False, False, False]
    assert ada["provisional_grades"][0]["score"] == 9.0


async def test_a_selected_grade_cannot_be_changed_by_its_grader(grader):
    response = await grader.put(
        f"{ESSAY}/submissions/{ALAN}",
        data={"submission[posted_grade]": "9", "submission[provisional]": "true"},
    )
    assert (response.status_code, response.json()) == (
        400,
        {"error": "PROVISIONAL_GRADE_MODIFY_SELECTED"},
    )


async def test_a_moderated_assignment_refuses_a_plain_grade_before_release(grader):
    response = await grader.put(
        f"{ESSAY}/submissions/{ADA}", data={"submission[posted_grade]": "9"}
    )
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


async def test_a_letter_grade_is_read_on_the_schools_scheme(sandbox_app):
    async with client_for(sandbox_app, DEMO.ta_token) as priya:
        response = await priya.put(
            f"{LAB}/submissions/{ALAN}",
            data={"submission[posted_grade]": "a-", "submission[provisional]": "true"},
        )
    assert (response.json()["grade"], response.json()["score"]) == ("A-", 90.0)


async def test_an_unmoderated_assignment_is_graded_directly(sandbox_app, grader):
    response = await grader.put(
        f"{PLAIN}/submissions/{ADA}", data={"submission[posted_grade]": "4"}
    )
    answer = response.json()
    assert (answer["grade"], answer["score"], answer["grader_id"]) == ("4", 4.0, DEMO.grader_id)
    assert "provisional_grade_id" not in answer


async def test_anonymous_submissions_are_graded_by_anonymous_id(canvas):
    first = (await all_students(canvas, JOURNAL))[0]
    response = await canvas.put(
        f"{JOURNAL}/anonymous_submissions/{first['anonymous_id']}",
        data={
            "submission[posted_grade]": "9",
            "submission[provisional]": "true",
            "submission[final]": "true",
        },
    )
    answer = response.json()
    assert "user_id" not in answer
    assert answer["anonymous_id"] == first["anonymous_id"]
    unknown = await canvas.put(f"{JOURNAL}/anonymous_submissions/zzzzz", data={})
    assert unknown.status_code == 404


async def test_grading_someone_who_is_not_a_student_is_404(canvas):
    response = await canvas.put(
        f"{ESSAY}/submissions/{DEMO.grader_id}",
        data={"submission[posted_grade]": "9", "submission[provisional]": "true"},
    )
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


# --- courses of any size --------------------------------------------------------------------


@pytest.mark.parametrize(("students", "pages"), [(1, 1), (100, 1), (101, 2)])
async def test_built_courses_paginate_at_100(students, pages):
    state = demo_state()
    course_id, assignment_id = build_moderated_course(state, students=students, graders=2)
    async with client_for(create_app(state), DEMO.final_grader_token) as client:
        response = await client.get(
            f"{assignment(assignment_id, course_id)}/gradeable_students",
            params={**WITH_GRADES, "per_page": "100"},
        )
    assert f'page={pages}&per_page=100>; rel="last"' in response.headers["Link"]
    assert len(response.json()) == min(students, 100)
    assert all(len(s["provisional_grades"]) in (1, 2) for s in response.json())


async def test_built_anonymous_courses_hide_students_and_graders():
    state = demo_state()
    course_id, assignment_id = build_moderated_course(
        state, students=5, anonymous=True, grader_names_visible=False, name_prefix="Learner"
    )
    async with client_for(create_app(state), DEMO.final_grader_token) as client:
        students = await all_students(client, assignment(assignment_id, course_id))
    assert [s["display_name"] for s in students] == [f"Student {n}" for n in range(1, 6)]
    assert all("anonymous_grader_id" in pg for s in students for pg in s["provisional_grades"])
