"""The release dialog: says exactly what will happen, and asks for the word `publish`.

Release is irreversible and overwrites the gradebook, so nothing but typing `publish` and
pressing enter confirms it: not a stray enter, not key repeat, not a pasted newline (Textual's
Input keeps only the first line of a paste and never submits it).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from tui.board import Board
from tui.screens.base import DeskModal
from tui.text import safe_text

CONFIRM_WORD = "publish"
# Enough blockers to act on without hiding the rest of the dialog on a 24-line terminal.
BLOCKERS_SHOWN = 8


def _students(count: int) -> str:
    return f"{count:,} student{'s' if count != 1 else ''}"


def _verb(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


class PublishModal(DeskModal[bool]):
    DEFAULT_CSS = """
    PublishModal > Vertical { width: 76; border: thick $error; }
    PublishModal #publish-title { text-style: bold; }
    PublishModal #publish-warning { color: $error; text-style: bold; margin-top: 1; }
    PublishModal #publish-changed { color: $warning; }
    PublishModal #publish-blockers { height: auto; max-height: 10; color: $warning; }
    PublishModal #publish-hint { color: $text-muted; }
    PublishModal #publish-error { color: $error; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, board: Board, *, changed_keys: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__()
        self.board = board
        self.plan = board.publish_plan
        self.changed_keys = tuple(changed_keys)
        self._answered = False

    def compose(self) -> ComposeResult:
        plan = self.plan
        name = safe_text(self.board.assignment.name)
        with Vertical():
            yield Static(f"Release grades: {name}", id="publish-title", markup=False)
            lines = [
                f"• {_students(plan.selected)} {_verb(plan.selected, 'gets', 'get')} "
                "their selected grade.",
                f"• {_students(plan.single)} with a single grade "
                f"{_verb(plan.single, 'gets', 'get')} that one.",
            ]
            if plan.no_grade:
                verb = "is" if plan.no_grade == 1 else "are"
                lines.append(
                    f"• {_students(plan.no_grade)} without a grade {verb} left as they are."
                )
            yield Static("\n".join(lines), id="publish-plan", markup=False)
            if self.changed_keys:
                yield Static(
                    f"{_students(len(self.changed_keys))} changed in Canvas since you loaded "
                    "this grid (someone else may be moderating): they are marked * in the grid.",
                    id="publish-changed",
                    markup=False,
                )
            if plan.blocking:
                yield Static(
                    f"{_students(len(plan.blocking))} block release: each needs a selected grade.",
                    id="publish-warning",
                    markup=False,
                )
                with VerticalScroll(id="publish-blockers"):
                    shown = plan.blocking[:BLOCKERS_SHOWN]
                    text = "\n".join(
                        f"  {safe_text(row.name)}: {row.blocking_reason or 'no grade selected'}"
                        for row in shown
                    )
                    if len(plan.blocking) > len(shown):
                        text += f"\n  … and {len(plan.blocking) - len(shown):,} more"
                    yield Static(text, markup=False)
                yield Static(
                    "Nothing was sent. Press escape, then f to show who needs a choice.",
                    id="publish-hint",
                    markup=False,
                )
            else:
                yield Static(
                    "Release is irreversible and overwrites existing grades in the gradebook.",
                    id="publish-warning",
                    markup=False,
                )
                yield Static(
                    f"Type {CONFIRM_WORD} and press enter to release; escape cancels.",
                    id="publish-hint",
                    markup=False,
                )
                yield Input(placeholder=f"type {CONFIRM_WORD}", id="publish-confirm")
                yield Static("", id="publish-error", markup=False)

    def on_mount(self) -> None:
        inputs = self.query("#publish-confirm")
        if inputs:
            inputs.first().focus()

    @on(Input.Submitted, "#publish-confirm")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._answered:
            return
        if event.value.strip().casefold() != CONFIRM_WORD:
            self.query_one("#publish-error", Static).update(
                f"Type the word {CONFIRM_WORD} to release, or press escape."
            )
            return
        self._answered = True
        self.dismiss(True)

    def action_cancel(self) -> None:
        if not self._answered:
            self._answered = True
            self.dismiss(False)
