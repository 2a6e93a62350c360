"""The moderation set: which students Canvas lists for moderation, and adding to it."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, SelectionList, Static
from textual.widgets.selection_list import Selection

from tui.audit import AuditError
from tui.board import Board
from tui.canvas.errors import CanvasError
from tui.screens.base import DeskModal
from tui.text import safe_text


class ModerationSetScreen(DeskModal[None]):
    DEFAULT_CSS = """
    ModerationSetScreen > Vertical { height: 90%; }
    ModerationSetScreen #set-title { text-style: bold; }
    ModerationSetScreen #set-note { color: $text-muted; }
    ModerationSetScreen SelectionList { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="close"),
        # Not enter: the list uses enter and space to tick students.
        Binding("a", "add", "Add chosen", id="add"),
    ]

    def __init__(self, course_id: int, board: Board) -> None:
        super().__init__()
        self.course_id = course_id
        self.board = board
        self.members: set[int] = set()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Moderation set", id="set-title", markup=False)
            yield Static(
                "Current Canvas puts every student in the moderation set by itself, so this "
                "is usually everyone. Space ticks students not yet in it; a adds them.",
                id="set-note",
                markup=False,
            )
            yield Static("Loading…", id="set-count", markup=False)
            yield SelectionList[int](id="set-list")
            yield Footer()

    def on_mount(self) -> None:
        self._load()

    @property
    def anonymous(self) -> bool:
        return self.board.assignment.anonymous_grading

    @work(group="moderation-set", exclusive=True, exit_on_error=False)
    async def _load(self) -> None:
        count = self.query_one("#set-count", Static)
        try:
            members = await self.app.api.list_moderated_students(
                self.course_id, self.board.assignment.id
            )
        except (CanvasError, AuditError) as error:
            count.update(f"The moderation set could not be loaded: {error}")
            return
        self.members = {user.id for user in members}
        total = len(self.board.rows)
        count.update(f"{len(self.members):,} of {total:,} students are in the moderation set.")
        selection_list = self.query_one("#set-list", SelectionList)
        selection_list.clear_options()
        if self.anonymous:
            # Canvas's list names real students: showing it would break anonymous grading.
            count.update(
                f"{len(self.members):,} students are in the moderation set. Names are hidden "
                "because this assignment grades students anonymously."
            )
            selection_list.display = False
            return
        options = []
        for row in self.board.rows:
            user_id = row.student.user_id
            if user_id is None:
                continue
            inside = user_id in self.members
            label = Text(safe_text(row.name) + ("  (in the set)" if inside else ""))
            options.append(Selection(label, user_id, False, disabled=inside))
        selection_list.add_options(options)
        selection_list.focus()

    def action_add(self) -> None:
        chosen = list(self.query_one("#set-list", SelectionList).selected)
        if not chosen:
            self.notify("Tick students with space first.", markup=False)
            return
        self._add(chosen)

    @work(group="moderation-set", exclusive=True, exit_on_error=False)
    async def _add(self, student_ids: list[int]) -> None:
        try:
            added = await self.app.api.add_moderated_students(
                self.course_id, self.board.assignment.id, student_ids
            )
        except (CanvasError, AuditError) as error:
            self.notify(f"No student was added: {error}", severity="error", markup=False)
            return
        self.notify(f"Canvas confirmed {len(added)} students in the moderation set.", markup=False)
        self._load()

    @on(SelectionList.SelectedChanged)
    def _count_chosen(self) -> None:
        chosen = len(self.query_one("#set-list", SelectionList).selected)
        self.query_one("#set-title", Static).update(
            f"Moderation set · {chosen} chosen to add" if chosen else "Moderation set"
        )

    def action_close(self) -> None:
        self.dismiss(None)
