"""Small dialogs that ask for one line: a custom grade, a student to jump to."""

from __future__ import annotations

import math

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from tui.board import StudentRow, format_grade
from tui.canvas.models import Assignment
from tui.screens.base import DeskModal
from tui.text import safe_text

PROMPT_CSS = """
{name} > Vertical {{ width: 64; padding: 1 2; }}
{name} .prompt-help {{ color: $text-muted; }}
{name} .prompt-error {{ color: $error; }}
"""


class CustomGradeModal(DeskModal[str | None]):
    """The final grader's own grade for one student."""

    DEFAULT_CSS = PROMPT_CSS.format(name="CustomGradeModal")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, row: StudentRow, assignment: Assignment) -> None:
        super().__init__()
        self.row = row
        self.assignment = assignment

    def compose(self) -> ComposeResult:
        current = format_grade(self.row.custom, self.assignment) if self.row.custom else None
        if self.assignment.grading_type == "points":
            out_of = self.assignment.points_possible
            kind = f"Points{f' out of {out_of:g}' if out_of is not None else ''}"
        else:
            kind = f"Grade ({self.assignment.grading_type.replace('_', ' ')})"
        with Vertical():
            yield Static(f"Custom grade for {safe_text(self.row.name)}", markup=False)
            yield Static(
                f"{kind}. It is saved as your final provisional grade and selected. "
                "Enter saves, escape cancels."
                + (f" Current custom grade: {safe_text(current)}." if current else ""),
                classes="prompt-help",
                markup=False,
            )
            yield Input(placeholder=kind, id="custom-grade")
            yield Static("", classes="prompt-error", id="custom-error", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        problem = self._problem(value)
        if problem:
            self.query_one("#custom-error", Static).update(problem)
            return
        self.dismiss(value)

    def _problem(self, value: str) -> str | None:
        if not value:
            return "Type a grade, or press escape."
        if self.assignment.grading_type == "points":
            try:
                score = float(value)
            except ValueError:
                return "This assignment is graded in points: type a number such as 7.5."
            if not math.isfinite(score):
                return "Type a number such as 7.5."
            if score < 0:
                return "A score can't be negative."
        return None

    def action_cancel(self) -> None:
        self.dismiss(None)


class JumpModal(DeskModal[str | None]):
    """Find a student by name among the rows shown."""

    DEFAULT_CSS = PROMPT_CSS.format(name="JumpModal")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Jump to the next student whose name contains:", markup=False)
            yield Input(placeholder="name", id="jump-text")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
