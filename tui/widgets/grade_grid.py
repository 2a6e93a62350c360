"""The comparison grid: one row per student, one column per grader, on Textual's line API.

A DataTable measures every cell once on its first layout (about 2 s at 5,000 rows), which would
freeze the desk right after loading a large course. This widget only renders the rows that are
on screen, so its cost does not grow with the number of students.

Everything it draws comes from a `Board`; it never talks to Canvas. User data (names, grades) is
written as plain segments, never through markup, and passed through `safe_text` first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.board import Board, GraderColumn, StudentRow, StudentStatus, format_grade
from tui.text import safe_text

__all__ = ["GradeGrid"]

SELECTED_MARK = "✓"
PENDING_MARK = "…"
CURSOR_MARK = "▸"
RESUBMITTED_MARK = "↻"
DISAGREE_MARK = "≠"
CHANGED_MARK = "*"

STATUS_TEXT = {
    StudentStatus.SELECTED: "selected",
    StudentStatus.NEEDS_CHOICE: "choose",
    StudentStatus.SINGLE: "single",
    StudentStatus.NO_GRADE: "no grade",
}


@dataclass(frozen=True, slots=True)
class _Layout:
    """Column widths for one terminal width; recomputed only when the width or columns change."""

    name: int
    grader: tuple[int, ...]
    custom: int
    final: int
    status: int


class GradeGrid(ScrollView, can_focus=True):
    """A keyboard-driven grid of students x graders with a fixed header line."""

    DEFAULT_CSS = """
    GradeGrid {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
    }
    GradeGrid > .grade-grid--header {
        text-style: bold;
        background: $panel;
        color: $text;
    }
    GradeGrid > .grade-grid--cursor {
        text-style: reverse bold;
    }
    GradeGrid > .grade-grid--cursor-row {
        background: $boost;
    }
    GradeGrid > .grade-grid--selected {
        text-style: bold underline;
        color: $success;
    }
    GradeGrid > .grade-grid--pending {
        text-style: italic;
        color: $warning;
    }
    GradeGrid > .grade-grid--blocking {
        color: $warning;
        text-style: bold;
    }
    GradeGrid > .grade-grid--disagree {
        color: $error;
    }
    GradeGrid > .grade-grid--muted {
        color: $text-muted;
    }
    GradeGrid > .grade-grid--changed {
        color: $accent;
        text-style: bold;
    }
    """

    COMPONENT_CLASSES = {
        "grade-grid--header",
        "grade-grid--cursor",
        "grade-grid--cursor-row",
        "grade-grid--selected",
        "grade-grid--pending",
        "grade-grid--blocking",
        "grade-grid--disagree",
        "grade-grid--muted",
        "grade-grid--changed",
    }

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("left,h", "cursor_left", "Left", show=False),
        Binding("right,l", "cursor_right", "Right", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first_row", "First", show=False),
        Binding("end,G", "last_row", "Last", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)
    cursor_column: reactive[int] = reactive(0, init=False)

    class CursorMoved(Message):
        """The cursor is on another student or column."""

        def __init__(self, grid: GradeGrid, row: StudentRow | None) -> None:
            super().__init__()
            self.grid = grid
            self.row = row

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._board: Board | None = None
        self._rows: Sequence[StudentRow] = ()
        self._pending: Mapping[str, int] = {}
        self._changed: frozenset[str] = frozenset()
        self._layout: _Layout | None = None
        self._layout_key: tuple[int, int] | None = None
        self._name_cache: dict[str, str] = {}

    # ----------------------------------------------------------------------------- data in

    @property
    def rows(self) -> Sequence[StudentRow]:
        return self._rows

    @property
    def graders(self) -> tuple[GraderColumn, ...]:
        return self._board.graders if self._board else ()

    @property
    def current_row(self) -> StudentRow | None:
        if 0 <= self.cursor_row < len(self._rows):
            return self._rows[self.cursor_row]
        return None

    @property
    def current_grader(self) -> GraderColumn | None:
        """The grader under the cursor; None on the custom-grade column."""
        graders = self.graders
        if 0 <= self.cursor_column < len(graders):
            return graders[self.cursor_column]
        return None

    @property
    def on_custom_column(self) -> bool:
        return self.cursor_column == len(self.graders)

    def show(
        self,
        board: Board,
        rows: Sequence[StudentRow],
        *,
        pending: Mapping[str, int] | None = None,
        changed: frozenset[str] = frozenset(),
        keep_key: str | None = None,
    ) -> None:
        """Show `rows` of `board`, keeping the cursor on the student `keep_key` if still shown."""
        previous_key = keep_key
        if previous_key is None and self.current_row is not None:
            previous_key = self.current_row.key
        self._board = board
        self._rows = rows
        self._pending = pending or {}
        self._changed = changed
        self._layout_key = None
        self._update_virtual_size()
        target = 0
        if previous_key is not None:
            for index, row in enumerate(rows):
                if row.key == previous_key:
                    target = index
                    break
            else:
                target = min(self.cursor_row, max(len(rows) - 1, 0))
        self.cursor_column = min(self.cursor_column, len(board.graders))
        self.cursor_row = target
        self.refresh()

    def set_pending(self, pending: Mapping[str, int]) -> None:
        self._pending = pending
        self.refresh()

    # ----------------------------------------------------------------------------- movement

    def validate_cursor_row(self, value: int) -> int:
        return max(0, min(value, len(self._rows) - 1)) if self._rows else 0

    def validate_cursor_column(self, value: int) -> int:
        return max(0, min(value, len(self.graders)))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.CursorMoved(self, self.current_row))

    def watch_cursor_column(self) -> None:
        self.refresh()

    @property
    def _body_height(self) -> int:
        return max(self.size.height - 1, 1)

    def _scroll_cursor_into_view(self) -> None:
        top = round(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + self._body_height:
            self.scroll_to(y=self.cursor_row - self._body_height + 1, animate=False)

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_cursor_left(self) -> None:
        self.cursor_column -= 1

    def action_cursor_right(self) -> None:
        self.cursor_column += 1

    def action_page_up(self) -> None:
        self.cursor_row -= self._body_height

    def action_page_down(self) -> None:
        self.cursor_row += self._body_height

    def action_first_row(self) -> None:
        self.cursor_row = 0

    def action_last_row(self) -> None:
        self.cursor_row = len(self._rows) - 1

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            return
        row = round(self.scroll_y) + event.y - 1
        if 0 <= row < len(self._rows):
            self.cursor_row = row
            column = self._column_at(event.x)
            if column is not None:
                self.cursor_column = column

    def _update_virtual_size(self) -> None:
        # As wide as the widget (columns shrink to fit instead of scrolling sideways), one line
        # per student plus the fixed header.
        self.virtual_size = Size(max(self.scrollable_content_region.width, 1), len(self._rows) + 1)

    def on_resize(self) -> None:
        self._layout_key = None
        self._update_virtual_size()
        self._scroll_cursor_into_view()

    # ----------------------------------------------------------------------------- layout

    def _compute_layout(self) -> _Layout:
        width = self.scrollable_content_region.width
        key = (width, len(self.graders))
        if self._layout is not None and self._layout_key == key:
            return self._layout
        labels = [safe_text(g.label) + (" (you)" if g.is_me else "") for g in self.graders]
        grader = [max(6, min(14, cell_len(label) + 2)) for label in labels]
        custom, final, status = 7, 7, 8
        # Two cells of cursor mark and two of flags, then the columns separated by one space.
        fixed = 2 + 2 + sum(grader) + custom + final + status + len(grader) + 3
        name = width - fixed - 1
        while name < 18 and any(w > 6 for w in grader):
            # Narrow terminal: shorten grader labels before the students' names, which are
            # what the grader reads first.
            index = grader.index(max(grader))
            grader[index] -= 1
            name += 1
        self._layout = _Layout(max(name, 8), tuple(grader), custom, final, status)
        self._layout_key = key
        return self._layout

    def _column_at(self, x: int) -> int | None:
        layout = self._compute_layout()
        position = 4 + layout.name + 1
        for index, width in enumerate((*layout.grader, layout.custom)):
            if position <= x < position + width:
                return index
            position += width + 1
        return None

    # ----------------------------------------------------------------------------- rendering

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"grade-grid--{name}")

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if self._board is None:
            return Strip.blank(width, base)
        if y == 0:
            return self._render_header(width)
        index = round(self.scroll_y) + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, base)
        return self._render_row(index, width, base)

    def _render_header(self, width: int) -> Strip:
        layout = self._compute_layout()
        style = self._style("header")
        cells = ["    " + _fit("Student", layout.name)]
        for grader, column_width in zip(self.graders, layout.grader, strict=False):
            label = safe_text(grader.label) + (" (you)" if grader.is_me else "")
            cells.append(_fit(label, column_width, centre=True))
        cells.append(_fit("Custom", layout.custom, centre=True))
        cells.append(_fit("Final", layout.final, centre=True))
        cells.append(_fit("Status", layout.status))
        return Strip([Segment(" ".join(cells), style)]).adjust_cell_length(width, style)

    def _render_row(self, index: int, width: int, base: Style) -> Strip:
        layout = self._compute_layout()
        row = self._rows[index]
        assignment = self._board.assignment
        is_cursor_row = index == self.cursor_row
        row_style = base + self._style("cursor-row") if is_cursor_row else base
        pending_id = self._pending.get(row.key)
        segments: list[Segment] = []

        def add(text: str, style: Style | None = None) -> None:
            segments.append(Segment(text, row_style + style if style else row_style))

        add(f"{CURSOR_MARK} " if is_cursor_row else "  ")
        if row.key in self._changed:
            add(CHANGED_MARK, self._style("changed"))
        elif row.resubmitted:
            add(RESUBMITTED_MARK, self._style("blocking"))
        else:
            add(" ")
        add(DISAGREE_MARK if row.agreement is False else " ", self._style("disagree"))
        add(_fit(self._display_name(row), layout.name))

        columns: list[tuple[object, int]] = [
            (row.grades.get(grader.key), w)
            for grader, w in zip(self.graders, layout.grader, strict=False)
        ]
        columns.append((row.custom, layout.custom))
        for column_index, (grade, column_width) in enumerate(columns):
            add(" ")
            text, style = self._cell(row, grade, pending_id, assignment)
            if is_cursor_row and column_index == self.cursor_column:
                style = (style or Style()) + self._style("cursor")
            add(_fit(text, column_width, centre=True), style)

        add(" ")
        final_text, final_style = self._final_cell(row, pending_id, assignment)
        add(_fit(final_text, layout.final, centre=True), final_style)
        add(" ")
        status_style = {
            StudentStatus.NEEDS_CHOICE: self._style("blocking"),
            StudentStatus.NO_GRADE: self._style("muted"),
            StudentStatus.SINGLE: self._style("muted"),
        }.get(row.status)
        status = "saving" if pending_id is not None else STATUS_TEXT[row.status]
        add(_fit(status, layout.status), status_style)
        return Strip(segments).adjust_cell_length(width, row_style)

    def _cell(self, row: StudentRow, grade, pending_id: int | None, assignment):
        if grade is None:
            return "–", self._style("muted")
        text = safe_text(format_grade(grade, assignment))
        if pending_id is not None and grade.id == pending_id:
            return f"{PENDING_MARK}{text}", self._style("pending")
        if row.selected_id is not None and grade.id == row.selected_id:
            return f"{SELECTED_MARK}{text}", self._style("selected")
        if row.agreement is False:
            return text, self._style("disagree")
        return text, None

    def _final_cell(self, row: StudentRow, pending_id: int | None, assignment):
        if pending_id is not None:
            return PENDING_MARK, self._style("pending")
        if row.selected is not None:
            return safe_text(format_grade(row.selected, assignment)), self._style("selected")
        if row.status is StudentStatus.NEEDS_CHOICE:
            return "?", self._style("blocking")
        if row.publish_grade is not None and row.publish_grade.has_grade:
            # What release would give without a choice: shown in brackets, not as selected.
            return f"({safe_text(format_grade(row.publish_grade, assignment))})", self._style(
                "muted"
            )
        return "–", self._style("muted")

    def _display_name(self, row: StudentRow) -> str:
        # Keyed by the raw name: sanitising is per character, and rows are redrawn on every key.
        cached = self._name_cache.get(row.name)
        if cached is None:
            cached = self._name_cache[row.name] = safe_text(row.name)
        return cached


def _fit(text: str, width: int, *, centre: bool = False) -> str:
    """`text` in exactly `width` cells: cut with an ellipsis, padded, optionally centred."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…"
    if centre:
        left = (width - length) // 2
        return " " * left + text + " " * (width - length - left)
    return text + " " * (width - length)
