"""The embedded sandbox Canvas: an ASGI app that behaves like Canvas's moderation API, the
demo seed it serves, fault knobs, and a server to run it on a loopback port.

It never imports Textual: `moderate sandbox`, the tests and the benchmarks use it headless.
"""

from tui.sandbox.app import create_app
from tui.sandbox.faults import Faults
from tui.sandbox.seed import DEMO, build_moderated_course, demo_state
from tui.sandbox.server import SandboxServer
from tui.sandbox.state import SandboxState

__all__ = [
    "DEMO",
    "Faults",
    "SandboxServer",
    "SandboxState",
    "build_moderated_course",
    "create_app",
    "demo_state",
]
