"""The board: one assignment's students x graders, and the decisions the desk makes from it.

Pure and immutable: no I/O, no Textual. A `Board` is built once from what Canvas sent
(`build_board`) and then derived, never mutated: `with_selections` applies the answers of select
and bulk_select, `with_students` adds pages as they arrive or replaces a reloaded student. Both
touch only the rows they change, so the TUI can call them on every key press even with 10,000
students.

The rules follow Canvas (see the moderation reference): what the Release button would publish for
each student (§1.6), how the web page numbers hidden graders (§1.10) and when its "Accept" button
is offered (§3.3). One deliberate difference: a student with several grades, none selected, and
a comment-only grade blocks release here, where Canvas would release the comment-only one, i.e.
no grade at all.
"""

from __future__ import annotations

import enum
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from tui.canvas.models import Assignment, GradeableStudent, ProvisionalGrade, Selection, User
from tui.text import safe_text

__all__ = [
    "FILTER_KINDS",
    "SORT_ORDERS",
    "Board",
    "BoardCounts",
    "GraderColumn",
    "PublishPlan",
    "StudentRow",
    "StudentStatus",
    "board_to_csv_rows",
    "board_to_json",
    "build_board",
    "format_grade",
]

FILTER_KINDS = ("all", "needs_choice", "disagreements", "selected", "single", "no_grade")
SORT_ORDERS = ("canvas", "name", "spread")

# Grading types whose grade string is what Canvas shows; for points the score is shown.
_GRADE_STRING_TYPES = frozenset({"letter_grade", "gpa_scale", "pass_fail", "percent"})

# Scores arrive as JSON floats; two graders giving 7.1 must agree even after arithmetic noise.
_SCORE_TOLERANCE = 1e-9

_EMPTY_GRADES: Mapping[str, ProvisionalGrade] = MappingProxyType({})


