"""Driving the real app in tests: build it on the sandbox, wait for it, read the screen."""

from __future__ import annotations

import io
from contextlib import asynccontextmanager

from rich.console import Console
from textual.pilot import Pilot

from tui.app import AppSettings, ModerationApp, create_app
from tui.audit import audited
from tui.canvas.client import CanvasClient, RetryPolicy
from tui.canvas.moderation import ModerationAPI
from tui.sandbox.seed import DEMO
from tui.secret import Secret

# Retries in tests wait microseconds, not seconds: the behaviour is the same, the suite stays fast.
FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01)


def make_api(url: str, token: str | Secret) -> ModerationAPI:
    """The API as the app gets it in production: audited (tests point the trail at tmp)."""
    secret = token if isinstance(token, Secret) else Secret(token)
    return audited(ModerationAPI(CanvasClient(url, secret, retry=FAST_RETRY)))


def make_app(
    sandbox,
    *,
    course_id: int | None = None,
    assignment_id: int | None = None,
    token: str | None = None,
    connected: bool = True,
    keep_token=None,
) -> ModerationApp:
    settings = AppSettings(
        canvas_url=sandbox.url,
        canvas_label="Sandbox Canvas",
        course_id=course_id,
        assignment_id=assignment_id,
    )
    api = make_api(sandbox.url, token or sandbox.token) if connected else None
    return create_app(
        settings,
        api=api,
        connector=make_api,
        keep_token=keep_token,
    )


def grid_app(sandbox, assignment_id: int, **kwargs) -> ModerationApp:
    return make_app(sandbox, course_id=DEMO.course_id, assignment_id=assignment_id, **kwargs)


@asynccontextmanager
async def running(app: ModerationApp, size: tuple[int, int] = (120, 40)):
    """The app running headless, past its first loads: yields (app, pilot)."""
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield app, pilot


async def settle(pilot: Pilot) -> None:
    """Wait until every worker has finished and the screen has caught up."""
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def screen_text(app: ModerationApp) -> str:
    """Exactly the characters on the terminal, as a user would read them (dialogs included)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    stack = app._background_screens if app.screen.is_modal else []
    console.print(app.screen._compositor.render_update(full=True, screen_stack=stack))
    return console.export_text(styles=False)


def notifications(app: ModerationApp) -> list[str]:
    return [notification.message for notification in app._notifications]


# A fixed address for in-process (ASGI) sandboxes: links Canvas builds from it, such as the
# SpeedGrader URL, stay the same from run to run, which snapshots need.
IN_PROCESS_URL = "http://127.0.0.1:8080"


def in_process_app(
    *,
    course_id: int | None = None,
    assignment_id: int | None = None,
    connected: bool = True,
) -> ModerationApp:
    """The app on a fresh demo sandbox served through httpx's ASGI transport, no socket."""
    import httpx

    from tui.sandbox.app import create_app as create_sandbox

    transport = httpx.ASGITransport(app=create_sandbox())

    def connect(url: str, secret: Secret) -> ModerationAPI:
        return audited(
            ModerationAPI(CanvasClient(url, secret, transport=transport, retry=FAST_RETRY))
        )

    settings = AppSettings(
        canvas_url=IN_PROCESS_URL,
        canvas_label="Sandbox Canvas",
        course_id=course_id,
        assignment_id=assignment_id,
    )
    return create_app(
        settings,
        api=connect(IN_PROCESS_URL, Secret(DEMO.final_grader_token)) if connected else None,
        connector=connect,
        startup_message=None if connected else "No token was found for this Canvas.",
    )
