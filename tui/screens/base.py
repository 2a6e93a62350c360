"""What every screen of the desk shares: workers whose failures end in one notification."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from textual import on
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from tui.app import ModerationApp


class _ReportsWorkerErrors:
    """Turns any worker that ends in error into a notification (Harlequin's single handler).

    Workers are started with `exit_on_error=False`, so an exception never takes the app down;
    expected Canvas refusals are handled where they happen, this catches everything else.
    """

    app: ModerationApp

    @on(Worker.StateChanged)
    def _report_failed_worker(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.app.report_error(event.worker.error, doing=event.worker.description or None)


class DeskScreen(_ReportsWorkerErrors, Screen):
    """A full screen of the desk."""


ResultType = TypeVar("ResultType")


class DeskModal(_ReportsWorkerErrors, ModalScreen[ResultType], Generic[ResultType]):
    """A dialog of the desk: one framed column in the middle of the screen, over the screen
    it belongs to. `escape` always closes it without doing anything. Subclasses set only what
    differs (width, border colour)."""

    DEFAULT_CSS = """
    DeskModal { align: center middle; }
    DeskModal > Vertical {
        width: 80;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    DeskModal .title { text-style: bold; }
    DeskModal .hint { color: $text-muted; }
    DeskModal .problem { color: $error; }
    """