class StudentStatus(enum.Enum):
    """Where a student stands for release, decided as Canvas's publish decides (§1.6)."""

    SELECTED = "selected"
    NEEDS_CHOICE = "needs a choice"  # several grades and none selected: blocks release
    SINGLE = "single grade"  # exactly one grade and none selected: release gives that one
    NO_GRADE = "no grade"  # nothing graded: release gives no grade

    @property
    def kind(self) -> str:
        """A machine name ("needs_choice"), for JSON and for `Board.filtered`."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class GraderColumn:
    key: str  # ProvisionalGrade.grader_key: "user:<id>" or "anonymous:<anonymous_grader_id>"
    label: str  # the grader's name, or "Grader N" when Canvas hides names
    user_id: int | None
    anonymous_grader_id: str | None
    is_me: bool


@dataclass(frozen=True, slots=True)
class StudentRow:
    key: str
    student: GradeableStudent
    name: str
    # Grader key -> that grader's graded, non-final provisional grade (one grid cell each).
    grades: Mapping[str, ProvisionalGrade]
    # The final grader's own ("custom") grade: Canvas marks it final.
    custom: ProvisionalGrade | None
    selected_id: int | None
    # None when nothing is selected, or when the selected id is none of this student's grades.
    selected: ProvisionalGrade | None
    status: StudentStatus
    agreement: bool | None
    spread: float | None
    resubmitted: bool
    # What Release would give this student, or None (no grade at all, or Canvas would refuse).
    publish_grade: ProvisionalGrade | None
    blocking_reason: str | None
    # Canvas says something is selected, but it is not one of this student's grades.
    stale_selection: bool = False

    @property
    def has_selected_grade(self) -> bool:
        """A graded grade is selected (Canvas's page ignores a selected comment-only grade)."""
        return self.selected is not None and self.selected.has_grade


@dataclass(frozen=True, slots=True)
class BoardCounts:
    total: int = 0
    selected: int = 0
    needs_choice: int = 0
    single: int = 0
    no_grade: int = 0
    disagreements: int = 0


@dataclass(frozen=True, slots=True)
class PublishPlan:
    """What Release would do now: how many students get which kind of grade, and who blocks."""

    selected: int
    single: int
    no_grade: int
    blocking: tuple[StudentRow, ...]

    @property
    def can_publish(self) -> bool:
        return not self.blocking


# --------------------------------------------------------------------------------- rows


def _compare(grades: Sequence[ProvisionalGrade]) -> tuple[bool | None, float | None]:
    """(agreement, spread) of the graders' grades; both None when there is nothing to compare."""
    if len(grades) < 2:
        return None, None
    scores = [pg.score for pg in grades if pg.score is not None]
    if len(scores) == len(grades):
        spread = max(scores) - min(scores)
        return spread <= _SCORE_TOLERANCE, spread
    spread = max(scores) - min(scores) if len(scores) >= 2 else None
    # Without a score on every grade (pass/fail, letter grades), the grade strings decide.
    texts = {pg.grade.strip() if pg.grade is not None else repr(pg.score) for pg in grades}
    return len(texts) == 1, spread


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _display_name(student: GradeableStudent, position: int) -> str:
    # Anonymous students are only ever shown by Canvas's "Student N". When an old Canvas sends
    # no display_name, the page numbers them by position, which is Canvas's (anonymous id) order.
    if student.is_anonymous and student.display_name in ("", "Student"):
        return f"Student {position + 1}"
    return student.display_name


def _make_row(student: GradeableStudent, position: int) -> StudentRow:
    """One student's row: every per-student decision is taken here, once."""
    selected_id = student.selected_provisional_grade_id
    grades: dict[str, ProvisionalGrade] = {}
    custom = selected = only_graded = first_comment_only = None
    graded_count = 0
    resubmitted = False
    for pg in student.provisional_grades:
        has_grade = pg.grade is not None or pg.score is not None  # ProvisionalGrade.has_grade
        if pg.final:
            custom = pg
        elif has_grade:
            grades[pg.grader_key] = pg
        if not pg.grade_matches_current_submission:
            resubmitted = True
        if pg.id == selected_id:
            selected = pg
        # Canvas's publish tells graded from comment-only grades by graded_at (§1.6); a grade
        # also counts, so a grade built without a timestamp is never taken for a comment.
        if has_grade or pg.graded_at is not None:
            graded_count += 1
            only_graded = pg
        elif first_comment_only is None:
            first_comment_only = pg

    # Canvas's publish, in its order (§1.6): the selected grade; else the only graded one; else
    # the first comment-only one; else it refuses everything with 422.
    blocking_reason = None
    if selected is not None:
        status, publish_grade = StudentStatus.SELECTED, selected
    elif graded_count == 0:
        status, publish_grade = StudentStatus.NO_GRADE, first_comment_only
    elif graded_count == 1:
        status, publish_grade = StudentStatus.SINGLE, only_graded
    else:
        # Several grades and no choice. Moderate blocks release even when Canvas would not:
        # with a comment-only grade present Canvas would release that one, i.e. no grade.
        status, publish_grade = StudentStatus.NEEDS_CHOICE, first_comment_only
        if selected_id is not None:
            blocking_reason = f"{graded_count} grades; the selected grade is none of them"
        else:
            blocking_reason = f"{graded_count} grades, none selected"

    agreement, spread = _compare(list(grades.values()))
    return StudentRow(
        key=student.key,
        student=student,
        name=_display_name(student, position),
        grades=MappingProxyType(grades) if grades else _EMPTY_GRADES,
        custom=custom,
        selected_id=selected_id,
        selected=selected,
        status=status,
        agreement=agreement,
        spread=spread,
        resubmitted=resubmitted,
        publish_grade=publish_grade,
        blocking_reason=blocking_reason,
        stale_selection=selected_id is not None and selected is None,
    )


def _disagrees(row: StudentRow, threshold: float) -> bool:
    # Scores decide against the threshold; grade strings (no scores) can only agree or not.
    if row.spread is not None:
        return row.spread > threshold + _SCORE_TOLERANCE
    return row.agreement is False


# ------------------------------------------------------------------------------ columns


def _grader_columns(
    keys: Iterable[str], names: Mapping[int, str], me_id: int | None
) -> tuple[GraderColumn, ...]:
    named: list[GraderColumn] = []
    anonymous: list[str] = []
    for key in keys:
        kind, _, ident = key.partition(":")
        if kind == "user":
            user_id = int(ident)
            label = names.get(user_id) or f"User {user_id}"
            named.append(GraderColumn(key, label, user_id, None, user_id == me_id))
        else:
            anonymous.append(ident)
    named.sort(key=lambda column: (column.label.casefold(), column.user_id))
    # Canvas's page numbers hidden graders by sorting their anonymous ids as strings, so the
    # numbers do not depend on which student or page showed a grader first.
    anonymous.sort()
    numbered = (
        GraderColumn(f"anonymous:{ident}", f"Grader {number}", None, ident, False)
        for number, ident in enumerate(anonymous, start=1)
    )
    return (*named, *numbered)


# -------------------------------------------------------------------------------- board


@dataclass(frozen=True, slots=True)
class Board:
    """Build with `build_board`; derive with `with_selections` / `with_students`."""

    assignment: Assignment
    graders: tuple[GraderColumn, ...]
    rows: tuple[StudentRow, ...]
    disagreement_threshold: float = 0.0
    me: User | None = None
    # Bookkeeping that lets a derived board change one row without rescanning all of them.
    _grader_names: Mapping[int, str] = field(default_factory=dict, repr=False, compare=False)
    _grader_rows: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)
    _index: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)
    _counts: BoardCounts = field(default_factory=BoardCounts, repr=False, compare=False)

    # ---------------------------------------------------------------------------- lookups

    def row(self, key: str) -> StudentRow | None:
        position = self._index.get(key)
        return None if position is None else self.rows[position]

    def index(self, key: str) -> int | None:
        return self._index.get(key)

    def column(self, grader_key: str) -> GraderColumn | None:
        return next((c for c in self.graders if c.key == grader_key), None)

    @property
    def counts(self) -> BoardCounts:
        return self._counts

    def status_line(self) -> str:
        """`37 / 120 selected · 12 need a choice · 3 without a grade` (zero parts left out)."""
        counts = self._counts
        parts = [f"{counts.selected} / {counts.total} selected"]
        if counts.needs_choice:
            parts.append(_plural(counts.needs_choice, "needs a choice", "need a choice"))
        if counts.no_grade:
            parts.append(f"{counts.no_grade} without a grade")
        return " · ".join(parts)

    # ---------------------------------------------------------------------------- release

    @property
    def blocking_rows(self) -> tuple[StudentRow, ...]:
        if not self._counts.needs_choice:
            return ()
        return tuple(row for row in self.rows if row.status is StudentStatus.NEEDS_CHOICE)

    @property
    def can_publish(self) -> bool:
        return self._counts.needs_choice == 0

    @property
    def publish_plan(self) -> PublishPlan:
        counts = self._counts
        return PublishPlan(counts.selected, counts.single, counts.no_grade, self.blocking_rows)

    # ------------------------------------------------------------------------- bulk actions

    def _listed_grader_keys(self) -> set[str]:
        # Canvas's page lists provisional graders only: the final grader is never one (§1.10).
        final_grader_id = self.assignment.final_grader_id
        return {c.key for c in self.graders if c.user_id is None or c.user_id != final_grader_id}

    def grader_accept_allowed(self, grader_key: str) -> bool:
        """Canvas's rule for "Accept" (§3.3): no student may have grades from this grader and
        another listed grader."""
        listed = self._listed_grader_keys()
        if grader_key not in listed:
            return False
        for row in self.rows:
            if grader_key in row.grades and sum(key in listed for key in row.grades) > 1:
                return False
        return True

    def accept_grader_ids(self, grader_key: str, *, canvas_rule: bool = True) -> list[int]:
        """The grade ids "Accept" would bulk-select: this grader's grade for every student who
        has no selected grade. With `canvas_rule`, empty when Canvas's page would not offer the
        button (students graded by several graders); Moderate's desk lifts that rule, since a
        selection can still be changed until release."""
        if canvas_rule and not self.grader_accept_allowed(grader_key):
            return []
        return [
            row.grades[grader_key].id
            for row in self.rows
            if grader_key in row.grades and not row.has_selected_grade
        ]

    def agreed_ids(self) -> list[int]:
        """One grade id per unselected student whose graders (two or more) all agree, taken from
        the leftmost grader column. Students with a custom grade are left to the final grader."""
        order = [column.key for column in self.graders]
        ids = []
        for row in self.rows:
            if row.agreement is not True or row.has_selected_grade:
                continue
            if row.custom is not None and row.custom.has_grade:
                continue
            first = next(key for key in order if key in row.grades)
            ids.append(row.grades[first].id)
        return ids

    # ------------------------------------------------------------------------ derivations

    def with_selections(self, selections: Iterable[Selection]) -> Board:
        """The board after select / bulk_select answered with these selections."""
        rows: list[StudentRow] | None = None
        counts = self._counts
        threshold = self.disagreement_threshold
        for selection in selections:
            if selection.assignment_id != self.assignment.id:
                continue
            position = self._index.get(selection.student_key)
            if position is None:
                continue
            old = rows[position] if rows is not None else self.rows[position]
            if old.selected_id == selection.selected_provisional_grade_id:
                continue
            student = replace(
                old.student, selected_provisional_grade_id=selection.selected_provisional_grade_id
            )
            new = _make_row(student, position)
            if rows is None:
                rows = list(self.rows)
            rows[position] = new
            counts = _recount(counts, old, new, threshold)
        if rows is None:
            return self
        return replace(self, rows=tuple(rows), _counts=counts)

    def with_students(self, students: Iterable[GradeableStudent]) -> Board:
        """The board with these students added at the end (a new page) or replaced in place
        (a reloaded student). Graders first seen here get columns, numbered as if all pages had
        arrived at once."""
        rows = list(self.rows)
        index: Mapping[str, int] = self._index
        added: dict[str, int] | None = None  # a copy of the index, made on the first new key
        grader_rows = dict(self._grader_rows)
        threshold = self.disagreement_threshold
        # The counts, kept as a list while rows change: one BoardCounts at the end.
        tally = list(_tally_of(self._counts))
        for student in students:
            key = student.key
            position = index.get(key)
            if position is None:
                if added is None:
                    index = added = dict(index)
                position = added[key] = len(rows)
                new = _make_row(student, position)
                rows.append(new)
                tally[0] += 1
            else:
                old = rows[position]
                for grader_key in old.grades:
                    grader_rows[grader_key] -= 1
                tally[_STATUS_SLOT[old.status]] -= 1
                tally[5] -= _disagrees(old, threshold)
                new = rows[position] = _make_row(student, position)
            for grader_key in new.grades:
                grader_rows[grader_key] = grader_rows.get(grader_key, 0) + 1
            tally[_STATUS_SLOT[new.status]] += 1
            tally[5] += _disagrees(new, threshold)
        grader_rows = {key: n for key, n in grader_rows.items() if n > 0}
        graders = self.graders
        if grader_rows.keys() != self._grader_rows.keys():
            me_id = self.me.id if self.me is not None else None
            graders = _grader_columns(grader_rows, self._grader_names, me_id)
        return replace(
            self,
            graders=graders,
            rows=tuple(rows),
            _grader_rows=grader_rows,
            _index=index,
            _counts=BoardCounts(*tally),
        )

    def changed_since(self, other: Board) -> list[str]:
        """Keys of students whose selection or grades differ from `other` (added and removed
        students included): what changed in Canvas since that board was loaded."""
        changed = []
        for row in self.rows:
            before = other.row(row.key)
            if before is row:  # derived boards share the rows they did not touch
                continue
            if (
                before is None
                or before.selected_id != row.selected_id
                or _grade_signature(before) != _grade_signature(row)
            ):
                changed.append(row.key)
        changed.extend(row.key for row in other.rows if row.key not in self._index)
        return changed

    # ------------------------------------------------------------------------------ views

    def filtered(self, kind: str) -> list[StudentRow]:
        """Rows of one kind, in Canvas's order. Kinds: see `FILTER_KINDS`."""
        if kind == "all":
            return list(self.rows)
        if kind == "disagreements":
            threshold = self.disagreement_threshold
            return [row for row in self.rows if _disagrees(row, threshold)]
        try:
            status = StudentStatus[kind.upper()]
        except KeyError:
            raise ValueError(f"unknown filter {kind!r}; use one of {FILTER_KINDS}") from None
        return [row for row in self.rows if row.status is status]

    def sorted_rows(self, by: str = "canvas") -> list[StudentRow]:
        """Rows in Canvas's order, by name (natural, case-blind) or by spread (widest first)."""
        if by == "canvas":
            return list(self.rows)
        if by == "name":
            return sorted(self.rows, key=lambda row: _natural_key(row.name))
        if by == "spread":
            # Python's sort is stable: equal spreads, and rows without one, keep Canvas's order.
            return sorted(self.rows, key=lambda row: -row.spread if row.spread is not None else 1)
        raise ValueError(f"unknown sort order {by!r}; use one of {SORT_ORDERS}")


