"""Regenerate the SVG screenshots in this folder from the sandbox Canvas: `make screenshots`.

Each screenshot is the real app driven by the keyboard against the embedded sandbox, the same
way a user would reach that screen.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from textual.pilot import Pilot
from textual.widgets import Input

from tui.app import AppSettings, ModerationApp, create_app
from tui.canvas.client import CanvasClient
from tui.canvas.moderation import ModerationAPI
from tui.sandbox.app import create_app as create_sandbox
from tui.sandbox.seed import DEMO
from tui.secret import Secret

SIZE = (100, 30)
ADDRESS = "http://127.0.0.1:8080"

Steps = Callable[[Pilot], Awaitable[None]]


async def settle(pilot: Pilot) -> None:
    """Wait until every worker is done and the screen has been redrawn."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def shoot(
    out: Path,
    name: str,
    settings: AppSettings,
    steps: Steps,
    *,
    connected: bool = True,
) -> None:
    # A fresh sandbox per picture, served in-process at a fixed address, so that links in the
    # pictures (the SpeedGrader URL) do not change from one regeneration to the next.
    transport = httpx.ASGITransport(app=create_sandbox())

    def connect(url: str, token: Secret) -> ModerationAPI:
        return ModerationAPI(CanvasClient(url, token, transport=transport))

    api = connect(ADDRESS, Secret(DEMO.final_grader_token)) if connected else None
    app: ModerationApp = create_app(
        settings,
        api=api,
        connector=connect,
        startup_message=None if connected else "No token found for school.example.edu.",
    )
    async with app.run_test(size=SIZE) as pilot:
        app.animation_level = "none"
        await settle(pilot)
        await steps(pilot)
        await settle(pilot)
        for field in app.screen.query(Input):
            field.cursor_blink = False
        app.clear_notifications()
        await pilot.pause()
        app.save_screenshot(filename=f"{name}.svg", path=str(out))
    print(f"wrote {out / (name + '.svg')}")


def grid_settings(assignment_id: int) -> AppSettings:
    return AppSettings(
        canvas_label="Sandbox Canvas (demo)",
        course_id=DEMO.course_id,
        assignment_id=assignment_id,
        demo=True,
    )


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    home = AppSettings(canvas_label="Sandbox Canvas (demo)", demo=True)

    async def nothing(pilot: Pilot) -> None:
        return None

    async def open_first_course(pilot: Pilot) -> None:
        await pilot.press("enter")

    def keys(*presses: str) -> Steps:
        async def run(pilot: Pilot) -> None:
            for key in presses:
                await pilot.press(key)
                await settle(pilot)

        return run

    await shoot(out, "courses", home, nothing)
    await shoot(out, "assignments", home, open_first_course)
    await shoot(out, "grid", grid_settings(DEMO.essay_id), keys("down", "right"))
    await shoot(out, "grid-anonymous", grid_settings(DEMO.anonymous_id), nothing)
    await shoot(out, "grid-hidden-graders", grid_settings(DEMO.lab_id), nothing)
    await shoot(out, "details", grid_settings(DEMO.essay_id), keys("j", "j", "d"))
    await shoot(out, "custom-grade", grid_settings(DEMO.essay_id), keys("c"))
    await shoot(out, "publish-blocked", grid_settings(DEMO.essay_id), keys("p"))
    await shoot(out, "publish-confirm", grid_settings(DEMO.ready_id), keys("p"))
    await shoot(out, "released", grid_settings(DEMO.released_id), nothing)
    await shoot(out, "moderation-set", grid_settings(DEMO.essay_id), keys("m"))
    await shoot(out, "help", grid_settings(DEMO.essay_id), keys("question_mark"))
    await shoot(
        out,
        "connect",
        AppSettings(canvas_url="https://school.example.edu"),
        nothing,
        connected=False,
    )


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")))
