"""Choosing what to moderate: a course, then one of its assignments. Type to filter."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.widgets.data_table import CellDoesNotExist

from tui.canvas.errors import CanvasError
from tui.canvas.models import Assignment, Course
from tui.screens.base import DeskScreen
from tui.text import safe_text


def _plain(value: object, style: str = "") -> Text:
    """A table cell that shows user data literally: no markup, no control characters."""
    return Text(safe_text(value), style=style, no_wrap=True, overflow="ellipsis")


class PickerScreen(DeskScreen):
    """A filter box over a table of rows; arrows move in the table while you type."""

    DEFAULT_CSS = """
    PickerScreen #picker-filter { margin: 0 1; }
    PickerScreen #picker-title { padding: 0 1; text-style: bold; }
    PickerScreen #picker-message { padding: 0 1; color: $text-muted; }
    PickerScreen DataTable { height: 1fr; }
    """

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "move(-10)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("enter", "open", "Open", id="open"),
        Binding("r", "reload", "Reload", id="reload"),
    ]

    COLUMNS: Sequence[str] = ()
    title_text = ""

    def __init__(self) -> None:
        super().__init__()
        self._items: list = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.title_text, id="picker-title", markup=False)
        yield Input(placeholder="Type to filter", id="picker-filter")
        table = DataTable(cursor_type="row", zebra_stripes=True, id="picker-table")
        self.column_keys = dict(zip(self.COLUMNS, table.add_columns(*self.COLUMNS), strict=True))
        yield table
        yield Static("Loading…", id="picker-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#picker-filter", Input).focus()
        self.action_reload()

    def action_reload(self) -> None:
        self.query_one("#picker-table", DataTable).loading = True
        self._load()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def _load(self) -> None:
        table = self.query_one("#picker-table", DataTable)
        try:
            self._items = list(await self.fetch())
        except CanvasError as error:
            self.message(str(error))
            return
        finally:
            table.loading = False
        self._refill()
        self.loaded()

    def loaded(self) -> None:
        """Called once the rows are shown: a place for follow-up questions to Canvas."""

    async def fetch(self) -> Sequence:
        raise NotImplementedError

    def cells(self, item) -> tuple[Text, ...]:
        raise NotImplementedError

    def search_text(self, item) -> str:
        raise NotImplementedError

    def item_key(self, item) -> str:
        return str(item.id)

    def chosen(self, item) -> None:
        raise NotImplementedError

    def empty_message(self) -> str:
        return "Nothing here."

    def message(self, text: str) -> None:
        self.query_one("#picker-message", Static).update(text)

    @on(Input.Changed, "#picker-filter")
    def _refill(self) -> None:
        needle = self.query_one("#picker-filter", Input).value.strip().casefold()
        table = self.query_one("#picker-table", DataTable)
        table.clear()
        shown = 0
        for item in self._items:
            if needle and needle not in self.search_text(item).casefold():
                continue
            table.add_row(*self.cells(item), key=self.item_key(item))
            shown += 1
        if not self._items:
            self.message(self.empty_message())
        elif needle:
            self.message(f"{shown} of {len(self._items)} shown · filter: {needle}")
        else:
            self.message(f"{len(self._items)} · type to filter, enter to open")

    def action_move(self, delta: int) -> None:
        table = self.query_one("#picker-table", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.cursor_row + delta, table.row_count - 1)))

    @on(Input.Submitted, "#picker-filter")
    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        table = self.query_one("#picker-table", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        for item in self._items:
            if self.item_key(item) == key:
                self.chosen(item)
                return


class CoursesScreen(PickerScreen):
    """The courses you teach."""

    COLUMNS = ("Course", "Code", "Id")
    title_text = "Your courses"

    async def fetch(self) -> Sequence[Course]:
        return await self.app.api.list_courses()

    def cells(self, course: Course) -> tuple[Text, ...]:
        return _plain(course.name), _plain(course.course_code or ""), _plain(course.id, "dim")

    def search_text(self, course: Course) -> str:
        return f"{course.name} {course.course_code or ''} {course.id}"

    def empty_message(self) -> str:
        return "You teach no courses on this Canvas."

    def chosen(self, course: Course) -> None:
        self.app.push_screen(AssignmentsScreen(course.id, course.name))


class AssignmentsScreen(PickerScreen):
    """A course's assignments, with what matters for moderation."""

    COLUMNS = ("Assignment", "Moderated", "Graders", "Final grader", "Anonymous", "Released", "Id")

    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back", id="back")]

    def __init__(self, course_id: int, course_name: str | None = None) -> None:
        super().__init__()
        self.course_id = course_id
        # assignment id -> "yes" / "no" / "?": REST does not say, so it is asked per assignment.
        self.released: dict[int, str] = {}
        self.title_text = safe_text(course_name) if course_name else f"Course {course_id}"

    def on_mount(self) -> None:
        # Textual also runs PickerScreen.on_mount (handlers run for each class): no super().
        if self.app.remember_course is not None:
            try:
                self.app.remember_course(self.course_id)
            except Exception as error:  # remembering is a convenience: never in the way
                self.log.warning(f"could not remember the course: {type(error).__name__}")

    async def fetch(self) -> Sequence[Assignment]:
        return await self.app.api.list_assignments(self.course_id)

    def cells(self, assignment: Assignment) -> tuple[Text, ...]:
        me = self.app.user.id if self.app.user else None
        if not assignment.moderated_grading:
            return (
                _plain(assignment.name, "dim"),
                _plain("no", "dim"),
                _plain("", "dim"),
                _plain("", "dim"),
                _plain("", "dim"),
                _plain("", "dim"),
                _plain(assignment.id, "dim"),
            )
        if assignment.is_final_grader(me):
            final = _plain("you", "bold")
        elif assignment.final_grader_id is None:
            final = _plain("none set")
        else:
            final = _plain("someone else")
        return (
            _plain(assignment.name),
            _plain("yes", "bold"),
            _plain(assignment.grader_count),
            final,
            _plain("yes" if assignment.anonymous_grading else "no"),
            _plain(self.released.get(assignment.id, "…")),
            _plain(assignment.id, "dim"),
        )

    def loaded(self) -> None:
        self._ask_released()

    @work(group="released", exclusive=True, exit_on_error=False)
    async def _ask_released(self) -> None:
        """Fill the Released column: one small status request per moderated assignment."""
        moderated = [a for a in self._items if a.moderated_grading]
        if not moderated:
            return
        try:
            student_id = await self.app.api.any_student_id(self.course_id)
        except CanvasError:
            student_id = None
        if student_id is None:
            self._show_released({a.id: "?" for a in moderated})
            return

        async def ask(assignment: Assignment) -> tuple[int, str]:
            try:
                published = await self.app.api.grades_published(
                    self.course_id, assignment.id, student_id
                )
            except CanvasError:
                return assignment.id, "?"
            return assignment.id, "yes" if published else "no"

        # A handful at a time: a course can have many assignments, Canvas has a rate limit.
        for start in range(0, len(moderated), 4):
            batch = moderated[start : start + 4]
            self._show_released(dict(await asyncio.gather(*(ask(a) for a in batch))))

    def _show_released(self, answers: dict[int, str]) -> None:
        self.released.update(answers)
        table = self.query_one("#picker-table", DataTable)
        for assignment_id, answer in answers.items():
            # A row filtered out has no cell: it is drawn from `released` when it comes back.
            with contextlib.suppress(CellDoesNotExist):
                table.update_cell(str(assignment_id), self.column_keys["Released"], _plain(answer))

    def search_text(self, assignment: Assignment) -> str:
        moderated = "moderated" if assignment.moderated_grading else "not moderated"
        return f"{assignment.name} {assignment.id} {moderated}"

    def empty_message(self) -> str:
        return "This course has no assignments."

    def chosen(self, assignment: Assignment) -> None:
        from tui.screens.grid import GridScreen

        if not assignment.moderated_grading:
            self.notify(
                f"{safe_text(assignment.name)} can't be moderated: it does not use moderated "
                "grading. Turn on Moderated Grading in the assignment's settings in Canvas.",
                severity="warning",
                markup=False,
            )
            return
        self.app.push_screen(GridScreen(self.course_id, assignment.id))
