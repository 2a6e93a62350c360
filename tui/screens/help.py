"""Every key of the desk, in one place."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from tui.screens.base import DeskModal

KEYS = """\
Everywhere
  q            quit                  ? or F1      this help
  ctrl+p       command palette       escape       back / close

Courses and assignments
  type         filter the list       up / down    move
  enter        open                  r            reload

Comparison grid
  arrows, h j k l    move between students and graders
  pgup pgdn g G      page up and down, first and last student
  enter, space  select the grade under the cursor (saved in Canvas)
  1 … 9    select grader 1 … 9's grade for this student
  n, N     next / previous student who still needs a choice
  a        accept this grader's grades for every unselected student
  A        accept every student whose graders all agree
  c        your own (custom) grade for this student (final grader)
  d, i     details: grades, times, comments, SpeedGrader link (y)
  f        filter: all / need a choice / disagreements / selected
  s        sort: Canvas order / name / spread
  /        jump to a student by name
  m        the moderation set
  r        reload from Canvas (rows changed since are marked *)
  p        release grades: says what will happen; type publish

Marks in the grid
  ✓ selected (Canvas confirmed)  … saving      ? needs a choice
  (8) what release gives         ≠ graders disagree
  ↻ resubmitted after grading    * changed in Canvas since loaded
"""


class HelpScreen(DeskModal[None]):
    DEFAULT_CSS = """
    HelpScreen > Vertical { width: 96; }
    HelpScreen #help-title { text-style: bold; }
    """

    BINDINGS = [Binding("escape,question_mark,q,f1", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Moderate: keys", id="help-title", markup=False)
            with VerticalScroll():
                yield Static(KEYS, markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
