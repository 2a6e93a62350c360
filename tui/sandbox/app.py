"""The sandbox Canvas as an ASGI app: `create_app(state, faults)`.

Serve it with uvicorn (`SandboxServer` does) or call it in-process through
`httpx.ASGITransport`. Besides Canvas's /api/v1 endpoints it has two admin routes that need
no token and are never faulted:

    GET /__sandbox__/faults   the fault knobs and pending one-shot injections
    PUT /__sandbox__/faults   change them: {"latency": 0.2, "fail_next": [{"path": "publish",
                              "status": 500}], "drop_next": [...], "drop_after_commit": [...],
                              "reset": true}
    GET /__sandbox__/stats    requests served, by route, and what the faults did to them
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tui.sandbox.api import API_ROUTES
from tui.sandbox.canvas_http import JSON_MEDIA_TYPE, canvas_json, not_found
from tui.sandbox.edge import CanvasEdge
from tui.sandbox.faults import Faults
from tui.sandbox.seed import demo_state
from tui.sandbox.state import SandboxState
from tui.sandbox.stats import SandboxStats

__all__ = ["SandboxApp", "create_app"]


class SandboxApp(Starlette):
    """Starlette with `CanvasEdge` outside everything, Starlette's own error middleware
    included: a dropped connection needs the server's untouched `send` to reach the socket."""

    def build_middleware_stack(self) -> ASGIApp:
        return CanvasEdge(
            super().build_middleware_stack(),
            faults=self.state.faults,
            stats=self.state.stats,
            routes=API_ROUTES,
        )


def _admin_json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=JSON_MEDIA_TYPE)


async def get_faults(request: Request) -> Response:
    return _admin_json(request.app.state.faults.to_json())


INJECTION_KEYS = ("fail_next", "drop_next", "drop_after_commit")


def _injections(value: Any, name: str) -> list[tuple[str, int, int]]:
    """[(path, status, times)] from one object or a list of them."""
    items = value if isinstance(value, list) else [value]
    parsed = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise ValueError(f'{name} takes objects like {{"path": "publish", "times": 1}}')
        status, times = item.get("status", 500), item.get("times", 1)
        if not isinstance(status, int) or not isinstance(times, int):
            raise ValueError(f"{name}: status and times must be integers")
        parsed.append((item["path"], status, times))
    return parsed


def _apply_fault_changes(faults: Faults, changes: dict[str, Any]) -> None:
    changes = dict(changes)
    if changes.pop("reset", False) is True:
        faults.reset()
    injections = {name: _injections(changes.pop(name, []), name) for name in INJECTION_KEYS}
    faults.update(changes)
    for path, status, times in injections["fail_next"]:
        faults.fail_next(path, status, times)
    for path, _, times in injections["drop_next"]:
        faults.drop_next(path, times)
    for path, _, times in injections["drop_after_commit"]:
        faults.drop_after_commit(path, times)


async def put_faults(request: Request) -> Response:
    faults: Faults = request.app.state.faults
    try:
        changes = json.loads(await request.body() or b"{}")
        if not isinstance(changes, dict):
            raise ValueError("send a JSON object of fault knobs")
        # Rehearse on a scratch copy first, so a request with one bad field changes nothing.
        _apply_fault_changes(Faults(), changes)
    except ValueError as error:
        return _admin_json({"errors": [{"message": str(error)}]}, status=400)
    _apply_fault_changes(faults, changes)
    return _admin_json(faults.to_json())


async def get_stats(request: Request) -> Response:
    return _admin_json(request.app.state.stats.to_json())


ADMIN_ROUTES = [
    Route("/__sandbox__/faults", get_faults, methods=["GET"]),
    Route("/__sandbox__/faults", put_faults, methods=["PUT"]),
    Route("/__sandbox__/stats", get_stats, methods=["GET"]),
]


async def _no_such_route(request: Request, exc: Exception) -> Response:
    # Canvas answers an unknown API path (or method) with its usual 404 body.
    assert isinstance(exc, HTTPException)
    error = not_found()
    return canvas_json(request, error.body, status=error.status)


def create_app(state: SandboxState | None = None, faults: Faults | None = None) -> SandboxApp:
    """The sandbox Canvas over `state` (the demo seed by default)."""
    if state is None:
        state = demo_state()
    app = SandboxApp(
        routes=[*API_ROUTES, *ADMIN_ROUTES],
        exception_handlers={404: _no_such_route, 405: _no_such_route},
    )
    app.state.sandbox = state
    app.state.faults = faults if faults is not None else Faults()
    app.state.stats = SandboxStats()
    return app
