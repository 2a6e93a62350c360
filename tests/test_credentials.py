"""Where the token comes from, where it goes, and what happens when the keyring misbehaves.

Every test installs its own keyring backend (see tests/keyring_backends.py); none of them can
reach the developer's real keyring.
"""

from __future__ import annotations

import shlex
import threading
import traceback

import keyring.backends.fail
import keyring.backends.null
import keyring.core
import pytest

from tests.keyring_backends import (
    HangingKeyring,
    LockedKeyring,
    MemoryKeyring,
    PlaintextKeyring,
    StubChainer,
)
from tui import credentials
from tui.credentials import (
    KeyringError,
    KeyringTimeoutError,
    KeyringUnavailableError,
    NoTokenError,
)
from tui.secret import Secret

URL = "https://school.instructure.com"
HOST = "school.instructure.com"
TOKEN = "1~KeyringTokenKeyringTokenKeyringTokenKeyringTokenKeyringTok9f3a"
ENV_TOKEN = "1~EnvironmentTokenEnvironmentTokenEnvironmentTokenEnvironmen77b1"
# Long enough for a healthy in-process call, far below the real 3 s: hanging tests stay fast.
SHORT = 0.05


@pytest.fixture(autouse=True)
def no_env_token(monkeypatch):
    monkeypatch.delenv(credentials.TOKEN_ENV, raising=False)


@pytest.fixture
def use_keyring(monkeypatch):
    """Install a backend as keyring's current one, for this test only."""

    def install(backend):
        monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
        return backend

    return install


@pytest.fixture
def memory(use_keyring) -> MemoryKeyring:
    return use_keyring(MemoryKeyring())


@pytest.fixture
def hanging(use_keyring):
    backend = use_keyring(HangingKeyring())
    yield backend
    # Let the abandoned keyring threads finish, so no test leaves one behind.
    backend.release()
    for thread in threading.enumerate():
        if thread.name.startswith("moderate-keyring"):
            thread.join()


# ---------------------------------------------------------------------------------------------
# Lookup order


def test_the_environment_token_wins_over_the_keyring(memory, monkeypatch):
    memory.set_password("moderate", HOST, TOKEN)
    monkeypatch.setenv("CANVAS_API_TOKEN", ENV_TOKEN)

    resolved = credentials.resolve_token(URL)

    assert resolved.secret == Secret(ENV_TOKEN)
    assert resolved.source == "env CANVAS_API_TOKEN"


def test_a_blank_environment_variable_counts_as_unset(memory, monkeypatch):
    memory.set_password("moderate", HOST, TOKEN)
    monkeypatch.setenv("CANVAS_API_TOKEN", "  ")

    assert credentials.resolve_token(URL).secret == Secret(TOKEN)


def test_the_environment_works_with_no_keyring_at_all(use_keyring, monkeypatch):
    use_keyring(keyring.backends.fail.Keyring())
    monkeypatch.setenv("CANVAS_API_TOKEN", f"{ENV_TOKEN}\n")

    assert credentials.resolve_token(URL).secret == Secret(ENV_TOKEN)


def test_the_keyring_token_says_which_backend_it_came_from(memory):
    memory.set_password("moderate", HOST, TOKEN)

    resolved = credentials.resolve_token("https://School.Instructure.com/api/v1")

    assert resolved.secret == Secret(TOKEN)
    assert resolved.source == f"keyring ({MemoryKeyring.name})"


def test_tokens_are_kept_per_canvas_host_including_the_port(memory):
    credentials.store_token(URL, Secret(TOKEN))
    credentials.store_token("http://127.0.0.1:8123", Secret(ENV_TOKEN))

    assert memory.passwords == {
        ("moderate", HOST): TOKEN,
        ("moderate", "127.0.0.1:8123"): ENV_TOKEN,
    }
    assert credentials.resolve_token(HOST).secret == Secret(TOKEN)
    with pytest.raises(NoTokenError, match="holds no token for 127.0.0.1:9999"):
        credentials.resolve_token("http://127.0.0.1:9999")


