"""The edge of the sandbox Canvas: what happens to an API request before any controller sees
it, and to every answer on its way out.

Canvas's request throttle (a leaky bucket per client, reference §2.5) puts `X-Request-Cost`
and `X-Rate-Limit-Remaining` on every API answer and refuses requests when the bucket is full.
The fault knobs act here too: latency, throttling, 500s, one-shot injections and dropped
connections. `/__sandbox__/…` admin routes pass straight through, never faulted or counted.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import httpx
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tui.sandbox.canvas_http import JSON_MEDIA_TYPE, WWW_AUTHENTICATE, server_error_body
from tui.sandbox.faults import Faults, Injection
from tui.sandbox.stats import SandboxStats

__all__ = ["CanvasEdge", "LeakyBucket"]

TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"


class LeakyBucket:
    """Canvas's RequestThrottle with its default settings: each request in flight holds an
    up-front cost of 50; when it finishes that is swapped for what it actually cost (its
    time); the bucket drains at 10 per second; a client whose bucket is full is refused.
    So the remaining allowance drops while requests run side by side, as on Canvas."""

    HIGH_WATER_MARK = 600.0
    MAXIMUM = 800.0
    OUTFLOW_PER_SECOND = 10.0
    UP_FRONT_COST = 50.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._levels: dict[str, tuple[float, float]] = {}  # client -> (level, as of)

    def _drained(self, client: str) -> float:
        level, as_of = self._levels.get(client, (0.0, time.monotonic()))
        now = time.monotonic()
        level = max(0.0, level - (now - as_of) * self.OUTFLOW_PER_SECOND)
        self._levels[client] = (level, now)
        return level

    def reserve(self, client: str) -> bool:
        """Take the up-front cost for a new request; False when the client must wait."""
        with self._lock:
            level = self._drained(client)
            if level >= self.MAXIMUM:
                return False
            self._levels[client] = (level + self.UP_FRONT_COST, time.monotonic())
            return True

    def settle(self, client: str, cost: float) -> float:
        """Swap the up-front cost for the real one; returns the remaining allowance."""
        with self._lock:
            level = max(0.0, self._drained(client) - self.UP_FRONT_COST + cost)
            self._levels[client] = (level, time.monotonic())
            return max(0.0, self.HIGH_WATER_MARK - level)


def _throttled_response(status: int) -> Response:
    phrase = HTTPStatus(status).phrase
    return Response(
        f"{status} {phrase} (Rate Limit Exceeded)\n",
        status_code=status,
        media_type=TEXT_MEDIA_TYPE,
        headers={"X-Rate-Limit-Remaining": "0.0"},
    )


def _injected_response(status: int, error_report_id: int) -> Response:
    """The answer Canvas (or what stands in front of it) gives with `status`."""
    if status in (403, 429):
        return _throttled_response(status)
    if status == 500:
        body: Any = server_error_body(error_report_id)
    elif status == 401:
        return Response(
            b'{"errors":[{"message":"Invalid access token."}]}',
            status_code=401,
            media_type=JSON_MEDIA_TYPE,
            headers=WWW_AUTHENTICATE,
        )
    elif status == 404:
        body = {"errors": [{"message": "The specified resource does not exist."}]}
    elif status >= 500:
        # 502/503/504 come from the load balancer in front of Canvas: plain text, not JSON.
        phrase = HTTPStatus(status).phrase
        return Response(f"{status} {phrase}\n", status_code=status, media_type=TEXT_MEDIA_TYPE)
    else:
        body = {"errors": [{"message": HTTPStatus(status).phrase}]}
    return Response(json.dumps(body), status_code=status, media_type=JSON_MEDIA_TYPE)


class ConnectionDropped(httpx.RemoteProtocolError):
    """In-process (httpx.ASGITransport) there is no socket to close: the nearest thing to a
    dropped connection is the error httpx raises when a server hangs up without answering."""

    def __init__(self) -> None:
        super().__init__("Server disconnected without sending a response.")


async def drop_connection(receive: Receive, send: Send) -> None:
    """Close the client's connection without a byte of answer.

    An ASGI app has no "hang up" message: returning without a response makes the server send
    a 500 of its own. So reach the server's transport through its `send` (uvicorn's send is a
    method of the request cycle, which holds the transport), abort it, and wait until the
    server has seen the disconnect, after which it stays silent."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionDropped()
    transport.abort()
    while (await receive())["type"] != "http.disconnect":
        pass


class CanvasEdge:
    """The outermost ASGI layer of the sandbox app (see create_app)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        faults: Faults,
        stats: SandboxStats,
        routes: Sequence[BaseRoute],
        bucket: LeakyBucket | None = None,
    ) -> None:
        self.app = app
        self.faults = faults
        self.stats = stats
        self.routes = routes
        self.bucket = bucket or LeakyBucket()

    def _route_name(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return f"{scope['method']} {getattr(route, 'path', '?')}"
        return "unrouted"

    @staticmethod
    def _client(scope: Scope) -> str:
        """Canvas throttles per access token when there is one, else per address."""
        for name, value in scope["headers"]:
            if name == b"authorization":
                return "token:" + value.decode(errors="replace")
        client = scope.get("client")
        return f"address:{client[0] if client else 'unknown'}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        faults, stats = self.faults, self.stats
        stats.count_request(self._route_name(scope))
        client = self._client(scope)
        if faults.roll(faults.throttle_rate) or not self.bucket.reserve(client):
            stats.count("throttled")
            await _throttled_response(faults.throttle_status)(scope, receive, send)
            return

        started = time.perf_counter()
        settled = False
        if faults.latency > 0:
            # A slow Canvas is slow while the request holds its place in the bucket.
            await asyncio.sleep(faults.latency)

        async def send_with_rate_headers(message: Message) -> None:
            nonlocal settled
            if message["type"] == "http.response.start" and not settled:
                cost = time.perf_counter() - started
                remaining = self.bucket.settle(client, cost)
                settled = True
                message = dict(message)
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-cost", f"{cost:.6f}".encode()),
                    (b"x-rate-limit-remaining", f"{remaining:.4f}".encode()),
                ]
            await send(message)

        try:
            await self._answer(scope, receive, send, send_with_rate_headers)
        finally:
            if not settled:
                self.bucket.settle(client, time.perf_counter() - started)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, send_out: Send) -> None:
        faults, stats = self.faults, self.stats
        injection: Injection | None = faults.take_injection(scope["path"])
        if injection is None:
            if faults.roll(faults.error_rate):
                injection = Injection("status", scope["path"], 1, 500)
            elif faults.roll(faults.drop_rate):
                injection = Injection("drop", scope["path"], 1)

        if injection is None:
            await self.app(scope, receive, send_out)
        elif injection.kind == "status":
            assert injection.status is not None
            stats.count("injected_errors")
            response = _injected_response(injection.status, stats.next_error_report_id())
            await response(scope, receive, send_out)
        else:
            if injection.kind == "drop_after_commit":
                await self.app(scope, receive, _discard)
            stats.count("dropped")
            await drop_connection(receive, send)


async def _discard(message: Message) -> None:
    """Swallow an answer that will never be sent (drop_after_commit)."""
