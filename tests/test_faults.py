"""The desk under faults: slow, throttled, failing and dropping Canvas; revoked tokens; deleted
assignments. Every run must end with the right data or one clear message, and the grid must
never show a grade as selected that Canvas did not confirm.
"""

from __future__ import annotations

import pytest
from ui_helpers import grid_app, notifications, running, screen_text, settle

from tui.board import StudentStatus
from tui.sandbox.seed import DEMO
from tui.screens.grid import GridScreen
from tui.screens.publish import PublishModal
from tui.widgets.grade_grid import GradeGrid

SIZE = (120, 40)

FAULT_MIXES = {
    "slow (2 s per request)": {"latency": 2.0},
    "30% throttled as 403": {"throttle_rate": 0.3, "throttle_status": 403},
    "30% throttled as 429": {"throttle_rate": 0.3, "throttle_status": 429},
    "10% server errors": {"error_rate": 0.1},
    "10% dropped connections": {"drop_rate": 0.1},
    "everything at once": {
        "latency": 0.05,
        "throttle_rate": 0.2,
        "error_rate": 0.05,
        "drop_rate": 0.05,
    },
}


def canvas_selections(sandbox, assignment_id: int) -> dict[int, int | None]:
    return {
        student_id: selection.selected_provisional_grade_id
        for (assignment, student_id), selection in sandbox.state.selections.items()
        if assignment == assignment_id
    }


def assert_only_confirmed_selections(app, sandbox, assignment_id: int) -> None:
    """Every check mark on screen is a selection Canvas holds."""
    canvas = canvas_selections(sandbox, assignment_id)
    screen = app.screen
    assert isinstance(screen, GridScreen)
    for row in screen.board.rows:
        if row.selected_id is not None:
            assert canvas.get(row.student.user_id) == row.selected_id, row.name


@pytest.mark.parametrize("mix", list(FAULT_MIXES))
async def test_the_desk_under_faults_shows_only_what_canvas_confirmed(sandbox, mix):
    sandbox.faults.seed = 7
    sandbox.faults.update(FAULT_MIXES[mix])
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, GridScreen)
        errors = [m for m in notifications(app) if m.startswith("Could not")]
        if screen.board is None or len(screen.board.rows) < 24:
            # Not everything could be had: then the user must have been told, in one sentence.
            assert errors, f"{mix}: a partial grid without a word"
            return
        grid = screen.query_one(GradeGrid)
        for index, row in enumerate(grid.rows):
            if row.status is StudentStatus.NEEDS_CHOICE:
                grid.cursor_row = index
                break
        await pilot.press("enter")
        await pilot.press("A")
        await settle(pilot)
        assert not screen.pending, "every request ended, one way or the other"
        assert_only_confirmed_selections(app, sandbox, DEMO.essay_id)

        # With the faults gone, a reload agrees with Canvas exactly.
        sandbox.faults.reset()
        await pilot.press("r")
        await settle(pilot)
        canvas = canvas_selections(sandbox, DEMO.essay_id)
        for row in app.screen.board.rows:
            assert row.selected_id == canvas.get(row.student.user_id), row.name


async def test_a_release_whose_answer_was_lost_is_settled_by_asking_canvas(sandbox):
    async with running(grid_app(sandbox, DEMO.ready_id)) as (app, pilot):
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PublishModal)
        sandbox.faults.drop_after_commit("/provisional_grades/publish")
        await pilot.press(*"publish", "enter")
        await settle(pilot)
        posts = sum(
            count
            for route, count in sandbox.stats.by_route.items()
            if route.startswith("POST") and route.endswith("/publish")
        )
        assert posts == 1, "a release is never sent twice"
        assert sandbox.state.assignments[DEMO.ready_id].grades_published_at is not None
        assert "have been released" in screen_text(app)


async def test_a_release_that_never_reached_canvas_says_so(sandbox):
    async with running(grid_app(sandbox, DEMO.ready_id)) as (app, pilot):
        await pilot.press("p")
        await settle(pilot)
        sandbox.faults.drop_next("/provisional_grades/publish")
        await pilot.press(*"publish", "enter")
        await settle(pilot)
        assert sandbox.state.assignments[DEMO.ready_id].grades_published_at is None
        message = " ".join(notifications(app))
        assert "NOT released" in message or "not released" in message
        assert "have been released" not in screen_text(app)


async def test_a_token_revoked_while_loading_ends_in_one_clear_message(sandbox):
    sandbox.faults.fail_next("gradeable_students", 401)
    async with running(grid_app(sandbox, DEMO.essay_id)) as (app, pilot):
        assert isinstance(app.screen, GridScreen)
        assert any("access token" in message for message in notifications(app))
        assert sandbox.token not in screen_text(app)
