"""Supervision of a function's runtime: one that keeps exiting is started again with back-off.

The RIE starts the function's runtime for an invocation and again after it exits (an import that
calls `sys.exit`, a crash in Init, an out-of-memory kill): every invocation of such a function would
start it again at once, a core busy for nothing. Here the n-th exit in a row holds the next start
back 2**(n-2) seconds (capped at CAP_S); after CRASH_LOOP exits in a row the function is marked
`crash-looping` with its last log lines (`make status` shows it and exits 1). An invocation that
would wait longer than its deadline is answered at once with `Runtime.ExitError`, never held; the
first invocation that does not end in an exit resets it all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

CAP_S = 30.0
CRASH_LOOP = 3  # exits in a row that make a function crash-looping
LAST_LINES = 10


@dataclass
class Supervision:
    exits_in_a_row: int = 0
    total_exits: int = 0
    not_before: float = 0.0  # time.monotonic() before which no runtime is started again
    last_lines: list[str] = field(default_factory=list)

    @property
    def crash_looping(self) -> bool:
        return self.exits_in_a_row >= CRASH_LOOP

    def backoff_s(self) -> float:
        """How long after the latest exit the next start waits."""
        if self.exits_in_a_row < 2:
            return 0.0
        return min(CAP_S, float(2 ** (self.exits_in_a_row - 2)))

    def exited(self, last_lines: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.exits_in_a_row += 1
        self.total_exits += 1
        self.last_lines = [line for line in last_lines if line.strip()][-LAST_LINES:]
        self.not_before = now + self.backoff_s()

    def healthy(self) -> None:
        self.exits_in_a_row = 0
        self.not_before = 0.0

    def wait_s(self, now: float | None = None) -> float:
        """How long an invocation must wait before a runtime may be started for it (0: now)."""
        now = time.monotonic() if now is None else now
        return max(0.0, self.not_before - now)

    def describe(self) -> str:
        tail = self.last_lines[-1] if self.last_lines else "no output"
        return f"crash-looping: its runtime exited {self.exits_in_a_row} times in a row (last: {tail})"

    def state(self) -> dict[str, object]:
        return {
            "crash_looping": self.crash_looping,
            "exits_in_a_row": self.exits_in_a_row,
            "exits": self.total_exits,
            "next_start_in_s": round(self.wait_s(), 1),
            "last_lines": self.last_lines if self.crash_looping else [],
        }
