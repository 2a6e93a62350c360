"""The desk driven from the keyboard against the sandbox Canvas, as a final grader uses it."""

from __future__ import annotations

import json
import re

from textual import events
from textual.widgets import DataTable, Input, SelectionList
from ui_helpers import grid_app, make_app, notifications, running, screen_text, settle

from tui.board import StudentStatus
from tui.sandbox.seed import DEMO
from tui.screens.connect import ConnectScreen
from tui.screens.courses import AssignmentsScreen, CoursesScreen
from tui.screens.details import DetailsScreen
from tui.screens.grid import GridScreen
from tui.screens.publish import PublishModal
from tui.widgets.grade_grid import GradeGrid

SIZE = (120, 40)


def grid_of(app) -> GradeGrid:
    return app.screen.query_one(GradeGrid)


def row_text(app, index: int) -> str:
    """The line the user sees for the `index`-th student shown."""
    grid = grid_of(app)
    return grid.render_line(index + 1 - round(grid.scroll_y)).text


def canvas_selection(sandbox, assignment_id: int, student_id: int) -> int | None:
    selection = sandbox.state.selections.get((assignment_id, student_id))
    return selection.selected_provisional_grade_id if selection else None


def publish_posts(sandbox) -> int:
    return sum(
        count
        for route, count in sandbox.stats.by_route.items()
        if route.startswith("POST") and route.endswith("/publish")
    )


def is_published(sandbox, assignment_id: int) -> bool:
    return sandbox.state.assignments[assignment_id].grades_published_at is not None


def move_to(app, student_id: int, column: int = 0) -> int:
    grid = grid_of(app)
    for index, row in enumerate(grid.rows):
        if row.student.user_id == student_id:
            grid.cursor_row = index
            grid.cursor_column = column
            return index
    raise AssertionError(f"student {student_id} is not shown")


def first_row_with(app, status: StudentStatus) -> int:
    for index, row in enumerate(grid_of(app).rows):
        if row.status is status:
            grid_of(app).cursor_row = index
            return index
    raise AssertionError(f"no row is {status}")


# ------------------------------------------------------------------------------- navigation


async def test_start_shows_who_and_which_canvas_then_courses(sandbox):
    async with running(make_app(sandbox)) as (app, pilot):
        assert isinstance(app.screen, CoursesScreen)
        text = screen_text(app)
        assert "Mira Okafor" in text and "Sandbox Canvas" in text
        assert "ENG 210" in text


async def test_type_to_filter_then_open_course_and_refuse_unmoderated(sandbox):
    async with running(make_app(sandbox)) as (app, pilot):
        await pilot.press(*"ENG")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AssignmentsScreen)
        assert app.screen.course_id == DEMO.course_id
        await pilot.press(*"quiz")
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AssignmentsScreen), "an unmoderated assignment opens nothing"
        assert any("can't be moderated" in message for message in notifications(app))


