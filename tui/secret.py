"""The `Secret` type that carries a Canvas token through the program.

A token is a password that can change grades. It is held in a `Secret` so that no repr, str,
f-string, log line, dataclass repr or Textual crash screen (which prints frame locals) can show
it. The only place that unwraps it is the httpx auth flow in `tui.canvas.client`.
"""

from __future__ import annotations

__all__ = ["Secret"]


class Secret:
    """A string that refuses to show itself. Call `reveal()` only where the value must leave."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        """`****` and the last four characters: enough to tell two tokens apart."""
        tail = self._value[-4:] if len(self._value) >= 12 else ""
        return f"****{tail}"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return f"Secret({self.masked!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self):  # pickling would write the token somewhere: refuse
        raise TypeError("Secret cannot be pickled")
