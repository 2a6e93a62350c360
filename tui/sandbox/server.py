"""`SandboxServer`: the sandbox Canvas on a real socket, served by uvicorn in a background
thread. Used by `moderate --demo`, `moderate sandbox`, the tests and the benchmarks.

    with SandboxServer() as canvas:          # or: async with SandboxServer() as canvas
        httpx.get(f"{canvas.url}/api/v1/users/self",
                  headers={"Authorization": f"Bearer {canvas.token}"})
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType

import uvicorn

from tui.sandbox.app import create_app
from tui.sandbox.faults import Faults
from tui.sandbox.seed import DEMO, demo_state
from tui.sandbox.state import SandboxState
from tui.sandbox.stats import SandboxStats

__all__ = ["SandboxServer"]

STARTUP_TIMEOUT = 5.0  # seconds; it normally takes a few milliseconds
SHUTDOWN_TIMEOUT = 5.0
_POLL_INTERVAL = 0.002


class SandboxServer:
    """The sandbox Canvas, listening on `host` (loopback) and `port` (0: any free port)."""

    def __init__(
        self,
        state: SandboxState | None = None,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quiet: bool = False,
    ) -> None:
        self.state = state if state is not None else demo_state()
        self.faults = faults if faults is not None else Faults()
        self.app = create_app(self.state, self.faults)
        self.stats: SandboxStats = self.app.state.stats
        self.token = DEMO.final_grader_token
        self.host = host
        self._requested_port = port
        # Under the TUI (`moderate --demo`) the terminal belongs to Textual: uvicorn must not
        # print its warnings there, or they would tear the screen.
        self._quiet = quiet
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the sandbox server is not running")
        return self._socket.getsockname()[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> SandboxServer:
        if self._server is not None:
            raise RuntimeError("the sandbox server is already running")
        # Bind here rather than in uvicorn, so the port is known before the thread starts
        # and a busy port fails in the caller's thread with a plain OSError.
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._socket = socket.create_server((self.host, self._requested_port), family=family)
        config = uvicorn.Config(
            self.app,
            log_level="critical" if self._quiet else "warning",
            log_config=None if self._quiet else uvicorn.config.LOGGING_CONFIG,
            lifespan="off",
            access_log=False,
            ws="none",
            # In-flight requests (a latency knob of several seconds) must not hold up exit.
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"sandbox-canvas:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sandbox Canvas did not start")
            time.sleep(_POLL_INTERVAL)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread; safe to call twice."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(SHUTDOWN_TIMEOUT)
            if thread.is_alive():  # a stuck request: stop waiting for it
                server.force_exit = True
                thread.join(SHUTDOWN_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> SandboxServer:
        # Starting and stopping block for milliseconds; keep them off the event loop anyway.
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    def __repr__(self) -> str:
        where = self.url if self._socket is not None else "stopped"
        return f"SandboxServer({where})"
