"""Opening a session: check the token we were given, or ask for one."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Checkbox, Footer, Header, Input, LoadingIndicator, Static

from tui.canvas.errors import CanvasError, InvalidTokenError, PermissionDeniedError
from tui.canvas.moderation import ModerationAPI
from tui.screens.base import DeskScreen
from tui.secret import Secret
from tui.text import safe_text


class ConnectingScreen(DeskScreen):
    """Asks Canvas who we are (users/self) before anything else."""

    BINDINGS = [Binding("r", "retry", "Retry", id="retry")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="connecting"):
            yield Static("Connecting to Canvas…", id="connecting-message", markup=False)
            yield LoadingIndicator()
        yield Footer()

    def on_mount(self) -> None:
        self.action_retry()

    def action_retry(self) -> None:
        app = self.app
        if app.api is None:
            app.push_screen(ConnectScreen(app.startup_message))
            return
        self.query_one(LoadingIndicator).display = True
        self._show(f"Connecting to {app.settings.canvas_label}…")
        self._connect(app.api)

    def _show(self, text: str) -> None:
        self.query_one("#connecting-message", Static).update(text)

    @work(group="connect", exclusive=True, exit_on_error=False)
    async def _connect(self, api: ModerationAPI) -> None:
        try:
            user = await api.current_user()
        except (InvalidTokenError, PermissionDeniedError) as error:
            self.app.push_screen(ConnectScreen(str(error)))
            return
        except CanvasError as error:
            self.query_one(LoadingIndicator).display = False
            self._show(f"{error}\n\nPress r to try again, or q to quit.")
            return
        self.app.connected(api, user)


class ConnectScreen(DeskScreen):
    """Takes a token when none was found: masked as typed, checked before it is kept."""

    DEFAULT_CSS = """
    ConnectScreen #connect-form {
        width: 76;
        max-width: 100%;
        height: auto;
        margin: 1 2;
        padding: 1 2;
        border: round $primary;
    }
    ConnectScreen Input { margin-bottom: 1; }
    ConnectScreen #connect-error { color: $error; margin-bottom: 1; }
    ConnectScreen #connect-help { color: $text-muted; }
    """

    def __init__(self, problem: str | None = None) -> None:
        super().__init__()
        self.problem = problem

    def compose(self) -> ComposeResult:
        app = self.app
        yield Header()
        with Vertical(id="connect-form"):
            yield Static("Connect to Canvas", classes="title", markup=False)
            yield Static(self.problem or "", id="connect-error", markup=False)
            yield Input(
                value=app.settings.canvas_url or "",
                placeholder="https://school.instructure.com",
                id="connect-url",
            )
            yield Input(placeholder="Canvas access token", password=True, id="connect-token")
            yield Checkbox("Keep the token in the system keyring", value=True, id="connect-keep")
            yield Button("Connect", id="connect-go", variant="primary")
            yield Static(
                "Create a token in Canvas under Account › Settings › New access token. "
                "It is sent only in the Authorization header and never written to a file.",
                id="connect-help",
                markup=False,
            )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#connect-keep", Checkbox).display = self.app.keep_token is not None
        self.query_one("#connect-error", Static).display = bool(self.problem)
        url = self.query_one("#connect-url", Input)
        (self.query_one("#connect-token", Input) if url.value else url).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#connect-go")
    def _submit(self) -> None:
        url = self.query_one("#connect-url", Input).value.strip()
        token = self.query_one("#connect-token", Input).value.strip()
        if not url or not token:
            self._problem("Enter the Canvas address and a token.")
            return
        if self.app.connector is None:
            self._problem("This session cannot open a connection; restart with --url.")
            return
        self._try(url, Secret(token), self.query_one("#connect-keep", Checkbox).value)

    def _problem(self, text: str) -> None:
        label = self.query_one("#connect-error", Static)
        label.update(text)
        label.display = True

    @work(group="connect", exclusive=True, exit_on_error=False)
    async def _try(self, url: str, token: Secret, keep: bool) -> None:
        self.query_one("#connect-go", Button).disabled = True
        api = None
        try:
            api = self.app.connector(url, token)
            user = await api.current_user()
        except CanvasError as error:
            self._problem(str(error))
            if api is not None:
                await api.client.aclose()  # each try opens its own connection pool
            return
        finally:
            self.query_one("#connect-go", Button).disabled = False
        if keep and self.app.keep_token is not None:
            try:
                self.notify(await self.app.keep_token(url, token), markup=False)
            except Exception as error:  # the keyring is optional: say why, carry on
                self.notify(
                    f"The token was not kept: {safe_text(error)}", severity="warning", markup=False
                )
        self.app.connected(api, user)
