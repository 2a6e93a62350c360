"""Shared fixtures: the sandbox Canvas, over real HTTP or in-process.

No Textual imports here: the sandbox and adapter tests must run without it.
"""

import os

import pytest

from tui.sandbox import SandboxServer, create_app, demo_state

# Conftest is imported before any test module, so this is in place before anything imports
# keyring: no test ever reads or writes a real keychain.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


@pytest.fixture(autouse=True)
def private_dirs(tmp_path_factory, monkeypatch):
    """Every test gets its own config and state folders: no test reads the developer's
    profiles or writes to the developer's audit trail."""
    base = tmp_path_factory.mktemp("moderate")
    monkeypatch.setenv("MODERATE_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("MODERATE_STATE_DIR", str(base / "state"))
    return base


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
