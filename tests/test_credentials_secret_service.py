"""login → status → logout against a REAL Secret Service: gnome-keyring over D-Bus.

The test runs the very recipe that `NoTokenError` tells users to copy on a server with no
desktop (`credentials.keyring_session_command`): a private `dbus-run-session` with a
`gnome-keyring-daemon --unlock` fed the keyring password on stdin. It runs in a temp HOME, so it
never touches the developer's own keyring, and it runs twice over the same keyring files to prove
that the token survives from one session to the next, encrypted, and nowhere in plain text.

Needs Debian's `dbus` and `gnome-keyring` packages (.ci/run installs them) and the
`secretstorage` module. Without them it is skipped locally with the reason, and fails in CI.
It also unlocks with a wrong password once: a really locked keyring must fail fast, not hang.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tui
from tui import config
from tui.credentials import keyring_session_command
from tui.sandbox.seed import DEMO
from tui.secret import Secret

KEYRING_PASSWORD = "correct horse battery staple"
# A safety net for a broken machine, not a measurement: a healthy run takes about a second.
SESSION_TIMEOUT_SECONDS = 120

# Runs inside the D-Bus session: one Moderate command per process, like a user at a shell.
SCENARIO = """\
import argparse, sys
from tui.commands import auth

command, url = sys.argv[1], sys.argv[2]
run = {"login": auth.run_login, "status": auth.run_status, "logout": auth.run_logout}[command]
sys.exit(run(argparse.Namespace(url=url, profile=None, token_stdin=True)))
"""


def missing_pieces() -> list[str]:
    missing = [
        tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if not shutil.which(tool)
    ]
    if importlib.util.find_spec("secretstorage") is None:
        missing.append("the secretstorage Python package")
    return missing


@pytest.fixture
def secret_service_tools() -> None:
    missing = missing_pieces()
    if not missing:
        return
    reason = (
        f"needs a real Secret Service; missing: {', '.join(missing)} "
        "(sudo apt-get install dbus gnome-keyring)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the real-keyring test, but it {reason}")
    pytest.skip(reason)


class Session:
    """Runs shell steps inside a fresh dbus-run-session with an unlocked gnome-keyring."""

    def __init__(self, home: Path, url: str) -> None:
        self.home = home
        self.url = url
        self.script = home / "scenario.py"
        self.script.write_text(SCENARIO)
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            # Let keyring find the backend itself, as it would for a user; no token, no bus.
            if key not in {"PYTHON_KEYRING_BACKEND", "CANVAS_API_TOKEN", "DBUS_SESSION_BUS_ADDRESS"}
        }
        runtime = self.home / "run"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_DATA_HOME=str(self.home / ".local/share"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            XDG_RUNTIME_DIR=str(runtime),
            MODERATE_CONFIG_DIR=str(self.home / "moderate-config"),
            # The package may not be installed in this interpreter: import it from the tree.
            PYTHONPATH=os.pathsep.join(
                filter(None, [str(Path(tui.__file__).parents[1]), os.environ.get("PYTHONPATH")])
            ),
        )
        return env

    def moderate(self, command: str) -> str:
        """`moderate <command> --url URL` as a shell step that reports its exit code."""
        step = shlex.join([sys.executable, str(self.script), command, self.url])
        return f'{step}; echo "{command} exited $?"'

    def run(
        self, *steps: str, stdin: str = "", keyring_password: str = KEYRING_PASSWORD
    ) -> subprocess.CompletedProcess[str]:
        recipe = keyring_session_command("; ".join(steps))
        return subprocess.run(
            ["sh", "-c", recipe],
            input=stdin,
            capture_output=True,
            text=True,
            env={**self.env, "KEYRING_PASSWORD": keyring_password},
            timeout=SESSION_TIMEOUT_SECONDS,
            check=False,
        )


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_login_status_logout_with_gnome_keyring(secret_service_tools, sandbox, tmp_path):
    token = DEMO.final_grader_token
    masked = Secret(token).masked
    session = Session(tmp_path, sandbox.url)
    host = config.canvas_host(sandbox.url)

    first = session.run(session.moderate("login"), session.moderate("status"), stdin=f"{token}\n")

    assert "login exited 0" in first.stdout, first.stderr
    assert f"Token {masked} stored in the keyring (SecretService Keyring)" in first.stdout
    assert "status exited 0" in first.stdout, first.stderr
    assert f"Token:   {masked} from keyring (SecretService Keyring)" in first.stdout
    assert f"(user {DEMO.final_grader_id})" in first.stdout

    # The wrong password leaves the keyring locked, with no display for an unlock prompt: the
    # commands fail at once with a sentence (or after the keyring timeout), never hang.
    locked = session.run(session.moderate("status"), keyring_password="not the password")

    assert "status exited 1" in locked.stdout
    assert (
        "The keyring is locked (while reading the token)" in locked.stderr
        or "The keyring did not answer within 3 s" in locked.stderr
    ), locked.stderr

    # A new session, a new daemon, the same keyring file unlocked with the right password.
    second = session.run(
        session.moderate("status"), session.moderate("logout"), session.moderate("status")
    )

    assert second.stdout.count("status exited") == 2
    assert "status exited 0" in second.stdout.split("logout exited")[0], second.stderr
    assert f"Removed the token for {host} from the keyring." in second.stdout
    assert "status exited 1" in second.stdout.split("logout exited")[1]
    assert f"The keyring (SecretService Keyring) holds no token for {host}." in second.stderr

    # The keyring file is there, encrypted: the token is in no file and no output, anywhere.
    written = files_under(tmp_path)
    assert any(path.suffix == ".keyring" for path in written)
    for path in written:
        assert token.encode() not in path.read_bytes(), path
    for output in (first.stdout, first.stderr, locked.stderr, second.stdout, second.stderr):
        assert token not in output
