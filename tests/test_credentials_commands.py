"""`moderate login`, `logout` and `status`, end to end against the sandbox Canvas over loopback.

The keyring is a dict-backed stand-in (tests/keyring_backends.py); the config lives in a temp
dir; Canvas is the real sandbox server. What is asserted is what a user sees: exit codes, the
lines on stdout and stderr, what ends up in the keyring and the config file, and where the token
must never appear.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import pty
import select
import subprocess
import sys
import traceback
from pathlib import Path

import keyring.backends.fail
import keyring.core
import pytest

import tui
from tests.keyring_backends import HangingKeyring, LockedKeyring, MemoryKeyring
from tui import config, credentials
from tui.canvas.client import CanvasClient
from tui.canvas.errors import InvalidTokenError
from tui.canvas.moderation import ModerationAPI
from tui.commands import auth
from tui.sandbox.seed import DEMO
from tui.secret import Secret

WRONG_TOKEN = "1~ThisIsNotATokenCanvasKnowsThisIsNotATokenCanvasKnowsThisIsNo0000"
# A safety net against a stuck child process, not a measurement.
PTY_TIMEOUT_SECONDS = 60


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.delenv(credentials.TOKEN_ENV, raising=False)
    monkeypatch.delenv(config.BASE_URL_ENV, raising=False)


@pytest.fixture
def memory(monkeypatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    return backend


@pytest.fixture
def host(sandbox) -> str:
    return config.canvas_host(sandbox.url)


def namespace(url=None, profile=None, token_stdin=True) -> argparse.Namespace:
    return argparse.Namespace(url=url, profile=profile, token_stdin=token_stdin)


def login(monkeypatch, token: str, **target) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{token}\n"))
    return auth.run_login(namespace(**target))


def config_file() -> Path:
    return config.config_path()


def masked(token: str) -> str:
    return Secret(token).masked


# ---------------------------------------------------------------------------------------------
# login


def test_login_checks_the_token_stores_it_and_saves_the_profile(
    sandbox, memory, host, monkeypatch, capsys
):
    code = login(monkeypatch, DEMO.final_grader_token, url=sandbox.url)

    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith(f"Logged in to {sandbox.url} as ")
    assert f"Token {masked(DEMO.final_grader_token)} stored in the keyring" in out
    assert err == ""
    assert memory.passwords == {("moderate", host): DEMO.final_grader_token}
    settings = config.load_settings()
    assert settings.default() == config.Profile(host, sandbox.url)


def test_the_token_is_nowhere_in_the_config_file_or_the_output(
    sandbox, memory, monkeypatch, capsys
):
    login(monkeypatch, DEMO.final_grader_token, url=sandbox.url, profile="demo")
    auth.run_status(namespace(profile="demo"))

    out, err = capsys.readouterr()
    assert DEMO.final_grader_token not in out + err
    assert DEMO.final_grader_token not in config_file().read_text()
    assert 'url = "http://127.0.0.1:' in config_file().read_text()


def test_a_wrong_token_is_refused_and_not_stored(sandbox, memory, monkeypatch, capsys):
    code = login(monkeypatch, WRONG_TOKEN, url=sandbox.url)

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err == (
        "moderate login: Canvas did not accept the access token: check it, or create a new one."
        " Canvas said: Invalid access token. Nothing was stored.\n"
    )
    assert memory.passwords == {}
    assert not config_file().exists()


def test_login_with_no_keyring_stops_before_asking_for_the_token(sandbox, monkeypatch, capsys):
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.backends.fail.Keyring())
    stdin = io.StringIO(f"{DEMO.final_grader_token}\n")
    monkeypatch.setattr("sys.stdin", stdin)

    code = auth.run_login(namespace(url=sandbox.url))

    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("moderate login: No usable keyring: no keyring service is running")
    assert "Nothing was stored" in err
    assert f"moderate login --url {sandbox.url}'" in err  # inside the dbus-run-session recipe
    assert stdin.tell() == 0  # the token was never read
    assert not config_file().exists()


def test_login_to_a_locked_keyring_says_so(sandbox, monkeypatch, capsys):
    monkeypatch.setattr(keyring.core, "_keyring_backend", LockedKeyring())

    code = login(monkeypatch, DEMO.final_grader_token, url=sandbox.url)

    _, err = capsys.readouterr()
    assert code == 1
    assert err == (
        "moderate login: The keyring is locked (while storing the token): unlock it and try "
        "again (in a dbus-run-session: check KEYRING_PASSWORD). "
        "The token was checked but not stored.\n"
    )
    assert not config_file().exists()


def test_an_empty_token_is_refused(sandbox, memory, monkeypatch, capsys):
    code = login(monkeypatch, "   ", url=sandbox.url)

    assert code == 1
    assert capsys.readouterr().err == "moderate login: No token was given; nothing was stored.\n"


def test_without_a_terminal_the_token_must_come_with_token_stdin(
    sandbox, memory, monkeypatch, capsys
):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    code = auth.run_login(namespace(url=sandbox.url, token_stdin=False))

    assert code == 2
    assert "use --token-stdin" in capsys.readouterr().err


def test_login_refuses_plain_http_to_another_machine(memory, monkeypatch, capsys):
    code = login(monkeypatch, DEMO.final_grader_token, url="http://school.instructure.com")

    assert code == 2
    assert "plain http://" in capsys.readouterr().err
    assert memory.passwords == {}


def test_a_named_profile_is_saved_and_becomes_the_default(sandbox, memory, monkeypatch, capsys):
    login(monkeypatch, DEMO.final_grader_token, url=sandbox.url, profile="demo")

    settings = config.load_settings()
    assert settings.default_profile == "demo"
    assert settings.by_name("demo").url == sandbox.url
    assert "profile 'demo' saved in" in capsys.readouterr().out


def test_the_interactive_prompt_hides_the_token(sandbox, tmp_path):
    """On a real terminal (a pty), what is typed is not echoed, and login succeeds."""
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "tests.keyring_backends.MemoryKeyring",
        "PYTHONPATH": str(Path(tui.__file__).parents[1]),
        config.CONFIG_DIR_ENV: str(tmp_path / "config"),
    }
    script = (
        "import argparse, sys; from tui.commands import auth; "
        f"sys.exit(auth.run_login(argparse.Namespace(url={sandbox.url!r}, profile=None, "
        "token_stdin=False)))"
    )
    terminal, child_side = pty.openpty()
    # A new session has no controlling terminal, so getpass uses the pty on stdin, never the
    # terminal pytest itself may be running in.
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=child_side,
        stdout=child_side,
        stderr=child_side,
        env=env,
        start_new_session=True,
    )
    os.close(child_side)
    try:
        shown = read_terminal(terminal, until=b"(input hidden): ")
        os.write(terminal, f"{DEMO.final_grader_token}\n".encode())
        shown += read_terminal(terminal)
    finally:
        os.close(terminal)
        code = child.wait(timeout=PTY_TIMEOUT_SECONDS)

    text = shown.decode()
    assert code == 0, text
    assert f"Canvas access token for {config.canvas_host(sandbox.url)} (input hidden): " in text
    assert f"Token {masked(DEMO.final_grader_token)} stored in the keyring" in text
    assert DEMO.final_grader_token not in text


def read_terminal(fd: int, until: bytes | None = None) -> bytes:
    """What the child wrote to its terminal: up to `until`, or everything until it exits."""
    received = b""
    while until is None or until not in received:
        ready, _, _ = select.select([fd], [], [], PTY_TIMEOUT_SECONDS)
        if not ready:
            raise AssertionError(f"the child went silent; it had written {received!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal (Linux)
            break
        if not chunk:
            break
        received += chunk
    return received


# ---------------------------------------------------------------------------------------------
# status


def test_status_shows_canvas_user_source_and_the_masked_token(sandbox, memory, monkeypatch, capsys):
    login(monkeypatch, DEMO.final_grader_token, url=sandbox.url, profile="demo")
    capsys.readouterr()

    code = auth.run_status(namespace())  # the default profile

    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Canvas:  {sandbox.url} (profile demo)"
    assert lines[1] == (
        f"Token:   {masked(DEMO.final_grader_token)} from keyring ({MemoryKeyring.name})"
    )
    assert lines[2].startswith("User:    ")
    assert lines[2].endswith(f"(user {DEMO.final_grader_id})")


def test_status_says_the_token_came_from_the_environment(sandbox, memory, monkeypatch, capsys):
    monkeypatch.setenv("CANVAS_API_TOKEN", DEMO.final_grader_token)

    code = auth.run_status(namespace(url=sandbox.url))

    out, _ = capsys.readouterr()
    assert code == 0
    assert out.splitlines()[0] == f"Canvas:  {sandbox.url} (no saved profile)"
    assert f"{masked(DEMO.final_grader_token)} from env CANVAS_API_TOKEN" in out
    assert DEMO.final_grader_token not in out


def test_control_characters_in_a_canvas_name_never_reach_the_terminal(
    sandbox, memory, monkeypatch, capsys
):
    user = sandbox.state.users[DEMO.final_grader_id]
    monkeypatch.setattr(user, "name", "Mira \x1b]0;owned\x07Okafor\x1b[2J")
    monkeypatch.setenv("CANVAS_API_TOKEN", DEMO.final_grader_token)

    code = auth.run_status(namespace(url=sandbox.url))

    out, _ = capsys.readouterr()
    assert code == 0
    assert "User:    Mira ]0;ownedOkafor[2J (user" in out
    assert "\x1b" not in out and "\x07" not in out


def test_status_with_a_refused_token_shows_only_the_masked_token(
    sandbox, memory, monkeypatch, capsys
):
    monkeypatch.setenv("CANVAS_API_TOKEN", WRONG_TOKEN)

    code = auth.run_status(namespace(url=sandbox.url))

    out, err = capsys.readouterr()
    assert code == 1
    assert f"{masked(WRONG_TOKEN)} from env CANVAS_API_TOKEN" in out
    assert err.startswith("moderate status: Canvas did not accept the access token")
    assert len(err.splitlines()) == 1
    assert WRONG_TOKEN not in out + err


def test_status_without_a_token_says_how_to_get_one(sandbox, memory, capsys):
    code = auth.run_status(namespace(url=sandbox.url))

    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("moderate status: No Canvas token for 127.0.0.1:")
    assert "export CANVAS_API_TOKEN=" in err
    assert f"moderate login --url {sandbox.url}" in err


def test_status_with_a_hanging_keyring_gives_up_and_explains(sandbox, monkeypatch, capsys):
    backend = HangingKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    monkeypatch.setattr(credentials, "KEYRING_TIMEOUT_SECONDS", 0.05)
    try:
        code = auth.run_status(namespace(url=sandbox.url))
    finally:
        backend.release()

    assert code == 1
    assert "The keyring did not answer within 0.05 s" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("target", "complaint"),
    [
        ({}, "No Canvas chosen: give --url URL or --profile NAME"),
        ({"profile": "nope"}, "There is no profile named 'nope'"),
        ({"url": "school.instructure.com"}, "That is not a Canvas URL"),
    ],
)
def test_status_usage_errors_exit_2(memory, capsys, target, complaint):
    code = auth.run_status(namespace(**target))

    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(f"moderate status: {complaint}")
    assert len(err.splitlines()) == 1


def test_a_corrupt_config_is_one_line_and_no_traceback(memory, capsys):
    config_file().parent.mkdir(parents=True)
    config_file().write_text("default_profile = \n")

    code = auth.run_status(namespace())

    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(f"moderate status: The config file {config_file()} is not valid TOML")
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# logout


def test_logout_removes_the_token_and_status_then_finds_none(
    sandbox, memory, host, monkeypatch, capsys
):
    login(monkeypatch, DEMO.final_grader_token, url=sandbox.url)
    capsys.readouterr()

    assert auth.run_logout(namespace(url=sandbox.url)) == 0
    assert capsys.readouterr().out == f"Removed the token for {host} from the keyring.\n"
    assert memory.passwords == {}

    assert auth.run_status(namespace()) == 1  # the profile is kept; the token is gone
    assert "holds no token" in capsys.readouterr().err

    assert auth.run_logout(namespace(url=sandbox.url)) == 0
    assert "held no token" in capsys.readouterr().out


def test_logout_warns_that_the_environment_still_provides_a_token(
    sandbox, memory, monkeypatch, capsys
):
    monkeypatch.setenv("CANVAS_API_TOKEN", DEMO.final_grader_token)

    assert auth.run_logout(namespace(url=sandbox.url)) == 0
    assert "CANVAS_API_TOKEN is set" in capsys.readouterr().err


def test_logout_with_no_keyring_fails_clearly(sandbox, monkeypatch, capsys):
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.backends.fail.Keyring())

    assert auth.run_logout(namespace(url=sandbox.url)) == 1
    assert capsys.readouterr().err.startswith("moderate logout: No usable keyring")


# ---------------------------------------------------------------------------------------------
# The token leaks nowhere


def test_a_refused_login_logs_no_token_even_at_debug(sandbox, memory, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)  # root: httpx, httpcore, tui.canvas, everything

    login(monkeypatch, WRONG_TOKEN, url=sandbox.url)

    assert "/api/v1/users/self" in caplog.text  # the request was logged...
    assert WRONG_TOKEN not in caplog.text  # ...without the token


async def test_the_adapters_error_traceback_holds_no_token(sandbox):
    async with CanvasClient(sandbox.url, Secret(WRONG_TOKEN)) as client:
        with pytest.raises(InvalidTokenError) as caught:
            await ModerationAPI(client).current_user()

    # What a crash screen shows: every frame with its locals.
    formatted = "".join(
        traceback.TracebackException.from_exception(caught.value, capture_locals=True).format()
    )
    assert "InvalidTokenError" in formatted
    assert WRONG_TOKEN not in formatted
    assert WRONG_TOKEN not in repr(caught.value)