def _grade_signature(row: StudentRow) -> tuple[tuple[object, ...], ...]:
    # Comments and timestamps may be filled in later by other endpoints; grades are what count.
    return tuple(
        (pg.id, pg.grader_key, pg.grade, pg.score, pg.final)
        for pg in row.student.provisional_grades
    )


_DIGITS = re.compile(r"(\d+)")


def _natural_key(name: str) -> tuple[object, ...]:
    # "Student 2" before "Student 10", "Ñoño" among the Ns: case-blind, accent-blind, numbers
    # as numbers. The tuple alternates text and numbers, text first, so any two compare.
    text = name.casefold()
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    parts = _DIGITS.split(text)
    return tuple(int(part) if i % 2 else part for i, part in enumerate(parts))


def _tally_of(counts: BoardCounts) -> tuple[int, ...]:
    # Slot order matches BoardCounts' fields and _STATUS_SLOT.
    return (
        counts.total,
        counts.selected,
        counts.needs_choice,
        counts.single,
        counts.no_grade,
        counts.disagreements,
    )


def _recount(
    counts: BoardCounts, old: StudentRow, new: StudentRow, threshold: float
) -> BoardCounts:
    """Counts after `old` became `new`, without rescanning the board."""
    tally = list(_tally_of(counts))
    tally[_STATUS_SLOT[old.status]] -= 1
    tally[5] -= _disagrees(old, threshold)
    tally[_STATUS_SLOT[new.status]] += 1
    tally[5] += _disagrees(new, threshold)
    return BoardCounts(*tally)


