"""Fault knobs: how the sandbox misbehaves, on purpose, the ways a real Canvas does.

A `Faults` object is shared by the running app: mutate it in-process (`faults.latency = 0.2`)
or over HTTP (`PUT /__sandbox__/faults`), and the next request feels the change. Rates are
drawn from a `random.Random(seed)`, so a sequence of requests meets the same faults every run.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["Faults", "Injection"]

THROTTLE_STATUSES = (403, 429)  # Canvas's classic throttle answer, and its 2025 variant (§2.5)
PERMISSION_STATUSES = (401, 403)  # the `api_auth_error_updates` flag off / on (§2.3)
INJECTION_KINDS = ("status", "drop", "drop_after_commit")


@dataclass(slots=True)
class Injection:
    """A one-shot fault for the next requests whose path contains `path_substring`."""

    kind: str  # "status": answer `status`; "drop": hang up; "drop_after_commit": do it, hang up
    path_substring: str
    times: int
    status: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path_substring,
            "status": self.status,
            "times": self.times,
        }


def _rate(name: str, value: Any) -> float:
    number = _number(name, value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1")
    return number


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    return float(value)


def _one_of(choices: tuple[int, ...]) -> Callable[[str, Any], int]:
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}")
        return int(value)

    return check


def _latency(name: str, value: Any) -> float:
    number = _number(name, value)
    if number < 0:
        raise ValueError(f"{name} must not be negative")
    return number


def _seed(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer")
    return value


_VALIDATORS = {
    "latency": _latency,
    "throttle_rate": _rate,
    "throttle_status": _one_of(THROTTLE_STATUSES),
    "error_rate": _rate,
    "drop_rate": _rate,
    "permission_status": _one_of(PERMISSION_STATUSES),
    "seed": _seed,
}


@dataclass
class Faults:
    latency: float = 0.0  # seconds added before every API request is answered
    throttle_rate: float = 0.0  # share of API requests refused as rate-limited
    throttle_status: int = 403  # 403 text body, or 429
    error_rate: float = 0.0  # share answered 500 with Canvas's error body
    drop_rate: float = 0.0  # share whose connection is closed without any answer
    permission_status: int = 401  # what "user not authorized" is answered with
    seed: int = 0
    _injections: list[Injection] = field(
        default_factory=list, init=False, repr=False, compare=False
    )
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )
    _random: random.Random = field(
        default_factory=random.Random, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    def __setattr__(self, name: str, value: Any) -> None:
        # Validate every knob on every write, so a typo in a test or in a PUT fails loudly
        # instead of turning into a sandbox that silently never throttles.
        validator = _VALIDATORS.get(name)
        if validator is not None:
            value = validator(name, value)
        object.__setattr__(self, name, value)
        if name == "seed" and "_random" in self.__dict__:
            self._random.seed(value)

    # -- knobs as JSON (the admin route) --------------------------------------------------

    @classmethod
    def knob_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if not f.name.startswith("_"))

    def update(self, changes: dict[str, Any]) -> None:
        """Apply several knobs at once: all of them, or none if any is invalid."""
        unknown = set(changes) - set(self.knob_names())
        if unknown:
            raise ValueError(f"unknown fault knob(s): {', '.join(sorted(unknown))}")
        checked = {name: _VALIDATORS[name](name, value) for name, value in changes.items()}
        for name, value in checked.items():
            setattr(self, name, value)

    def reset(self) -> None:
        """Back to a well-behaved Canvas: default knobs, no pending injections."""
        defaults = Faults()
        for name in self.knob_names():
            setattr(self, name, getattr(defaults, name))
        with self._lock:
            self._injections.clear()

    def to_json(self) -> dict[str, Any]:
        knobs: dict[str, Any] = {name: getattr(self, name) for name in self.knob_names()}
        with self._lock:
            knobs["injections"] = [injection.to_json() for injection in self._injections]
        return knobs

    # -- one-shot injections --------------------------------------------------------------

    def fail_next(self, path_substring: str, status: int, times: int = 1) -> None:
        """Answer the next `times` requests whose path contains `path_substring` with
        `status` (and the body Canvas sends with it) instead of handling them."""
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        self._inject(Injection("status", path_substring, times, status))

    def drop_next(self, path_substring: str, times: int = 1) -> None:
        """Close the connection of the next matching requests before handling them."""
        self._inject(Injection("drop", path_substring, times))

    def drop_after_commit(self, path_substring: str, times: int = 1) -> None:
        """Handle the next matching requests, then close the connection instead of
        answering: "the publish reached Canvas but the answer was lost"."""
        self._inject(Injection("drop_after_commit", path_substring, times))

    def _inject(self, injection: Injection) -> None:
        if injection.times < 1:
            raise ValueError("times must be at least 1")
        if not injection.path_substring:
            raise ValueError("path_substring must not be empty")
        with self._lock:
            self._injections.append(injection)

    def take_injection(self, path: str) -> Injection | None:
        """The oldest injection matching `path`, used up once."""
        with self._lock:
            for injection in self._injections:
                if injection.path_substring in path:
                    injection.times -= 1
                    if injection.times == 0:
                        self._injections.remove(injection)
                    return injection
        return None

    # -- chance --------------------------------------------------------------------------

    def roll(self, rate: float) -> bool:
        """True with probability `rate`. Rates of 0 and 1 draw nothing, so turning one knob
        on does not shift the random sequence another knob sees."""
        if rate <= 0.0:
            return False
        if rate >= 1.0:
            return True
        with self._lock:
            return self._random.random() < rate
