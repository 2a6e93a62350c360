"""ModerationApp: the Textual application, built by `create_app` with its services injected.

The app itself owns only what is global: the Canvas session, the quit and help keys, and the
one place where failures become notifications. Feature keys live on the screen that owns them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tui.audit import AuditError
from tui.canvas.errors import CanvasError
from tui.canvas.models import User
from tui.canvas.moderation import ModerationAPI
from tui.secret import Secret
from tui.text import safe_text

__all__ = ["AppSettings", "ModerationApp", "create_app"]

log = logging.getLogger("tui.app")

# Builds a ModerationAPI for a Canvas URL and a token: the connect screen uses it once the user
# has typed a token. Returning the API (not a client) keeps screens away from HTTP details.
Connector = Callable[[str, Secret], ModerationAPI]
# Offers to keep a token that was typed in: returns a sentence saying where it went, or None.
TokenKeeper = Callable[[str, Secret], Awaitable[str]]
# Remembers the course just opened, so that the next start goes straight back to it.
CourseMemory = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class AppSettings:
    """What the command line decided. Plain values only: no secrets, no I/O."""

    canvas_url: str | None = None
    # Shown in the header: a host name, or "Sandbox Canvas" for the demo (never a port that
    # would change between runs and break snapshots).
    canvas_label: str = "Canvas"
    course_id: int | None = None
    assignment_id: int | None = None
    # A spread of scores above this marks a row as a disagreement (0: any difference counts).
    disagreement_threshold: float = 0.0
    demo: bool = False


class ModerationApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "Moderate"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark,f1", "help", "Help", id="help", key_display="?"),
    ]

    def __init__(
        self,
        settings: AppSettings,
        *,
        api: ModerationAPI | None = None,
        connector: Connector | None = None,
        keep_token: TokenKeeper | None = None,
        remember_course: CourseMemory | None = None,
        startup_message: str | None = None,
    ) -> None:
        super().__init__()
        self.remember_course = remember_course
        self._quit_warned = False
        self.settings = settings
        self.api = api
        self.connector = connector
        self.keep_token = keep_token
        self.startup_message = startup_message
        self.user: User | None = None
        self.sub_title = settings.canvas_label

    def get_default_screen(self) -> Screen:
        from tui.screens.connect import ConnectingScreen

        return ConnectingScreen()

    def on_mount(self) -> None:
        self.theme = "textual-dark"

    async def on_unmount(self) -> None:
        if self.api is not None:
            await self.api.client.aclose()

    # ----------------------------------------------------------------------------- session

    def connected(self, api: ModerationAPI, user: User) -> None:
        """A session is open: go to the courses, or straight to a grid the user asked for."""
        from tui.screens.connect import ConnectScreen
        from tui.screens.courses import AssignmentsScreen, CoursesScreen
        from tui.screens.grid import GridScreen

        self.api = api
        self.user = user
        self.sub_title = f"{safe_text(user.name)} · {self.settings.canvas_label}"
        # The connecting screen stays at the bottom of the stack; a token form leaves with it.
        if isinstance(self.screen, ConnectScreen):
            self.pop_screen()
        self.push_screen(CoursesScreen())
        course_id, assignment_id = self.settings.course_id, self.settings.assignment_id
        if course_id is not None:
            self.push_screen(AssignmentsScreen(course_id))
            if assignment_id is not None:
                self.push_screen(GridScreen(course_id, assignment_id))

    # ----------------------------------------------------------------------------- failures

    def report_error(self, error: BaseException, *, doing: str | None = None) -> None:
        """The one place a failure becomes a message: one clear sentence, never a traceback."""
        if isinstance(error, (CanvasError, AuditError)):
            message = str(error)
            log.info("canvas error: %s %s", type(error).__name__, error.request)
        else:
            # A bug of ours: say so plainly, keep the details in the log for a bug report.
            message = f"Something went wrong inside Moderate ({type(error).__name__})."
            log.error("unexpected error", exc_info=error)
        if doing:
            message = f"Could not {doing}: {message}"
        self.notify(safe_text(message), severity="error", title="Error", markup=False, timeout=8)

    # ----------------------------------------------------------------------------- actions

    async def action_quit(self) -> None:
        """Quit, unless that would cut off a release or a selection Canvas has not answered:
        then say so once, and quit on the second press."""
        busy = any(getattr(screen, "busy_saving", False) for screen in self.screen_stack)
        if busy and not self._quit_warned:
            self._quit_warned = True
            self.notify(
                "Canvas has not answered a change yet: quitting now would leave its outcome "
                "unknown. Press q again to quit anyway.",
                severity="warning",
                markup=False,
            )
            return
        self.exit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette offers the current screen's main actions, then Textual's own."""
        for title, help_text, action in getattr(screen, "PALETTE_ACTIONS", ()):
            yield SystemCommand(title, help_text, partial(self.run_action, action, screen))
        yield from super().get_system_commands(screen)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def create_app(
    settings: AppSettings,
    *,
    api: ModerationAPI | None = None,
    connector: Connector | None = None,
    keep_token: TokenKeeper | None = None,
    remember_course: CourseMemory | None = None,
    startup_message: str | None = None,
) -> ModerationApp:
    """The factory the CLI and the tests both use, so tests run the app users run."""
    return ModerationApp(
        settings,
        api=api,
        connector=connector,
        keep_token=keep_token,
        remember_course=remember_course,
        startup_message=startup_message,
    )