_STATUS_SLOT = {
    StudentStatus.SELECTED: 1,
    StudentStatus.NEEDS_CHOICE: 2,
    StudentStatus.SINGLE: 3,
    StudentStatus.NO_GRADE: 4,
}


def build_board(
    assignment: Assignment,
    students: Iterable[GradeableStudent],
    graders: Sequence[User] = (),
    *,
    me: User | None = None,
    disagreement_threshold: float = 0.0,
) -> Board:
    """The board for `students` in the order given (Canvas's). A student given twice keeps the
    first position and the last data, as if reloaded. `graders` names the columns (Canvas's
    course teachers and TAs); graders not among them show as "User <id>"."""
    names = {user.id: user.name for user in graders}
    if me is not None:
        names.setdefault(me.id, me.name)
    empty = Board(
        assignment=assignment,
        graders=(),
        rows=(),
        disagreement_threshold=disagreement_threshold,
        me=me,
        _grader_names=MappingProxyType(names),
    )
    return empty.with_students(students)


# ------------------------------------------------------------------------------ output


def _format_score(score: float) -> str:
    text = f"{score:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_grade(pg: ProvisionalGrade | None, assignment: Assignment) -> str:
    """A grade as Canvas shows it: the score for points ("8", "7.5"), the grade string for
    letter, GPA, pass/fail and percent ("B+", "complete", "87%"), and "–" for none."""
    if pg is None:
        return "–"
    if assignment.grading_type in _GRADE_STRING_TYPES:
        if pg.grade:
            return pg.grade
        return _format_score(pg.score) if pg.score is not None and math.isfinite(pg.score) else "–"
    if pg.score is not None and math.isfinite(pg.score):
        return _format_score(pg.score)
    return pg.grade or "–"


