"""Shared fixtures: the sandbox Canvas, over real HTTP or in-process.

No Textual imports here: the sandbox and adapter tests must run without it.
"""

import os

import pytest

from tui.sandbox import SandboxServer, create_app, demo_state

# Conftest is imported before any test module, so this is in place before anything imports
# keyring: no test ever reads or writes a real keychain.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


@pytest.fixture
def sandbox():
    """The demo Canvas on a loopback port, fresh for each test (`.url`, `.token`, `.state`,
    `.faults`, `.stats`)."""
    with SandboxServer(demo_state()) as server:
        yield server


@pytest.fixture
def sandbox_app():
    """The demo Canvas as an ASGI app, for `httpx.ASGITransport(app=sandbox_app)`."""
    return create_app(demo_state())
