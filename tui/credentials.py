"""Finding, storing and forgetting the Canvas token.

Order of lookup, the one users know from gh and Poetry:

1. `CANVAS_API_TOKEN` in the environment (headless servers, CI, one-off runs);
2. the OS keyring (service `moderate`, user name = the Canvas host), only when its backend is a
   real one: keyring's `fail` and `null` backends, keyrings.alt's plain-text files and the
   backends that ask for a password on the terminal all count as no keyring;
3. nothing: `NoTokenError`, whose message says exactly what to type next.

Every keyring call runs in a daemon thread that is given `KEYRING_TIMEOUT_SECONDS` to answer.
A locked collection can wait forever for a GUI prompt nobody will see (over SSH there is no GUI),
and the GitHub CLI bounds its keyring calls for that reason; a thread that never answers is left
behind (it is a daemon thread, so it cannot keep the process alive) and the caller gets
`KeyringTimeoutError`.

A token is never written to a plain file by this module. No Textual here.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import keyring
import keyring.backend
import keyring.errors

from tui.config import canvas_host
from tui.secret import Secret

__all__ = [
    "KEYRING_SERVICE",
    "KEYRING_TIMEOUT_SECONDS",
    "TOKEN_ENV",
    "CredentialsError",
    "KeyringError",
    "KeyringStatus",
    "KeyringTimeoutError",
    "KeyringUnavailableError",
    "NoTokenError",
    "ResolvedToken",
    "delete_token",
    "env_token",
    "keyring_session_command",
    "keyring_status",
    "resolve_token",
    "store_token",
]

TOKEN_ENV = "CANVAS_API_TOKEN"
KEYRING_SERVICE = "moderate"
# Long enough for a healthy D-Bus round trip, short enough that a hung keyring is noticed.
KEYRING_TIMEOUT_SECONDS = 3.0

# Backends that are keyring's placeholders for "there is none".
_PLACEHOLDER_BACKENDS = {
    "keyring.backends.fail.Keyring": "no keyring service is running (on Linux: no Secret Service "
    "on D-Bus, as on most SSH servers)",
    "keyring.backends.null.Keyring": "the keyring is switched off (keyring's null backend)",
}
# keyrings.alt's file backends either store the token in plain text (jaraco/keyring#370: merely
# installing the package makes that the silent default) or, like keyrings.cryptfile's, ask for a
# password with getpass, which would fight Textual for the terminal. Neither is a keyring here.
_FILE_BACKEND_MODULES = ("keyrings.alt", "keyrings.cryptfile")
_TERMINAL_PROMPT_BACKENDS = {"EncryptedKeyring", "CryptFileKeyring"}

T = TypeVar("T")
Backend = keyring.backend.KeyringBackend


class CredentialsError(Exception):
    """Base class. `str()` is what the user reads."""


class NoTokenError(CredentialsError):
    """No token anywhere. The message says how to provide one, with commands to copy."""


class KeyringError(CredentialsError):
    """The keyring can't be used for this call."""


class KeyringUnavailableError(KeyringError):
    """There is no real keyring, or it is locked. `backend` names what keyring offered."""

    def __init__(self, message: str, *, backend: str = "unknown") -> None:
        super().__init__(message)
        self.backend = backend


class KeyringTimeoutError(KeyringError):
    """The keyring did not answer in time (typically: locked and waiting for a prompt)."""


@dataclass(frozen=True)
class ResolvedToken:
    """A token and where it came from: `env CANVAS_API_TOKEN` or `keyring (<backend>)`."""

    secret: Secret
    source: str


@dataclass(frozen=True)
class KeyringStatus:
    """Whether tokens can be stored: `backend` is keyring's display name of the backend."""

    available: bool
    backend: str
    reason: str | None = None


# ---------------------------------------------------------------------------------------------
# Public API