def _grade_json(pg: ProvisionalGrade, grader: str | None) -> dict[str, object]:
    return {
        "provisional_grade_id": pg.id,
        "grader": grader,
        "score": pg.score,
        "grade": pg.grade,
    }


def board_to_json(board: Board) -> dict[str, object]:
    """The stable `moderate board` JSON (see the architecture notes). Anonymous students carry
    `anonymous_id` and Canvas's "Student N", never an id or a real name."""
    assignment = board.assignment
    students = []
    for row in board.rows:
        student = row.student
        entry: dict[str, object] = (
            {"anonymous_id": student.anonymous_id}
            if student.is_anonymous
            else {"id": student.user_id}
        )
        entry["name"] = row.name
        entry["provisional_grades"] = [
            _grade_json(row.grades[column.key], column.label)
            for column in board.graders
            if column.key in row.grades
        ]
        entry["selected_provisional_grade_id"] = row.selected_id
        entry["status"] = row.status.kind
        entry["custom"] = _grade_json(row.custom, "custom") if row.custom is not None else None
        entry["resubmitted"] = row.resubmitted
        students.append(entry)
    counts = board.counts
    return {
        "assignment": {
            "id": assignment.id,
            "course_id": assignment.course_id,
            "name": assignment.name,
            "grading_type": assignment.grading_type,
            "points_possible": assignment.points_possible,
            "moderated_grading": assignment.moderated_grading,
            "anonymous_grading": assignment.anonymous_grading,
            "grader_count": assignment.grader_count,
            "final_grader_id": assignment.final_grader_id,
            "grader_names_visible_to_final_grader": (
                assignment.grader_names_visible_to_final_grader
            ),
        },
        "graders": [
            {
                "key": column.key,
                "label": column.label,
                "user_id": column.user_id,
                "anonymous_grader_id": column.anonymous_grader_id,
                "is_me": column.is_me,
            }
            for column in board.graders
        ],
        "students": students,
        "summary": {
            "total": counts.total,
            "selected": counts.selected,
            "needs_choice": counts.needs_choice,
            "single": counts.single,
            "no_grade": counts.no_grade,
            "disagreements": counts.disagreements,
            "can_publish": board.can_publish,
        },
    }


