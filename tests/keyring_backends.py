"""Small keyring backends for tests: each one behaves like a situation users meet.

Every class sets `viable = False`: keyring registers each subclass it sees, and these must never
be picked by keyring's own auto-detection, only installed on purpose by a test, e.g.
`monkeypatch.setattr(keyring.core, "_keyring_backend", MemoryKeyring())`. keyring's own
`fail` and `null` backends need no stand-in: tests install them as they are.
"""

from __future__ import annotations

import threading

import keyring.backends.chainer
import keyring.errors
from keyring.backend import KeyringBackend

__all__ = [
    "HangingKeyring",
    "LockedKeyring",
    "MemoryKeyring",
    "PlaintextKeyring",
    "StubChainer",
]


class MemoryKeyring(KeyringBackend):
    """A real-looking keyring (recommended priority) that keeps passwords in a dict."""

    priority = 5
    viable = False

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.passwords[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("No such password!") from None


class LockedKeyring(MemoryKeyring):
    """A Secret Service whose collection stays locked: the user dismissed the unlock prompt."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class HangingKeyring(MemoryKeyring):
    """A keyring that waits for a prompt nobody answers, until the test calls `release()`.

    With `while_opening=True` it already hangs when asked for its priority, as a Secret Service
    probe over a stuck D-Bus does while keyring chooses a backend. `entered` is set as soon as a
    call is waiting, so a test can tell that the call really reached the backend.
    """

    def __init__(self, *, while_opening: bool = False) -> None:
        super().__init__()
        self.while_opening = while_opening
        self.entered = threading.Event()
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def _wait(self) -> None:
        self.entered.set()
        self._released.wait()

    @property
    def priority(self) -> float:  # type: ignore[override]
        if self.while_opening:
            self._wait()
        return MemoryKeyring.priority

    def get_password(self, service: str, username: str) -> str | None:
        self._wait()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._wait()
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._wait()
        super().delete_password(service, username)


class PlaintextKeyring(MemoryKeyring):
    """Stands for keyrings.alt's PlaintextKeyring: a file anyone with the disk can read."""

    priority = 0.5  # keyrings.alt's own value: "not recommended", yet chosen when alone
    viable = False


# keyring (and Moderate) recognise a backend by its module and class name.
PlaintextKeyring.__module__ = "keyrings.alt.file"


class StubChainer(keyring.backends.chainer.ChainerBackend):
    """keyring's ChainerBackend over the given members instead of every installed backend."""

    priority = 10
    viable = False

    def __init__(self, *members: KeyringBackend) -> None:
        super().__init__()
        self._members = list(members)

    @property
    def backends(self) -> list[KeyringBackend]:  # type: ignore[override]
        return self._members