def resolve_token(
    url_or_host: str,
    *,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> ResolvedToken:
    """The token for this Canvas: from `CANVAS_API_TOKEN`, else the keyring, else NoTokenError.

    Keyring trouble (none, locked, timed out) is not an error of its own here: it is the reason
    given in the NoTokenError, since the way on is the same. A malformed URL is a ConfigError.
    """
    from_env = env_token(environ)
    if from_env is not None:
        return ResolvedToken(from_env, f"env {TOKEN_ENV}")
    host = _host(url_or_host)
    try:
        backend = _real_backend(timeout)
        stored = _with_timeout(
            lambda: backend.get_password(KEYRING_SERVICE, host), timeout, "reading the token"
        )
    except KeyringError as error:
        message = _no_token_message(url_or_host, host, str(error), keyring_usable=False)
        raise NoTokenError(message) from None
    if not stored or not stored.strip():
        reason = f"The keyring ({_backend_name(backend)}) holds no token for {host}."
        raise NoTokenError(_no_token_message(url_or_host, host, reason, keyring_usable=True))
    return ResolvedToken(Secret(stored.strip()), f"keyring ({_backend_name(backend)})")


def env_token(environ: Mapping[str, str] | None = None) -> Secret | None:
    """`CANVAS_API_TOKEN`, if set to something other than blanks (`export X=` means unset)."""
    env = os.environ if environ is None else environ
    value = env.get(TOKEN_ENV, "").strip()
    return Secret(value) if value else None


def store_token(url_or_host: str, token: Secret, *, timeout: float | None = None) -> str:
    """Put the token in the keyring under the Canvas host; returns the backend's name.

    Raises KeyringUnavailableError when there is no real keyring (it never falls back to a file).
    """
    host = _host(url_or_host)
    backend = _real_backend(timeout)
    _with_timeout(
        lambda: backend.set_password(KEYRING_SERVICE, host, token.reveal()),
        timeout,
        "storing the token",
    )
    return _backend_name(backend)


async def keep_token(url_or_host: str, token: Secret) -> str:
    """`store_token` for the TUI: off the event loop, since a keyring call may block up to its
    timeout. Returns the sentence to show."""
    backend = await asyncio.to_thread(store_token, url_or_host, token)
    return f"Token kept in the keyring ({backend})."


def delete_token(url_or_host: str, *, timeout: float | None = None) -> bool:
    """Remove the host's token from the keyring. False when there was none to remove."""
    host = _host(url_or_host)
    backend = _real_backend(timeout)

    def delete_if_present() -> bool:
        try:
            backend.delete_password(KEYRING_SERVICE, host)
        except keyring.errors.PasswordDeleteError:  # what every backend says for "no such item"
            return False
        return True

    return _with_timeout(delete_if_present, timeout, "removing the token")


def keyring_status(*, timeout: float | None = None) -> KeyringStatus:
    """Whether tokens can be stored and read here, and if not, why. Never raises."""
    try:
        backend = _real_backend(timeout)
    except KeyringUnavailableError as error:
        return KeyringStatus(False, error.backend, str(error))
    except KeyringError as error:
        return KeyringStatus(False, "unknown", str(error))
    return KeyringStatus(True, _backend_name(backend))


def keyring_session_command(command: str) -> str:
    """The shell command that runs `command` with a private, unlocked gnome-keyring.

    For SSH servers with no desktop: dbus-run-session gives the command its own D-Bus session;
    gnome-keyring-daemon --unlock reads the keyring password from stdin (printf, not echo: dash's
    echo would rewrite backslashes in the password) and serves the Secret Service on that bus.
    The keyring file it unlocks is encrypted with that password, so a token stored in one session
    is there in the next one unlocked with the same password.
    """
    inner = (
        'printf %s "$KEYRING_PASSWORD" '
        "| gnome-keyring-daemon --unlock --components=secrets >/dev/null; "
        f"{command}"
    )
    return f"dbus-run-session -- sh -c {shlex.quote(inner)}"


# ---------------------------------------------------------------------------------------------
# Which backend counts as a keyring


def _real_backend(timeout: float | None) -> Backend:
    """keyring's current backend if it is a real keyring; raises KeyringUnavailableError if not.

    Choosing the backend and asking for its priority both talk to D-Bus on Linux, so the whole
    choice runs under the timeout, like any other keyring call.
    """

    def choose() -> tuple[Backend, Backend | None, str]:
        offered = keyring.get_keyring()
        return (offered, *_usable_backend(offered))

    offered, chosen, reason = _with_timeout(choose, timeout, "opening the keyring")
    if chosen is None:
        raise KeyringUnavailableError(
            f"No usable keyring: {reason}.", backend=_backend_name(offered)
        )
    return chosen


def _usable_backend(
    backend: Backend,
) -> tuple[Backend | None, str]:
    """The backend to use (None if none) and, when none, why.

    A chainer is used through its best real member only: asking the whole chain would also ask
    the plain-text and prompting members.
    """
    members = getattr(backend, "backends", None)
    if members is None:
        reason = _why_not_real(backend)
        return (None, reason) if reason else (backend, "")
    real = [member for member in members if not _why_not_real(member)]
    if real:
        return max(real, key=_priority), ""
    if not members:
        return None, _PLACEHOLDER_BACKENDS["keyring.backends.fail.Keyring"]
    reasons = "; ".join(_why_not_real(member) for member in members)
    return None, f"none of the chained keyrings is usable ({reasons})"


def _why_not_real(backend: Backend) -> str:
    """Empty when `backend` is a real keyring; otherwise the reason, in a few words."""
    cls = type(backend)
    qualified = f"{cls.__module__}.{cls.__qualname__}"
    if qualified in _PLACEHOLDER_BACKENDS:
        return _PLACEHOLDER_BACKENDS[qualified]
    if cls.__name__ in _TERMINAL_PROMPT_BACKENDS:
        return f"{_backend_name(backend)} asks for its password on the terminal"
    if cls.__module__.startswith(_FILE_BACKEND_MODULES):
        return f"{_backend_name(backend)} keeps secrets in a plain file"
    priority = _priority(backend)
    if priority <= 0:
        return f"{_backend_name(backend)} is not a recommended keyring (priority {priority:g})"
    return ""


def _priority(backend: Backend) -> float:
    try:
        return float(backend.priority)
    except Exception:  # keyring's way of saying "not viable here" is any error from priority
        return 0.0


def _backend_name(backend: Backend) -> str:
    """keyring's own display name, e.g. `SecretService Keyring`, `macOS Keyring`."""
    try:
        return str(backend.name)
    except Exception:
        return type(backend).__name__


# ---------------------------------------------------------------------------------------------
# The timeout


def _with_timeout(action: Callable[[], T], timeout: float | None, doing: str) -> T:
    """Run one keyring call in a daemon thread and wait at most `timeout` seconds for it."""
    limit = KEYRING_TIMEOUT_SECONDS if timeout is None else timeout
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as error:  # carried to the caller's thread, which explains it
            outcome["error"] = error

    worker = threading.Thread(target=run, name=f"moderate-keyring ({doing})", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise KeyringTimeoutError(
            f"The keyring did not answer within {limit:g} s while {doing} "
            "(it may be locked and waiting for a password prompt)."
        )
    if "error" in outcome:
        # `from None` and a fresh exception: the original's traceback holds the frames of
        # set_password, whose locals include the revealed token.
        raise _explain(outcome.pop("error"), doing) from None  # type: ignore[arg-type]
    return outcome["value"]  # type: ignore[return-value]


def _explain(error: BaseException, doing: str) -> KeyringError:
    """One sentence for an error raised by a keyring backend."""
    if isinstance(error, keyring.errors.KeyringLocked):
        return KeyringUnavailableError(
            f"The keyring is locked (while {doing}): unlock it and try again "
            "(in a dbus-run-session: check KEYRING_PASSWORD)."
        )
    if isinstance(error, keyring.errors.NoKeyringError | keyring.errors.InitError):
        return KeyringUnavailableError(f"No usable keyring (while {doing}): {error}")
    detail = str(error) or type(error).__name__
    return KeyringError(f"The keyring failed while {doing}: {detail}")


# ---------------------------------------------------------------------------------------------
# Messages


def _host(url_or_host: str) -> str:
    return canvas_host(url_or_host)


def _no_token_message(url_or_host: str, host: str, reason: str, *, keyring_usable: bool) -> str:
    """What happened, then the ways out, each with a command that can be copied as it is."""
    url = url_or_host if "://" in url_or_host else f"https://{host}"
    login = f"moderate login --url {shlex.quote(url)}"
    lines = [
        f"No Canvas token for {host}: {TOKEN_ENV} is not set and the keyring has none.",
        reason,
        "Either put a token in the environment (best on servers and in CI):",
        f"    export {TOKEN_ENV}=...   # Canvas: Account > Settings > New Access Token",
        "or store one in the keyring once with:",
        f"    {login}",
    ]
    if not keyring_usable:
        lines += [
            "On a server with no desktop keyring, run each command inside a private one",
            "(sudo apt-get install gnome-keyring dbus; in bash, choose a keyring password first",
            "with `read -rs KEYRING_PASSWORD; export KEYRING_PASSWORD`):",
            f"    {keyring_session_command(login)}",
            "then start Moderate the same way, with `moderate --url ...` in place of the login.",
        ]
    return "\n".join(lines)
