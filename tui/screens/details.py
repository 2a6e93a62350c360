"""One student's grades in full: every grader, when, resubmissions, comments, SpeedGrader."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from tui.board import Board, StudentRow, format_grade
from tui.canvas.errors import CanvasError
from tui.canvas.models import GradeStatus, ProvisionalGrade
from tui.screens.base import DeskModal
from tui.text import safe_text


class DetailsScreen(DeskModal[None]):
    DEFAULT_CSS = """
    DetailsScreen > Vertical { width: 90; }
    DetailsScreen #details-title { text-style: bold; }
    DetailsScreen #details-body { height: auto; max-height: 1fr; }
    DetailsScreen #details-comments { color: $text-muted; margin-top: 1; }
    DetailsScreen #details-link { margin-top: 1; }
    """

    BINDINGS = [
        Binding("escape,d,i,q", "close", "Close", id="close"),
        Binding("y", "copy_link", "Copy SpeedGrader link", id="copy-link"),
    ]

    def __init__(self, course_id: int, board: Board, row: StudentRow) -> None:
        super().__init__()
        self.course_id = course_id
        self.board = board
        self.row = row

    @property
    def speedgrader_url(self) -> str | None:
        for grade in (*self.row.grades.values(), self.row.custom):
            if grade is not None and grade.speedgrader_url:
                return grade.speedgrader_url
        return None

    def compose(self) -> ComposeResult:
        row = self.row
        with Vertical():
            yield Static(f"{safe_text(row.name)}", id="details-title", markup=False)
            with VerticalScroll(id="details-body"):
                yield Static(self._grades_text(), id="details-grades", markup=False)
                yield Static("Loading comments…", id="details-comments", markup=False)
                link = self.speedgrader_url
                yield Static(
                    f"SpeedGrader: {safe_text(link)}  (y copies it)"
                    if link
                    else "SpeedGrader: no link (no grades yet)",
                    id="details-link",
                    markup=False,
                )
            yield Footer()

    def _grader_label(self, grade: ProvisionalGrade) -> str:
        if grade.final:
            return "Custom (final grader)"
        for column in self.board.graders:
            if column.key == grade.grader_key:
                return safe_text(column.label)
        return "Grader"

    def _grades_text(self) -> str:
        row = self.row
        assignment = self.board.assignment
        lines = [
            f"Status: {row.status.value}"
            + (f" ({row.blocking_reason})" if row.blocking_reason else "")
        ]
        if row.spread is not None:
            lines.append(f"Spread: {row.spread:g}")
        grades = [*row.grades.values(), *([row.custom] if row.custom else [])]
        if not grades:
            lines.append("No grader has graded this student yet.")
        for grade in grades:
            mark = "✓" if grade.id == row.selected_id else " "
            when = (
                grade.graded_at.strftime("%Y-%m-%d %H:%M UTC") if grade.graded_at else "not graded"
            )
            flag = (
                "  ↻ resubmitted after grading"
                if not grade.grade_matches_current_submission
                else ""
            )
            lines.append(
                f"{mark} {self._grader_label(grade):<24} {safe_text(format_grade(grade, assignment)):>8}"
                f"  {when}{flag}"
            )
        return "\n".join(lines)

    def on_mount(self) -> None:
        if not self.row.grades and self.row.custom is None:
            self.query_one("#details-comments", Static).update("")
            return
        self._load_status()

    @work(group="details", exclusive=True, exit_on_error=False)
    async def _load_status(self) -> None:
        comments = self.query_one("#details-comments", Static)
        try:
            status = await self.app.api.grade_status(
                self.course_id, self.board.assignment.id, self.row.student
            )
        except CanvasError as error:
            comments.update(f"Comments could not be loaded: {error}")
            return
        comments.update(self._comments_text(status))

    def _comments_text(self, status: GradeStatus) -> str:
        assignment = self.board.assignment
        # Author names could identify an anonymous student or a hidden grader: leave them out.
        show_authors = (
            not assignment.anonymous_grading and assignment.grader_names_visible_to_final_grader
        )
        lines: list[str] = []
        grades = [*status.provisional_grades]
        if status.final_provisional_grade is not None:
            grades.append(status.final_provisional_grade)
        for grade in grades:
            for comment in grade.comments:
                who = (
                    safe_text(comment.author_name)
                    if show_authors and comment.author_name
                    else self._grader_label(grade)
                )
                lines.append(f"{who}: {safe_text(comment.comment)}")
        return "Comments:\n" + "\n".join(lines) if lines else "No comments."

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_link(self) -> None:
        link = self.speedgrader_url
        if link:
            self.app.copy_to_clipboard(link)
            self.notify("SpeedGrader link copied to the clipboard.", markup=False)