def test_an_empty_keyring_says_what_to_do(memory):
    with pytest.raises(NoTokenError) as caught:
        credentials.resolve_token(URL)

    message = str(caught.value)
    assert message.splitlines()[0] == (
        f"No Canvas token for {HOST}: CANVAS_API_TOKEN is not set and the keyring has none."
    )
    assert f"holds no token for {HOST}" in message
    assert "export CANVAS_API_TOKEN=" in message
    assert f"moderate login --url {URL}" in message
    assert "dbus-run-session" not in message  # there is a keyring: no need for a private one


# ---------------------------------------------------------------------------------------------
# Backends that count as no keyring


def test_headless_linux_fail_backend_gives_the_keyring_session_recipe(use_keyring):
    use_keyring(keyring.backends.fail.Keyring())

    with pytest.raises(NoTokenError) as caught:
        credentials.resolve_token(URL)

    message = str(caught.value)
    assert "no keyring service is running" in message
    assert "export CANVAS_API_TOKEN=" in message
    recipe = (
        'dbus-run-session -- sh -c \'printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon '
        f"--unlock --components=secrets >/dev/null; moderate login --url {URL}'"
    )
    assert recipe in message.splitlines()[-2]


def test_the_recipe_is_one_shell_word_after_sh_c():
    command = credentials.keyring_session_command("moderate login --url https://x.example")

    words = shlex.split(command)
    assert words[:4] == ["dbus-run-session", "--", "sh", "-c"]
    assert len(words) == 5
    assert words[4].endswith("; moderate login --url https://x.example")


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (keyring.backends.fail.Keyring(), "no keyring service is running"),
        (keyring.backends.null.Keyring(), "the keyring is switched off"),
        (PlaintextKeyring(), "keeps secrets in a plain file"),
        (
            StubChainer(PlaintextKeyring(), keyring.backends.fail.Keyring()),
            "none of the chained keyrings is usable",
        ),
        (StubChainer(), "no keyring service is running"),
    ],
    ids=["fail", "null", "plaintext", "chainer-of-non-keyrings", "empty-chainer"],
)
def test_backends_that_are_not_keyrings_are_refused(use_keyring, backend, reason):
    use_keyring(backend)

    status = credentials.keyring_status()
    assert not status.available
    assert reason in status.reason
    with pytest.raises(KeyringUnavailableError, match=reason):
        credentials.store_token(URL, Secret(TOKEN))
    with pytest.raises(NoTokenError, match=reason):
        credentials.resolve_token(URL)


def test_a_plaintext_keyring_is_neither_read_nor_written(use_keyring):
    plaintext = use_keyring(PlaintextKeyring())
    plaintext.passwords[("moderate", HOST)] = TOKEN  # left there by some other tool

    with pytest.raises(NoTokenError):
        credentials.resolve_token(URL)
    with pytest.raises(KeyringUnavailableError):
        credentials.store_token(URL, Secret(ENV_TOKEN))
    assert plaintext.passwords == {("moderate", HOST): TOKEN}


def test_backends_that_prompt_on_the_terminal_are_refused(use_keyring):
    class EncryptedKeyring(MemoryKeyring):  # keyrings.alt's: asks for a password via getpass
        priority = 0.6

    EncryptedKeyring.__module__ = "keyrings.alt.file"
    use_keyring(EncryptedKeyring())

    status = credentials.keyring_status()

    assert not status.available
    assert "asks for its password on the terminal" in status.reason


def test_a_chainer_uses_only_its_real_member(use_keyring):
    memory, plaintext = MemoryKeyring(), PlaintextKeyring()
    use_keyring(StubChainer(plaintext, memory))

    backend_name = credentials.store_token(URL, Secret(TOKEN))

    assert backend_name == MemoryKeyring.name
    assert memory.passwords == {("moderate", HOST): TOKEN}
    assert plaintext.passwords == {}
    assert credentials.resolve_token(URL).source == f"keyring ({MemoryKeyring.name})"