_SPREADSHEET_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(text: str) -> str:
    # A student can choose their display name: keep "=HYPERLINK(...)" from running as a formula
    # when the CSV is opened in a spreadsheet, and escape sequences from repainting the
    # terminal the CSV is printed to.
    text = safe_text(text)
    return "'" + text if text.startswith(_SPREADSHEET_FORMULA_START) else text


def board_to_csv_rows(board: Board) -> list[list[str]]:
    """Header, then one row per student: name, one cell per grader, custom, selected, status.
    The selected cell names its source, like Canvas's selector: "8 (Ada Lovelace)"."""
    assignment = board.assignment
    header = [
        "student",
        *(_csv_text(c.label) for c in board.graders),
        "custom",
        "selected",
        "status",
    ]
    out = [header]
    for row in board.rows:
        cells = [_csv_text(row.name)]
        for column in board.graders:
            pg = row.grades.get(column.key)
            cells.append(format_grade(pg, assignment) if pg is not None else "")
        cells.append(format_grade(row.custom, assignment) if row.custom is not None else "")
        cells.append(_csv_text(_selected_cell(row, board)))
        cells.append(row.status.value)
        out.append(cells)
    return out


def _selected_cell(row: StudentRow, board: Board) -> str:
    selected = row.selected
    if selected is None:
        return ""
    if selected.final:
        source = "Custom"
    else:
        column = board.column(selected.grader_key)
        source = column.label if column is not None else "comment only"
    return f"{format_grade(selected, board.assignment)} ({source})"
