"""The recent deliveries of every function, in memory, for the local console (console.py): the last
RECENT of each, newest first, from the one line the plane reports per delivery (plane.report)."""

from __future__ import annotations

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