# ---------------------------------------------------------------------------------------------
# Locked and hanging keyrings


def test_a_locked_keyring_is_explained_and_never_raises_keyrings_own_error(use_keyring):
    use_keyring(LockedKeyring())

    with pytest.raises(KeyringUnavailableError, match="The keyring is locked"):
        credentials.store_token(URL, Secret(TOKEN))
    with pytest.raises(KeyringUnavailableError, match="locked"):
        credentials.delete_token(URL)
    with pytest.raises(NoTokenError, match="The keyring is locked"):
        credentials.resolve_token(URL)


def test_a_hanging_keyring_times_out_instead_of_hanging_moderate(hanging):
    with pytest.raises(KeyringTimeoutError) as caught:
        credentials.store_token(URL, Secret(TOKEN), timeout=SHORT)

    assert hanging.entered.is_set()  # the call really reached the backend, and was abandoned
    assert str(caught.value) == (
        f"The keyring did not answer within {SHORT:g} s while storing the token "
        "(it may be locked and waiting for a password prompt)."
    )


def test_even_choosing_the_backend_cannot_hang(use_keyring):
    backend = use_keyring(HangingKeyring(while_opening=True))
    try:
        status = credentials.keyring_status(timeout=SHORT)
    finally:
        backend.release()

    assert backend.entered.is_set()
    assert not status.available
    assert status.reason == (
        f"The keyring did not answer within {SHORT:g} s while opening the keyring "
        "(it may be locked and waiting for a password prompt)."
    )


def test_every_call_has_the_timeout_by_default(hanging, monkeypatch):
    # The default is the module's 3 s; shortened here so the test does not wait 3 s.
    assert credentials.KEYRING_TIMEOUT_SECONDS == 3.0
    monkeypatch.setattr(credentials, "KEYRING_TIMEOUT_SECONDS", SHORT)

    with pytest.raises(NoTokenError, match="did not answer within 0.05 s while reading"):
        credentials.resolve_token(URL)
    with pytest.raises(KeyringTimeoutError, match="while removing the token"):
        credentials.delete_token(URL)
    with pytest.raises(KeyringTimeoutError, match="while storing the token"):
        credentials.store_token(URL, Secret(TOKEN))


def test_the_timeout_thread_never_keeps_the_process_alive(hanging):
    with pytest.raises(KeyringTimeoutError):
        credentials.store_token(URL, Secret(TOKEN), timeout=SHORT)

    abandoned = [t for t in threading.enumerate() if t.name.startswith("moderate-keyring")]
    assert abandoned and all(thread.daemon for thread in abandoned)


# ---------------------------------------------------------------------------------------------
# Storing, deleting, status


def test_store_then_delete(memory):
    assert credentials.store_token(URL, Secret(TOKEN)) == MemoryKeyring.name

    assert credentials.delete_token(URL) is True
    assert memory.passwords == {}
    assert credentials.delete_token(URL) is False


def test_status_of_a_real_keyring(memory):
    assert credentials.keyring_status() == credentials.KeyringStatus(True, MemoryKeyring.name)


def test_a_failing_backend_error_carries_no_token_in_its_traceback(use_keyring):
    class BrokenKeyring(MemoryKeyring):
        def set_password(self, service, username, password):
            raise RuntimeError("D-Bus connection closed")

    use_keyring(BrokenKeyring())

    with pytest.raises(KeyringError) as caught:
        credentials.store_token(URL, Secret(TOKEN))

    assert str(caught.value) == (
        "The keyring failed while storing the token: D-Bus connection closed"
    )
    # The backend's frame had the revealed token as a local: the error must not carry it.
    formatted = "".join(
        traceback.TracebackException.from_exception(caught.value, capture_locals=True).format()
    )
    assert "D-Bus connection closed" in formatted
    assert TOKEN not in formatted
    assert caught.value.__cause__ is None and caught.value.__context__ is None