async def test_course_and_assignment_flags_go_straight_to_the_grid(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        assert isinstance(app.screen, GridScreen)
        text = screen_text(app)
        assert "final grader: you" in text
        assert "7 / 24 selected · 15 need a choice · 1 without a grade" in text
        for grader in ("Jonas Weber", "Priya Raman"):
            assert grader in text
        await pilot.press("escape")
        assert isinstance(app.screen, AssignmentsScreen)


# ------------------------------------------------------------------------------- selecting


async def test_enter_shows_saving_until_canvas_confirms_the_selection(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        index = first_row_with(app, StudentStatus.NEEDS_CHOICE)
        row = grid_of(app).rows[index]
        grade = row.grades[grid_of(app).graders[0].key]
        sandbox.faults.latency = 0.5  # keeps the request in flight while we look
        await pilot.press("enter")
        await pilot.pause()
        assert "saving" in row_text(app, index)
        assert "✓" not in row_text(app, index), "nothing is selected before Canvas says so"
        await settle(pilot)
        assert canvas_selection(sandbox, DEMO.essay_id, row.student.user_id) == grade.id
        assert "✓" in row_text(app, index)
        assert "selected" in row_text(app, index)


async def test_a_refused_selection_goes_back_with_a_message(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        index = first_row_with(app, StudentStatus.NEEDS_CHOICE)
        student_id = grid_of(app).rows[index].student.user_id
        sandbox.faults.fail_next("/select", 404)
        await pilot.press("enter")
        await settle(pilot)
        assert canvas_selection(sandbox, DEMO.essay_id, student_id) is None
        assert "✓" not in row_text(app, index)
        assert "choose" in row_text(app, index)
        assert any("was not selected" in message for message in notifications(app))


async def test_accept_agreements_selects_only_students_whose_graders_agree(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        agreed = [
            row
            for row in grid_of(app).rows
            if row.agreement and row.selected_id is None and len(row.grades) >= 2
        ]
        disagreeing = [row for row in grid_of(app).rows if row.agreement is False]
        assert agreed and disagreeing
        await pilot.press("A")
        await settle(pilot)
        for row in agreed:
            chosen = canvas_selection(sandbox, DEMO.essay_id, row.student.user_id)
            assert chosen in {grade.id for grade in row.grades.values()}
        for row in disagreeing:
            assert canvas_selection(sandbox, DEMO.essay_id, row.student.user_id) == row.selected_id
        assert f"for {len(agreed)} students" in " ".join(notifications(app))


async def test_accept_grader_takes_that_graders_grade_for_every_unselected_student(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        grid = grid_of(app)
        grid.cursor_column = 1
        priya = grid.graders[1]
        before = {row.key: row for row in grid.rows}
        await pilot.press("a")
        await settle(pilot)
        for row in before.values():
            chosen = canvas_selection(sandbox, DEMO.essay_id, row.student.user_id)
            if row.selected_id is not None:
                assert chosen == row.selected_id, "existing selections are kept"
            elif priya.key in row.grades:
                assert chosen == row.grades[priya.key].id
        assert "Priya Raman" in " ".join(notifications(app))


async def test_custom_grade_is_saved_then_selected(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        index = first_row_with(app, StudentStatus.NEEDS_CHOICE)
        student_id = grid_of(app).rows[index].student.user_id
        await pilot.press("c")
        await pilot.press(*"9.5", "enter")
        await settle(pilot)
        chosen = canvas_selection(sandbox, DEMO.essay_id, student_id)
        grade = sandbox.state.provisional_grades[chosen]
        assert grade.final and grade.score == 9.5
        assert "✓9.5" in row_text(app, index)


async def test_custom_grade_refuses_text_for_a_points_assignment(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        await pilot.press("c")
        await pilot.press(*"lots", "enter")
        await pilot.pause()
        assert "type a number" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, GridScreen)


# ------------------------------------------------------------------------------- publishing


async def test_publish_cancelled_sends_nothing(sandbox):
    async with running(grid_app(sandbox, DEMO.ready_id)) as (app, pilot):
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PublishModal)
        text = screen_text(app)
        assert "irreversible" in text and "overwrites" in text
        await pilot.press(*"publish")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, GridScreen)
        assert publish_posts(sandbox) == 0
        assert not is_published(sandbox, DEMO.ready_id)


async def test_publish_confirmed_releases_once_and_makes_the_grid_read_only(sandbox):
    async with running(grid_app(sandbox, DEMO.ready_id)) as (app, pilot):
        await pilot.press("p")
        await settle(pilot)
        await pilot.press(*"publish", "enter", "enter", "enter")
        await settle(pilot)
        assert is_published(sandbox, DEMO.ready_id)
        assert publish_posts(sandbox) == 1
        assert "read-only" in screen_text(app)
        before = dict(sandbox.state.selections)
        await pilot.press("right", "enter")
        await settle(pilot)
        assert dict(sandbox.state.selections) == before
        assert any("can no longer be changed" in message for message in notifications(app))


async def test_publish_needs_the_word_not_just_enter(sandbox):
    async with running(grid_app(sandbox, DEMO.ready_id)) as (app, pilot):
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("enter", "enter", *"publsh", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PublishModal)
        assert "Type the word publish" in screen_text(app)
        assert publish_posts(sandbox) == 0


async def test_a_pasted_newline_does_not_publish(sandbox):
    async with running(grid_app(sandbox, DEMO.ready_id)) as (app, pilot):
        await pilot.press("p")
        await settle(pilot)
        field = app.screen.query_one(Input)
        field.post_message(events.Paste("publish\npublish\n"))
        await settle(pilot)
        assert isinstance(app.screen, PublishModal)
        assert field.value == "publish"
        assert publish_posts(sandbox) == 0


async def test_publish_blocked_lists_students_and_sends_nothing(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PublishModal)
        text = screen_text(app)
        assert "15 students block release" in text
        assert "Ada Lovelace" in text
        assert not app.screen.query(Input), "no way to confirm a release Canvas would refuse"
        await pilot.press(*"publish", "enter")
        await settle(pilot)
        assert publish_posts(sandbox) == 0


async def test_already_released_assignment_is_shown_as_released(sandbox):
    async with running(grid_app(sandbox, DEMO.released_id)) as (app, pilot):
        assert "have been released" in screen_text(app)
        await pilot.press("p")
        await settle(pilot)
        assert not isinstance(app.screen, PublishModal)
        assert publish_posts(sandbox) == 0


async def test_released_by_someone_else_meanwhile_shows_released_not_an_error(sandbox):
    async with running(grid_app(sandbox, DEMO.ready_id)) as (app, pilot):
        await pilot.press("p")
        await settle(pilot)
        # Another moderator releases while this dialog is open.
        sandbox.state.assignments[DEMO.ready_id].grades_published_at = sandbox.state.clock()
        await pilot.press(*"publish", "enter")
        await settle(pilot)
        assert "have been released" in screen_text(app)
        assert any("already been released" in message for message in notifications(app))


async def test_changes_by_another_moderator_are_shown_before_release(sandbox):
    async with running(grid_app(sandbox, DEMO.ready_id)) as (app, pilot):
        row = next(r for r in grid_of(app).rows if len(r.grades) >= 2 and r.selected_id)
        other = next(g for g in row.grades.values() if g.id != row.selected_id)
        sandbox.state.selections[
            (DEMO.ready_id, row.student.user_id)
        ].selected_provisional_grade_id = other.id
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PublishModal)
        assert "1 student changed in Canvas" in screen_text(app)


# ------------------------------------------------------------------------------- faults


async def test_throttling_still_loads_every_student(sandbox):
    sandbox.faults.throttle_rate = 0.3
    sandbox.faults.throttle_status = 429
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        assert len(grid_of(app).rows) == 24
        assert "7 / 24 selected" in screen_text(app)


async def test_server_errors_on_load_say_so_and_r_recovers(sandbox):
    sandbox.faults.fail_next("gradeable_students", 500, times=50)
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        assert "internal error" in " ".join(notifications(app))
        assert "Press r" in screen_text(app)
        sandbox.faults.reset()
        await pilot.press("r")
        await settle(pilot)
        assert len(grid_of(app).rows) == 24


async def test_a_token_revoked_mid_session_gives_one_clear_message(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        sandbox.state.revoke_token(sandbox.token, "Expired")
        index = first_row_with(app, StudentStatus.NEEDS_CHOICE)
        await pilot.press("enter")
        await settle(pilot)
        assert "choose" in row_text(app, index)
        assert any("expired" in message.lower() for message in notifications(app))
        assert sandbox.token not in screen_text(app)


async def test_the_assignment_deleted_while_open_ends_in_a_message(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        sandbox.state.assignments[DEMO.essay_id].workflow_state = "deleted"
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, GridScreen)
        assert any("could not find" in message for message in notifications(app))


# ------------------------------------------------------------------------------- anonymity, names


async def test_anonymous_assignment_shows_no_real_student_name(sandbox):
    async with running(grid_app(sandbox, DEMO.anonymous_id)) as (app, pilot):
        text = screen_text(app)
        assert "Student 1" in text
        student_names = [
            sandbox.state.users[user_id].name
            for user_id in sandbox.state.student_ids(DEMO.course_id)
        ]
        for name in student_names:
            assert name not in text
        await pilot.press("d")
        await settle(pilot)
        text = screen_text(app)
        for name in student_names:
            assert name not in text
        await pilot.press("escape", "m")
        await settle(pilot)
        text = screen_text(app)
        for name in student_names:
            assert name not in text


async def test_hidden_grader_names_are_never_shown(sandbox):
    async with running(grid_app(sandbox, DEMO.lab_id)) as (app, pilot):
        text = screen_text(app)
        assert "Grader 1" in text and "Grader 2" in text
        for grader in ("Jonas Weber", "Priya Raman", "Tomás Lindqvist"):
            assert grader not in text
        await pilot.press("d")
        await settle(pilot)
        text = screen_text(app)
        for grader in ("Jonas Weber", "Priya Raman", "Tomás Lindqvist"):
            assert grader not in text


async def test_names_with_markup_are_shown_literally(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        text = screen_text(app)
        assert "Zoë [resit] Ångström" in text
        assert "Smith [/x]" in text


# ------------------------------------------------------------------------------- views


async def test_reload_keeps_the_cursor_on_the_same_student(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        await pilot.press("down", "down", "down")
        key = grid_of(app).current_row.key
        await pilot.press("r")
        await settle(pilot)
        assert grid_of(app).current_row.key == key


async def test_filter_sort_and_jump(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        await pilot.press("f")
        rows = grid_of(app).rows
        assert rows and all(row.status is StudentStatus.NEEDS_CHOICE for row in rows)
        assert "showing need a choice" in screen_text(app)
        await pilot.press("f", "f", "f", "s", "s")
        spreads = [row.spread or 0 for row in grid_of(app).rows]
        assert spreads == sorted(spreads, reverse=True)
        await pilot.press("slash", *"knuth", "enter")
        await pilot.pause()
        assert grid_of(app).current_row.name == "Donald Knuth"


async def test_details_show_every_grade_comments_and_the_speedgrader_link(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        move_to(app, DEMO.resubmitted_student_id)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        text = screen_text(app)
        assert "resubmitted after grading" in text
        assert "speed_grader" in text
        assert "Loading comments" not in text
        await pilot.press("escape")
        assert isinstance(app.screen, GridScreen)


async def test_moderation_set_lists_count_and_adds_students(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        await pilot.press("m")
        await settle(pilot)
        text = screen_text(app)
        assert "students are in the moderation set" in text
        assert "every student in the moderation set by itself" in text


async def test_help_lists_every_key(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        await pilot.press("question_mark")
        text = screen_text(app)
        for key_help in ("select the grade", "accept every student", "release grades"):
            assert key_help in text
        await pilot.press("escape")
        assert isinstance(app.screen, GridScreen)


# ------------------------------------------------------------------------------- connecting


async def test_without_a_token_the_connect_screen_checks_one_before_using_it(sandbox):
    async with running(make_app(sandbox, connected=False)) as (app, pilot):
        assert isinstance(app.screen, ConnectScreen)
        token_field = app.screen.query_one("#connect-token", Input)
        assert token_field.password, "the token is masked as typed"
        token_field.focus()
        await pilot.press(*"1~wrong-token", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConnectScreen)
        assert "did not accept the access token" in screen_text(app)
        token_field.value = ""
        await pilot.press(*sandbox.token, "enter")
        await settle(pilot)
        assert isinstance(app.screen, CoursesScreen)
        assert sandbox.token not in screen_text(app)


async def test_a_change_while_the_dialog_is_open_asks_again_and_releases_nothing(sandbox):
    async with running(grid_app(sandbox, DEMO.ready_id)) as (app, pilot):
        row = next(r for r in grid_of(app).rows if len(r.grades) >= 2 and r.selected_id)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PublishModal)
        other = next(g for g in row.grades.values() if g.id != row.selected_id)
        selection = sandbox.state.selections[(DEMO.ready_id, row.student.user_id)]
        selection.selected_provisional_grade_id = other.id
        await pilot.press(*"publish", "enter")
        await settle(pilot)
        assert publish_posts(sandbox) == 0
        assert not is_published(sandbox, DEMO.ready_id)
        assert isinstance(app.screen, PublishModal), "a fresh confirmation is asked for"
        assert "1 student changed in Canvas" in screen_text(app)
        await pilot.press(*"publish", "enter")
        await settle(pilot)
        assert publish_posts(sandbox) == 1
        assert is_published(sandbox, DEMO.ready_id)


async def test_own_selections_are_not_reported_as_changes_by_others(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        await pilot.press("A")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert not app.screen.changed
        assert "changed in Canvas" not in " ".join(notifications(app))


async def test_every_change_from_the_desk_is_in_the_audit_trail(sandbox, private_dirs):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        first_row_with(app, StudentStatus.NEEDS_CHOICE)
        await pilot.press("enter", "A")
        await settle(pilot)
    trail = (private_dirs / "state" / "audit.jsonl").read_text()
    lines = [json.loads(line) for line in trail.splitlines()]
    assert [(line["action"], line["phase"]) for line in lines] == [
        ("select", "request"),
        ("select", "answer"),
        ("bulk_select", "request"),
        ("bulk_select", "answer"),
    ]
    assert all(line.get("outcome", "ok") == "ok" for line in lines)
    assert sandbox.token not in trail


async def test_no_change_is_sent_when_the_audit_trail_cannot_be_written(sandbox, private_dirs):
    (private_dirs / "state").mkdir(parents=True, exist_ok=True)
    (private_dirs / "state" / "audit.jsonl").mkdir()  # a folder where the file should be
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        index = first_row_with(app, StudentStatus.NEEDS_CHOICE)
        student_id = grid_of(app).rows[index].student.user_id
        await pilot.press("enter")
        await settle(pilot)
        assert canvas_selection(sandbox, DEMO.essay_id, student_id) is None
        assert "choose" in row_text(app, index)
        assert any("audit log" in message for message in notifications(app))


HOSTILE_NAMES = [
    "\x1b[31mRed\x1b[0m Alert\x1b]0;owned\x07",
    "[bold]Not Bold[/bold] [/x]",
    "Lee [resit] @click=app.quit",
    "\u202eevil.exe\u202c Override",
    "مريم العربية",
    "Bell\x07 Tab\tNew\nLine",
    "W" * 200,
]


async def test_hostile_names_are_shown_literally_and_safely():
    from tui.sandbox.seed import build_moderated_course, demo_state
    from tui.sandbox.server import SandboxServer

    state = demo_state()
    course_id, assignment_id = build_moderated_course(state, students=len(HOSTILE_NAMES))
    for user_id, name in zip(state.student_ids(course_id), HOSTILE_NAMES, strict=True):
        user = state.users[user_id]
        user.name = user.short_name = user.sortable_name = name
    with SandboxServer(state=state) as sandbox:
        app = make_app(sandbox, course_id=course_id, assignment_id=assignment_id)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, GridScreen), "the desk kept running"
            text = screen_text(app)
            for control in ("\x1b", "\x07", "\u202e", "\t"):
                assert control not in text
            assert "[bold]Not Bold[/bold] [/x]" in text, "markup is shown, not obeyed"
            assert "Lee [resit] @click=app.quit" in text
            assert "مريم العربية" in text
            assert "Red" in text and "Alert" in text
            assert "WWWWWWWWWW" in text and "…" in text, "a 200-character name is cut, not wrapped"
            await pilot.press("p")
            await settle(pilot)
            text = screen_text(app)
            assert "\x1b" not in text and "[bold]Not Bold[/bold]" in text
            await pilot.press("escape", "down", "d")
            await settle(pilot)
            assert "[bold]Not Bold[/bold] [/x]" in screen_text(app)


async def test_a_typed_token_is_checked_kept_in_the_keyring_and_never_shown(sandbox, monkeypatch):
    import keyring
    from keyring_backends import MemoryKeyring

    from tui import credentials

    backend = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    async with running(make_app(sandbox, connected=False, keep_token=credentials.keep_token)) as (
        app,
        pilot,
    ):
        app.screen.query_one("#connect-token", Input).focus()
        await pilot.press(*sandbox.token)
        assert sandbox.token not in app.export_screenshot(), "masked as typed"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CoursesScreen)
        assert any("kept in the keyring" in message for message in notifications(app))
        assert sandbox.token not in app.export_screenshot()
    host = sandbox.url.split("://", 1)[1]
    assert backend.get_password("moderate", host) == sandbox.token
    assert credentials.resolve_token(sandbox.url).secret.reveal() == sandbox.token


async def test_the_last_course_opened_is_remembered_for_the_next_start(sandbox):
    remembered = []
    app = make_app(sandbox)
    app.remember_course = remembered.append
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AssignmentsScreen)
        assert remembered == [DEMO.course_id]
        assert sandbox.stats.by_route["GET /api/v1/courses/{course_id}/assignments"] == 1


async def test_a_large_course_is_usable_from_the_first_page_with_progress_shown(sandbox):
    sandbox.faults.latency = 0.2  # so that the load is still running while we look
    app = make_app(sandbox, course_id=DEMO.big_course_id, assignment_id=DEMO.big_assignment_id)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(500):  # wait for the first page, not for a fixed time
            if isinstance(app.screen, GridScreen) and grid_of(app).rows:
                break
            await pilot.pause(0.01)
        assert re.search(r"loaded [\d,]+ of 2,500 students", screen_text(app))
        assert len(grid_of(app).rows) < DEMO.big_course_students
        await pilot.press("down", "down")
        assert grid_of(app).cursor_row == 2, "the grid answers keys while pages load"
        await settle(pilot)
        assert len(grid_of(app).rows) == DEMO.big_course_students
        assert "loaded" not in screen_text(app)


async def test_the_command_palette_offers_the_grid_actions(sandbox):
    async with running(grid_app(sandbox, DEMO.ready_id)) as (app, pilot):
        await pilot.press("ctrl+p")
        await pilot.press(*"Release grades")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PublishModal)


# ------------------------------------------------------------------------------- races and guards


async def wait_for_first_page(app, pilot) -> None:
    for _ in range(500):  # a condition, not a fixed time
        if isinstance(app.screen, GridScreen) and grid_of(app).rows:
            return
        await pilot.pause(0.01)
    raise AssertionError("no page arrived")


async def test_a_selection_confirmed_while_pages_load_is_not_undone_by_them(sandbox):
    sandbox.faults.latency = 0.2
    app = make_app(sandbox, course_id=DEMO.big_course_id, assignment_id=DEMO.big_assignment_id)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_first_page(app, pilot)
        index = first_row_with(app, StudentStatus.NEEDS_CHOICE)
        row = grid_of(app).rows[index]
        await pilot.press("enter")
        await settle(pilot)
        chosen = canvas_selection(sandbox, DEMO.big_assignment_id, row.student.user_id)
        assert chosen is not None
        shown = app.screen.board.row(row.key)
        assert shown.selected_id == chosen
        assert not app.screen.changed, "our own selection is not someone else's change"


async def test_a_selection_confirmed_during_a_reload_survives_it(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        index = first_row_with(app, StudentStatus.NEEDS_CHOICE)
        row = grid_of(app).rows[index]
        sandbox.faults.latency = 0.3
        await pilot.press("r")
        await pilot.press("enter")
        await settle(pilot)
        chosen = canvas_selection(sandbox, DEMO.essay_id, row.student.user_id)
        assert chosen is not None
        assert app.screen.board.row(row.key).selected_id == chosen
        assert "✓" in row_text(app, index)


async def test_reloading_during_the_first_load_marks_nothing_as_changed(sandbox):
    sandbox.faults.latency = 0.2
    app = make_app(sandbox, course_id=DEMO.big_course_id, assignment_id=DEMO.big_assignment_id)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_first_page(app, pilot)
        await pilot.press("r")
        await settle(pilot)
        assert len(grid_of(app).rows) == DEMO.big_course_students
        assert not app.screen.changed
        assert "changed in Canvas" not in " ".join(notifications(app))


async def test_leaving_or_quitting_while_releasing_is_refused_once(sandbox):
    async with running(grid_app(sandbox, DEMO.ready_id)) as (app, pilot):
        await pilot.press("p")
        await settle(pilot)
        sandbox.faults.latency = 0.5
        await pilot.press(*"publish", "enter")
        await pilot.pause()
        await pilot.press("escape", "q")
        assert isinstance(app.screen, GridScreen), "the release is not cut off"
        assert app.is_running
        await settle(pilot)
        assert is_published(sandbox, DEMO.ready_id)
        assert "have been released" in screen_text(app)
        messages = " ".join(notifications(app))
        assert "Wait for Canvas to answer" in messages and "Press q again" in messages


async def test_a_custom_grade_saved_but_not_selected_says_exactly_that(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        index = first_row_with(app, StudentStatus.NEEDS_CHOICE)
        student_id = grid_of(app).rows[index].student.user_id
        sandbox.faults.fail_next("/select", 404)
        await pilot.press("c", *"9", "enter")
        await settle(pilot)
        assert canvas_selection(sandbox, DEMO.essay_id, student_id) is None
        assert any("saved but not selected" in m for m in notifications(app))
        assert "9" in row_text(app, index) and "✓9" not in row_text(app, index)


async def test_a_custom_grade_must_be_a_finite_number(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        await pilot.press("c", *"nan", "enter")
        await pilot.pause()
        assert "Type a number" in screen_text(app)


async def test_students_ticked_in_the_moderation_set_are_added(sandbox):
    sandbox.state.remove_selection(DEMO.essay_id, DEMO.ungraded_student_id)
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        await pilot.press("m")
        await settle(pilot)
        assert "23 of 24 students are in the moderation set" in screen_text(app)
        options = app.screen.query_one(SelectionList)
        position = next(
            i
            for i in range(options.option_count)
            if options.get_option_at_index(i).value == DEMO.ungraded_student_id
        )
        options.highlighted = position
        await pilot.press("space", "a")
        await settle(pilot)
        assert (DEMO.essay_id, DEMO.ungraded_student_id) in sandbox.state.selections
        assert "24 of 24 students are in the moderation set" in screen_text(app)


async def test_a_hostile_final_grader_name_cannot_repaint_the_header(sandbox):
    user = sandbox.state.users[DEMO.final_grader_id]
    user.name = user.short_name = "Mira\x1b]0;PWNED\x07\x1b[5m"
    async with running(make_app(sandbox)) as (app, pilot):
        text = screen_text(app)
        assert "Mira" in text and "\x1b" not in text and "\x07" not in text


async def test_assignments_say_which_grades_were_already_released(sandbox):
    async with running(make_app(sandbox, course_id=DEMO.course_id)) as (app, pilot):
        essay_1 = next(line for line in screen_text(app).splitlines() if "Essay 1" in line)
        essay_2 = next(line for line in screen_text(app).splitlines() if "Essay 2" in line)
        assert "Released" in screen_text(app)
        assert essay_1.split()[-2] == "yes", essay_1
        assert essay_2.split()[-2] == "no", essay_2


async def test_n_and_digits_clear_the_students_who_need_a_choice_fast(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        grid = grid_of(app)
        grid.cursor_row = 0
        await pilot.press("n")
        first = grid.current_row
        assert (
            first.status is StudentStatus.NEEDS_CHOICE
            and grid.cursor_row > 0
            or (grid.rows[0].status is StudentStatus.NEEDS_CHOICE)
        )
        priya = grid.graders[1]
        await pilot.press("2")
        await settle(pilot)
        chosen = canvas_selection(sandbox, DEMO.essay_id, first.student.user_id)
        assert chosen == first.grades[priya.key].id
        await pilot.press("n")
        assert grid.current_row.key != first.key
        assert grid.current_row.status is StudentStatus.NEEDS_CHOICE
        await pilot.press("9")
        assert any("no grader 9" in message for message in notifications(app))


async def test_the_palette_runs_actions_that_take_arguments(sandbox):
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        grid_of(app).cursor_row = 1  # Alan Turing: already selected
        await pilot.press("ctrl+p", *"Next student to choose", "enter")
        await settle(pilot)
        assert grid_of(app).current_row.status is StudentStatus.NEEDS_CHOICE
