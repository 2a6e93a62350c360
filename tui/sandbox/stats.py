"""What the sandbox has served: request counts for benchmarks and tests that count round trips."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SandboxStats"]

FIRST_ERROR_REPORT_ID = 1001


@dataclass
class SandboxStats:
    requests: int = 0  # API requests received, whatever became of them
    # "GET /api/v1/courses/{course_id}/assignments" -> count; "unrouted" for unknown paths
    by_route: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    injected_errors: int = 0  # 500s from error_rate and fail_next
    dropped: int = 0
    _next_error_report_id: int = field(default=FIRST_ERROR_REPORT_ID, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_request(self, route: str) -> None:
        with self._lock:
            self.requests += 1
            self.by_route[route] += 1

    def count(self, outcome: str) -> None:
        """One more request that was "throttled", "dropped" or met "injected_errors"."""
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)

    def next_error_report_id(self) -> int:
        """Canvas gives every 500 an error report id; the sandbox's count up from 1001."""
        with self._lock:
            report_id = self._next_error_report_id
            self._next_error_report_id += 1
            return report_id

    def reset(self) -> None:
        with self._lock:
            self.requests = self.throttled = self.injected_errors = self.dropped = 0
            self.by_route.clear()

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "by_route": dict(sorted(self.by_route.items())),
                "throttled": self.throttled,
                "injected_errors": self.injected_errors,
                "dropped": self.dropped,
            }
