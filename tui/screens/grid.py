"""The comparison grid: where a final grader compares, selects and releases grades.

Nothing is shown as selected until Canvas confirms it: a key press marks the cell as saving,
the answer from Canvas moves the check mark, and a refusal puts the cell back with a message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from collections.abc import Iterable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Static

from tui.audit import AuditError
from tui.board import Board, StudentRow, StudentStatus, build_board
from tui.canvas.errors import (
    AlreadyPublishedError,
    CanvasError,
    NotModeratedError,
    UnselectedGradesError,
)
from tui.canvas.models import Assignment, GradeableStudent, ProvisionalGrade, Selection
from tui.screens.base import DeskScreen
from tui.text import safe_text
from tui.widgets.grade_grid import GradeGrid

FILTERS = ("all", "needs_choice", "disagreements", "selected")
FILTER_LABELS = {
    "all": "all students",
    "needs_choice": "need a choice",
    "disagreements": "disagreements",
    "selected": "selected",
}
SORTS = ("canvas", "name", "spread")
SORT_LABELS = {"canvas": "Canvas order", "name": "name", "spread": "spread"}


class GridScreen(DeskScreen):
    DEFAULT_CSS = """
    GridScreen #grid-title { padding: 0 1; background: $panel; text-style: bold; height: 1; }
    GridScreen #grid-status { padding: 0 1; background: $panel; height: 1; }
    GridScreen #grid-notice { padding: 0 1; height: auto; color: $warning; display: none; }
    GridScreen #grid-notice.shown { display: block; }
    """

    # The footer shows the keys a final grader needs most; `?` lists every one.
    BINDINGS = [
        Binding("enter,space", "select", "Select", id="select"),
        Binding("n", "next_needing_choice(1)", "Next", id="next"),
        Binding("p", "publish", "Publish", id="publish"),
        Binding("d,i", "details", "Details", id="details"),
        Binding("A", "accept_agreements", "Agreed", id="accept-agreed"),
        Binding("f", "cycle_filter", "Filter", id="filter", show=False),
        Binding("N", "next_needing_choice(-1)", "Previous to choose", id="previous", show=False),
        *(
            Binding(str(n), f"select_grader({n})", f"Select grader {n}'s grade", show=False)
            for n in range(1, 10)
        ),
        Binding("a", "accept_grader", "Accept grader", id="accept-grader", show=False),
        Binding("c", "custom_grade", "Custom grade", id="custom", show=False),
        Binding("s", "cycle_sort", "Sort", id="sort", show=False),
        Binding("slash", "jump", "Find", id="find", key_display="/", show=False),
        Binding("m", "moderation_set", "Moderation set", id="moderation-set", show=False),
        Binding("r", "reload", "Reload", id="reload", show=False),
        Binding("escape,backspace", "back", "Back", id="back", show=False),
    ]

    # (title, help, action) for the command palette (ctrl+p).
    PALETTE_ACTIONS = (
        ("Release grades", "Publish the selected grades to the gradebook (asks first)", "publish"),
        (
            "Accept agreed grades",
            "Select the common grade where all graders agree",
            "accept_agreements",
        ),
        ("Accept this grader's grades", "For every student without a selection", "accept_grader"),
        ("Custom grade", "Enter your own grade for the current student", "custom_grade"),
        ("Student details", "Every grade, comments and the SpeedGrader link", "details"),
        ("Filter students", "All / need a choice / disagreements / selected", "cycle_filter"),
        ("Sort students", "Canvas order / name / spread", "cycle_sort"),
        ("Find a student", "Jump to a student by name", "jump"),
        (
            "Next student to choose for",
            "Jump to the next student who needs a choice",
            "next_needing_choice(1)",
        ),
        ("Moderation set", "See and add students in the moderation set", "moderation_set"),
        ("Reload from Canvas", "Fetch every grade again and mark what changed", "reload"),
    )

    def __init__(self, course_id: int, assignment_id: int) -> None:
        super().__init__()
        self.course_id = course_id
        self.assignment_id = assignment_id
        self.board: Board | None = None
        # The board as Canvas last showed it in full: what "changed since" compares against.
        self.loaded_board: Board | None = None
        self.pending: dict[str, int] = {}
        self.changed: frozenset[str] = frozenset()
        self.filter_kind = "all"
        self.sort_by = "canvas"
        self.is_loading = True
        self.progress = ""
        self.published = False
        self.publishing = False
        self._sort_cache: tuple[str, dict[str, int]] | None = None
        # Every change Canvas confirmed, numbered: a fetch that started before a confirmation
        # re-applies it, so that a reload in flight can never undo what the user just saw
        # Canvas accept.
        self._confirmed: list[tuple[int, list[GradeableStudent], list[Selection]]] = []
        self._change_number = 0

    # ----------------------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading the assignment…", id="grid-title", markup=False)
        yield Static("", id="grid-notice", markup=False)
        yield GradeGrid(id="grid")
        yield Static("", id="grid-status", markup=False)
        yield Footer()

    @property
    def grid(self) -> GradeGrid:
        return self.query_one(GradeGrid)

    @property
    def api(self):
        return self.app.api

    @property
    def assignment(self) -> Assignment | None:
        return self.board.assignment if self.board else None

    def on_mount(self) -> None:
        self.grid.focus()
        self._load(first=True)

    # ----------------------------------------------------------------------------- loading

    @work(group="load", exclusive=True, exit_on_error=False, description="load the grades")
    async def _load(self, *, first: bool = False) -> None:
        self.is_loading = True
        self._refresh_status()
        try:
            board = await self._fetch_board(show_progress=first)
        except NotModeratedError as error:
            self._notice(f"{error} There is nothing to moderate here.")
            self.is_loading = False
            self._refresh_status()
            return
        except (CanvasError, AuditError) as error:
            self.is_loading = False
            self.progress = ""
            self._refresh_status()
            self.app.report_error(error, doing="load the grades")
            if self.board is None:
                self._notice(f"{error} Press r to try again.")
            return
        self.is_loading = False
        self.progress = ""
        # Compared with what this grid showed (our own confirmed selections included), so
        # that only changes made elsewhere are marked.
        # A load that replaced an unfinished first load has nothing complete to compare with.
        previous = self.board if self.loaded_board is not None else None
        self.changed = frozenset(board.changed_since(previous)) if previous else frozenset()
        if self.changed:
            self.notify(
                f"{len(self.changed)} students changed in Canvas since the last load "
                "(marked with *).",
                markup=False,
            )
        self.loaded_board = board
        self._show_board(board)
        await self._learn_published(board)

    def _confirm(
        self,
        *,
        students: Iterable[GradeableStudent] = (),
        selections: Iterable[Selection] = (),
    ) -> None:
        """Show a change Canvas confirmed, and keep it for the fetches already under way."""
        self._change_number += 1
        self._confirmed.append((self._change_number, list(students), list(selections)))
        self.board = self._with_confirmed(self.board, since=self._change_number - 1)

    def _with_confirmed(self, board: Board, *, since: int) -> Board:
        for number, students, selections in self._confirmed:
            if number <= since:
                continue
            # Only students already shown: one whose page has not arrived yet gets it there.
            known = [student for student in students if board.row(student.key) is not None]
            if known:
                board = board.with_students(known)
            if selections:
                board = board.with_selections(selections)
        return board

    async def _fetch_board(self, *, show_progress: bool) -> Board:
        """The whole board from Canvas. On the first load, rows appear as pages arrive.

        Changes Canvas confirms while the pages are coming are laid over them, since the pages
        fetched before a confirmation do not have it yet.
        """
        since = self._change_number
        assignment = await self.api.get_assignment(self.course_id, self.assignment_id)
        if not assignment.moderated_grading:
            raise NotModeratedError()
        graders = await self.api.list_graders(self.course_id)
        board = build_board(
            assignment,
            (),
            graders,
            me=self.app.user,
            disagreement_threshold=self.app.settings.disagreement_threshold,
        )
        if show_progress:
            self._show_title(assignment)
        page_count = 0
        async for page in self.api.iter_gradeable_students(self.course_id, self.assignment_id):
            page_count += 1
            board = board.with_students(page.students)
            total = page.expected_total
            self.progress = (
                f"loaded {page.loaded:,} of {max(total, page.loaded):,} students"
                if total
                else f"loaded {page.loaded:,} students"
            )
            if show_progress:
                # The grid is usable from the first page on.
                self._show_board(self._with_confirmed(board, since=since))
            else:
                self._refresh_status()
            # Students are long-lived and immutable: moving them out of the collector's reach
            # as they arrive keeps full collections from walking thousands of rows (pauses
            # grew to 90 ms at 10,000 students without it). Every tenth page, after collecting
            # the young generations, so that little of the requests still in flight is frozen.
            if page_count % 10 == 0:
                gc.collect(1)
                gc.freeze()
            # Pages that arrived together are handed over back to back: let keys and frames
            # through between them.
            await asyncio.sleep(0)
        return self._with_confirmed(board, since=since)

    async def _learn_published(self, board: Board) -> None:
        """REST does not say whether grades were released: ask Canvas the one way it tells."""
        if not board.rows:
            return
        try:
            published = await self.api.grades_published(
                self.course_id, self.assignment_id, board.rows[0].student
            )
        except CanvasError:
            return  # not knowing is safe: publish itself will say "already released"
        if published:
            self._mark_published()

    def _mark_published(self) -> None:
        self.published = True
        if self.board is not None:
            self.board = dataclasses.replace(
                self.board,
                assignment=dataclasses.replace(self.board.assignment, grades_published=True),
            )
        self._notice(
            "Grades for this assignment have been released: this grid is read-only. "
            "Selections can no longer change what students receive."
        )
        self._refresh_status()

    # ----------------------------------------------------------------------------- display

    def _show_title(self, assignment: Assignment) -> None:
        me = self.app.user.id if self.app.user else None
        parts = [safe_text(assignment.name), f"{assignment.grader_count} graders"]
        if assignment.is_final_grader(me):
            parts.append("final grader: you")
        if assignment.anonymous_grading:
            parts.append("anonymous students")
        if not assignment.grader_names_visible_to_final_grader:
            parts.append("grader names hidden")
        if assignment.points_possible is not None:
            parts.append(f"{assignment.points_possible:g} points")
        self.query_one("#grid-title", Static).update(" · ".join(parts))

    def _notice(self, text: str) -> None:
        notice = self.query_one("#grid-notice", Static)
        notice.update(text)
        notice.add_class("shown")

    def _visible_rows(self, board: Board) -> list[StudentRow]:
        rows = board.filtered(self.filter_kind)
        if self.sort_by == "canvas":
            return rows
        # Names and spreads do not change when a grade is selected: sort the whole board once
        # per order and per load, then every redraw after a selection only looks positions up.
        if self._sort_cache is None or self._sort_cache[0] != self.sort_by:
            order = {row.key: index for index, row in enumerate(board.sorted_rows(self.sort_by))}
            self._sort_cache = (self.sort_by, order)
        order = self._sort_cache[1]
        return sorted(rows, key=lambda row: order.get(row.key, len(order)))

    def _show_board(self, board: Board, *, keep_key: str | None = None) -> None:
        first_time = self.board is None
        if first_time or len(board.rows) != len(self.board.rows) or board is self.loaded_board:
            self._sort_cache = None  # new or reloaded students: names and spreads may differ
        self.board = board
        if first_time:
            self._show_title(board.assignment)
        self.grid.show(
            board,
            self._visible_rows(board),
            pending=self.pending,
            changed=self.changed,
            keep_key=keep_key,
        )
        self._refresh_status()

    def _refresh_status(self) -> None:
        parts: list[str] = []
        if self.board is not None:
            parts.append(self.board.status_line())
        if self.filter_kind != "all":
            parts.append(f"showing {FILTER_LABELS[self.filter_kind]}")
        if self.sort_by != "canvas":
            parts.append(f"sorted by {SORT_LABELS[self.sort_by]}")
        if self.is_loading:
            parts.append(self.progress or "loading…")
        if self.publishing:
            parts.append("releasing grades…")
        elif self.published:
            parts.append("grades released")
        self.query_one("#grid-status", Static).update(" · ".join(parts))

    def _update_rows(self) -> None:
        """Redraw after a change of selections, keeping the cursor on the same student."""
        if self.board is not None:
            self._show_board(self.board)

    # ----------------------------------------------------------------------------- guards

    def _can_change(self) -> bool:
        if self.board is None:
            self.notify("The grades are still loading.", markup=False)
            return False
        if self.published:
            self.notify(
                "Grades have been released; selections can no longer be changed.",
                severity="warning",
                markup=False,
            )
            return False
        if self.publishing:
            self.notify("Grades are being released.", markup=False)
            return False
        return True

    # ----------------------------------------------------------------------------- selecting

    def action_select(self) -> None:
        self._select_in_column(self.grid.cursor_column)

    def action_select_grader(self, number: int) -> None:
        """`1`-`9`: the grade of grader column N for this student, wherever the cursor is."""
        if number > len(self.grid.graders):
            self.notify(f"There is no grader {number} on this assignment.", markup=False)
            return
        self.grid.cursor_column = number - 1
        self._select_in_column(number - 1)

    def _select_in_column(self, column: int) -> None:
        row = self.grid.current_row
        if row is None or not self._can_change():
            return
        graders = self.grid.graders
        grader = graders[column] if column < len(graders) else None
        grade = row.custom if grader is None else row.grades.get(grader.key)
        who = "the custom grade" if grader is None else safe_text(grader.label)
        if grade is None:
            if grader is None:
                self.notify(
                    f"{safe_text(row.name)} has no custom grade: press c to enter one.",
                    markup=False,
                )
            else:
                self.notify(f"{who} has not graded {safe_text(row.name)}.", markup=False)
            return
        if row.key in self.pending:
            self.notify(f"Still saving {safe_text(row.name)}'s grade.", markup=False)
            return
        if row.selected_id == grade.id:
            self.notify(f"That grade is already selected for {safe_text(row.name)}.", markup=False)
            return
        self.pending[row.key] = grade.id
        self.grid.set_pending(self.pending)
        self._refresh_status()
        self._select_one(row, grade)

    @work(group="select", exit_on_error=False, description="select the grade")
    async def _select_one(self, row: StudentRow, grade: ProvisionalGrade) -> None:
        try:
            selection = await self.api.select_grade(self.course_id, self.assignment_id, grade.id)
        except (CanvasError, AuditError) as error:
            self.notify(
                f"{safe_text(row.name)}'s grade was not selected: {error}",
                severity="error",
                markup=False,
            )
        else:
            self._confirm(selections=[selection])
        finally:
            self.pending.pop(row.key, None)
            self._update_rows()

    def action_accept_grader(self) -> None:
        if not self._can_change():
            return
        grader = self.grid.current_grader
        if grader is None:
            self.notify("Move to a grader's column to accept that grader's grades.", markup=False)
            return
        label = safe_text(grader.label)
        self._bulk_select(
            self.board.accept_grader_ids(grader.key, canvas_rule=False),
            what=f"{label}'s grades",
            nothing=f"Every student {label} graded already has a selection.",
        )

    def action_accept_agreements(self) -> None:
        if not self._can_change():
            return
        self._bulk_select(
            self.board.agreed_ids(),
            what="the grades graders agree on",
            nothing="No unselected student has graders who all agree.",
        )

    def _bulk_select(self, ids: Iterable[int], *, what: str, nothing: str) -> None:
        """One bulk request for `ids`, leaving out students whose selection is still saving."""
        wanted = set(ids)
        # student key -> grade id, for the grades asked for
        chosen = {
            row.key: grade.id
            for row in self.board.rows
            if row.key not in self.pending
            for grade in row.grades.values()
            if grade.id in wanted
        }
        if not chosen:
            self.notify(nothing, markup=False)
            return
        self.pending.update(chosen)
        self.grid.set_pending(self.pending)
        self._bulk_worker(list(chosen.values()), list(chosen), what)

    @work(group="select", exit_on_error=False, description="accept the grades")
    async def _bulk_worker(self, ids: list[int], keys: list[str], what: str) -> None:
        try:
            selections = await self.api.bulk_select(self.course_id, self.assignment_id, ids)
        except (CanvasError, AuditError) as error:
            self.notify(f"Could not accept {what}: {error}", severity="error", markup=False)
        else:
            self._confirm(selections=selections)
            count = len(selections)
            self.notify(
                f"Accepted {what} for {count} student{'s' if count != 1 else ''}.",
                markup=False,
            )
        finally:
            for key in keys:
                self.pending.pop(key, None)
            self._update_rows()

    # ----------------------------------------------------------------------------- custom grade

    def action_custom_grade(self) -> None:
        from tui.screens.prompts import CustomGradeModal

        row = self.grid.current_row
        if row is None or not self._can_change():
            return
        me = self.app.user.id if self.app.user else None
        if not self.board.assignment.is_final_grader(me):
            self.notify("Only the final grader can enter a custom grade.", markup=False)
            return
        if not any(grade.has_grade for grade in row.grades.values()):
            self.notify(
                "Canvas allows a custom grade only after a grader has graded the student.",
                markup=False,
            )
            return
        if row.key in self.pending:
            self.notify(f"Still saving {safe_text(row.name)}'s grade.", markup=False)
            return

        def entered(grade: str | None) -> None:
            if grade:
                self.pending[row.key] = -1
                self.grid.set_pending(self.pending)
                self._custom_worker(row, grade)

        self.app.push_screen(CustomGradeModal(row, self.board.assignment), entered)

    @work(group="select", exit_on_error=False, description="save the custom grade")
    async def _custom_worker(self, row: StudentRow, grade_text: str) -> None:
        name = safe_text(row.name)
        try:
            try:
                grade = await self.api.set_custom_grade(
                    self.course_id, self.assignment_id, row.student, grade_text
                )
            except (CanvasError, AuditError) as error:
                self.notify(
                    f"{name}'s custom grade was not saved: {error}", severity="error", markup=False
                )
                return
            self._confirm(students=[_with_final_grade(row.student, grade)])
            try:
                selection = await self.api.select_grade(
                    self.course_id, self.assignment_id, grade.id
                )
            except (CanvasError, AuditError) as error:
                self.notify(
                    f"{name}'s custom grade was saved but not selected: {error} "
                    "Move to the Custom column and press enter to try again.",
                    severity="error",
                    markup=False,
                )
                return
            self._confirm(selections=[selection])
            self.notify(f"Custom grade saved and selected for {name}.", markup=False)
        finally:
            self.pending.pop(row.key, None)
            self._update_rows()

    # ----------------------------------------------------------------------------- views

    def action_next_needing_choice(self, step: int) -> None:
        """`n` / `N`: the next (previous) student who still needs a choice, wrapping around."""
        rows = self.grid.rows
        start = self.grid.cursor_row
        for offset in range(1, len(rows) + 1):
            index = (start + step * offset) % len(rows)
            row = rows[index]
            if row.status is StudentStatus.NEEDS_CHOICE and row.key not in self.pending:
                self.grid.cursor_row = index
                return
        self.notify("No student shown needs a choice.", markup=False)

    def action_cycle_filter(self) -> None:
        self.filter_kind = FILTERS[(FILTERS.index(self.filter_kind) + 1) % len(FILTERS)]
        self._update_rows()

    def action_cycle_sort(self) -> None:
        self.sort_by = SORTS[(SORTS.index(self.sort_by) + 1) % len(SORTS)]
        self._update_rows()

    def action_jump(self) -> None:
        from tui.screens.prompts import JumpModal

        if not self.grid.rows:
            return

        def jump(text: str | None) -> None:
            if text:
                self._jump_to(text)

        self.app.push_screen(JumpModal(), jump)

    def _jump_to(self, text: str) -> None:
        needle = text.casefold()
        rows = self.grid.rows
        start = self.grid.cursor_row
        for offset in range(1, len(rows) + 1):
            index = (start + offset) % len(rows)
            if needle in rows[index].name.casefold():
                self.grid.cursor_row = index
                return
        self.notify(f"No student shown matches “{safe_text(text)}”.", markup=False)

    def action_details(self) -> None:
        from tui.screens.details import DetailsScreen

        row = self.grid.current_row
        if row is not None and self.board is not None:
            self.app.push_screen(DetailsScreen(self.course_id, self.board, row))

    def action_moderation_set(self) -> None:
        from tui.screens.moderation_set import ModerationSetScreen

        if self.board is not None:
            self.app.push_screen(ModerationSetScreen(self.course_id, self.board))

    def action_reload(self) -> None:
        if self.publishing:
            return
        self._load()

    @property
    def busy_saving(self) -> bool:
        """Leaving now would cancel a request whose outcome the user must see."""
        return self.publishing or bool(self.pending)

    def action_back(self) -> None:
        if self.busy_saving:
            self.notify(
                "Wait for Canvas to answer: leaving now would lose the outcome of the "
                "change being saved.",
                severity="warning",
                markup=False,
            )
            return
        self.app.pop_screen()

    # ----------------------------------------------------------------------------- publishing

    def action_publish(self) -> None:
        if self.board is None or self.is_loading:
            self.notify("Wait until every student has loaded.", markup=False)
            return
        if self.published:
            self.notify("Grades for this assignment have already been released.", markup=False)
            return
        if self.publishing or self.pending:
            self.notify("Wait for the grades being saved.", markup=False)
            return
        self._prepare_publish()

    @work(group="publish", exclusive=True, exit_on_error=False, description="check for changes")
    async def _prepare_publish(self) -> None:
        """Reload first: another moderator may have changed selections since we loaded."""
        self.publishing = True
        self.progress = "checking Canvas for changes before release…"
        self._refresh_status()
        try:
            fresh = await self._fetch_board(show_progress=False)
        except (CanvasError, AuditError) as error:
            self.app.report_error(error, doing="check the grades before release")
            return
        finally:
            self.publishing = False
            self.progress = ""
            self._refresh_status()
        self._ask_to_publish(fresh, self._take_fresh_board(fresh))

    def _take_fresh_board(self, fresh: Board) -> list[str]:
        """Show `fresh` and mark the students whose grades or selection differ from what this
        grid showed: changes made in Canvas by someone else, not our own confirmed ones."""
        changed = fresh.changed_since(self.board) if self.board is not None else []
        self.changed = frozenset(changed)
        self.loaded_board = fresh
        self._show_board(fresh)
        return changed

    def _ask_to_publish(self, board: Board, changed: list[str]) -> None:
        from tui.screens.publish import PublishModal

        def answered(go: bool | None) -> None:
            if go:
                self._publish(board)

        self.app.push_screen(PublishModal(board, changed_keys=changed), answered)

    @work(group="publish", exclusive=True, exit_on_error=False, description="release the grades")
    async def _publish(self, confirmed: Board) -> None:
        if self.publishing or self.published:
            return  # a second confirmation while the first is running does nothing
        self.publishing = True
        self._refresh_status()
        try:
            # What was confirmed must still be what Canvas has: anything changed since the
            # dialog opened asks again, with the changes shown.
            fresh = await self._fetch_board(show_progress=False)
            if fresh.changed_since(confirmed):
                changed = self._take_fresh_board(fresh)
                self.notify(
                    "Selections changed in Canvas while the dialog was open: nothing was "
                    "released. Check the new summary.",
                    severity="warning",
                    markup=False,
                )
                self._ask_to_publish(fresh, changed)
                return
            await self.api.publish(self.course_id, self.assignment_id)
        except AlreadyPublishedError:
            self.notify("Grades for this assignment had already been released.", markup=False)
            self._mark_published()
        except UnselectedGradesError as error:
            self.notify(f"{error} Reloading to show who.", severity="error", markup=False)
            self._load()
        except (CanvasError, AuditError) as error:
            self.app.report_error(error, doing="release the grades")
        else:
            self.notify("Grades were released to the gradebook.", markup=False)
            self._mark_published()
        finally:
            self.publishing = False
            self._refresh_status()


def _with_final_grade(student: GradeableStudent, grade: ProvisionalGrade) -> GradeableStudent:
    """The student with `grade` as their one final (custom) grade, as Canvas now has it."""
    others = tuple(pg for pg in student.provisional_grades if not pg.final and pg.id != grade.id)
    return dataclasses.replace(student, provisional_grades=(*others, grade))
