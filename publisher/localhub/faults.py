"""Programmable faults and the request log of the local Hub, for tests and benchmarks.

A fault matches requests by method and a regular expression searched in the raw URL path
(without the query string), and fires a bounded number of times:

- ``action="status"``: answer ``status`` (default 500) with a JSON error, after reading the
  request body; ``retry_after`` adds a ``Retry-After`` header (seconds).
- ``action="drop"``: read ``after_bytes`` bytes of the request body, then reset the connection
  without answering (a connection lost in the middle of an upload).
- ``action="truncate"``: answer normally but close the connection after ``after_bytes`` bytes
  of the response body (a download cut short; the client resumes with a Range request).

The client retries 408/429/5xx and network errors five times with waits of 1, 2, 4, 8, 8 s
(a ``Retry-After: N`` wait is N + 1 s): keep ``times`` small so tests stay fast.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

FaultAction = Literal["status", "drop", "truncate"]


class LoggedRequest(NamedTuple):
    """One request as the server saw it: method, raw path (no query) and Range header."""

    method: str
    path: str
    range: str | None


@dataclass
class Fault:
    """One programmed fault; `fired` counts how often it has fired so far."""

    path_regex: str
    action: FaultAction = "status"
    method: str | None = None
    status: int = 500
    times: int | None = 1  # None: every matching request
    retry_after: float | None = None
    after_bytes: int = 0
    fired: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.action not in ("status", "drop", "truncate"):
            raise ValueError(f"unknown fault action {self.action!r}")
        self._pattern = re.compile(self.path_regex)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self._pattern.search(path) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times


class FaultSet:
    """The faults programmed on a server. Thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        *,
        path_regex: str,
        action: FaultAction = "status",
        method: str | None = None,
        status: int = 500,
        times: int | None = 1,
        retry_after: float | None = None,
        after_bytes: int = 0,
    ) -> Fault:
        """Program a fault; return it so a test can read `fault.fired` afterwards."""
        fault = Fault(path_regex, action, method, status, times, retry_after, after_bytes)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first live fault matching this request, counted as fired; None if none."""
        with self._lock:
            for fault in self._faults:
                if not fault.exhausted and fault.matches(method, path):
                    fault.fired += 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __iter__(self) -> Iterator[Fault]:
        with self._lock:
            return iter(list(self._faults))

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)
