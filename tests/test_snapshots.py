"""What every screen and dialog looks like, at 80x24 and 120x40 (pytest-textual-snapshot).

Update with `make snapshots-update` after a deliberate change, and look at the report.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input
from ui_helpers import in_process_app, settle

from tui.sandbox.seed import DEMO

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def keys(*presses: str):
    async def run_before(pilot) -> None:
        pilot.app.animation_level = "none"
        await settle(pilot)
        for key in presses:
            await pilot.press(key)
            await settle(pilot)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        # Toasts come and go with time: they are tested in test_app.py, not pictured here.
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


def grid(assignment_id: int):
    return in_process_app(course_id=DEMO.course_id, assignment_id=assignment_id)


SCREENS = {
    "courses": (lambda: in_process_app(), ()),
    "assignments": (lambda: in_process_app(course_id=DEMO.course_id), ()),
    "grid": (lambda: grid(DEMO.essay_id), ("down", "right")),
    "grid_needs_choice_filter": (lambda: grid(DEMO.essay_id), ("f",)),
    "grid_anonymous": (lambda: grid(DEMO.anonymous_id), ()),
    "grid_hidden_graders": (lambda: grid(DEMO.lab_id), ()),
    "grid_released": (lambda: grid(DEMO.released_id), ()),
    "details": (lambda: grid(DEMO.essay_id), ("d",)),
    "custom_grade": (lambda: grid(DEMO.essay_id), ("c",)),
    "find": (lambda: grid(DEMO.essay_id), ("slash",)),
    "publish_blocked": (lambda: grid(DEMO.essay_id), ("p",)),
    "publish_confirm": (lambda: grid(DEMO.ready_id), ("p",)),
    "moderation_set": (lambda: grid(DEMO.essay_id), ("m",)),
    "help": (lambda: grid(DEMO.essay_id), ("question_mark",)),
    "connect": (lambda: in_process_app(connected=False), ()),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, screen: str, size: tuple[int, int]) -> None:
    make, presses = SCREENS[screen]
    assert snap_compare(make(), terminal_size=size, run_before=keys(*presses))
