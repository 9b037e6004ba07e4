"""The recent deliveries of every function, in memory, for the local console (console.py): the last
RECENT of each, newest first, from the one line the plane reports per delivery (plane.report)."""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

RECENT = 50


class Recent:
    def __init__(self, size: int = RECENT) -> None:
        self.size = size
        self.by_function: dict[str, deque[dict[str, Any]]] = {}
        self.count = 0  # every delivery ever recorded: the page knows when there is something new

    def record(self, line: dict[str, Any]) -> None:
        function = str(line.get("function", ""))
        self.by_function.setdefault(function, deque(maxlen=self.size)).appendleft(dict(line))
        self.count += 1

    def of(self, function: str) -> list[dict[str, Any]]:
        return list(self.by_function.get(function, ()))


DELIVERIES = Recent()


def report(
    source: str,
    function: str,
    request_id: str,
    attempt: int,
    duration_ms: float,
    outcome: str,
    queued_ms: float | None = None,
    **details: Any,
) -> None:
    """One line per delivery: what came from where, to which function, how it went (and, for an
    event's first attempt, how long it waited in the plane before its invocation began; for a stream
    batch, its shard and size)."""
    line: dict[str, Any] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source": source,
        "function": function,
        "request_id": request_id,
        "attempt": attempt,
        "duration_ms": round(duration_ms, 1),
        "outcome": outcome,
    }
    if queued_ms is not None:
        line["queued_ms"] = round(queued_ms, 2)
    line |= details
    DELIVERIES.record(line)  # the console's recent invocations
    print(json.dumps(line), flush=True)
