"""What a runtime prints: its lines, kept for `LogType: Tail` and the plane, and handed to its log file."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from lambda_local.environments import log_files

_START = re.compile(r"START RequestId: (\S+)")
_DURATION = re.compile(r"\tDuration: ([0-9.]+) ms")
_INIT_DURATION = re.compile(r"Init Duration: [0-9.]+ ms\t")


class LogBuffer:
    """Lines an instance printed: appended to its log file, the recent ones kept for `LogType: Tail`.
    A `formatter` (the function's LoggingConfig, log_format.py) decides what the file and the tail
    show of each line; the plane itself reads the lines as the runtime printed them (START, END).
    The file is written by a thread of its own (log_files.py): appending never waits for the disk,
    and no error of the disk's comes back here."""

    def __init__(self, path: Path, formatter: Callable[[str], str | None] | None = None) -> None:
        self.path = path
        self.formatter = formatter
        self.lines: deque[str] = deque(maxlen=2000)
        self.shown: deque[str | None] = deque(maxlen=2000)
        self.count = 0
        self._grew = asyncio.Event()
        # The id the plane gave the next invocation (runtime_shim.py): the RIE's START line names one of
        # its own, which is rewritten, with the END and REPORT lines after it, to the plane's.
        self.expected: str | None = None
        self.renamed: tuple[str, str] | None = None  # (the RIE's id, the plane's) of the invocation in flight
        # The plane's init invocation (pool.py, runtime_shim.py): its START, END and REPORT lines are not the
        # function's; its duration is the init's, shown as Lambda shows it, in the next REPORT line.
        self.init_pending = False
        self.init_id: str | None = None
        self.init_ms: str | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = log_files.open_log(path)

    def expect(self, request_id: str) -> None:
        self.expected = request_id

    def expect_init(self) -> None:
        self.init_pending = True

    @property
    def initializing(self) -> bool:
        """Whether the init invocation's lines are still to come."""
        return self.init_pending or self.init_id is not None

    def _init_line(self, line: str) -> str | None:
        """`line` as the function's log shows it, given the init invocation: None for one of its own lines."""
        if self.init_pending and (start := _START.match(line)):
            self.init_pending, self.init_id = False, start.group(1)
            return None
        if self.init_id is not None and self.init_id in line:
            if line.startswith("REPORT RequestId"):
                found = _DURATION.search(line)
                self.init_ms, self.init_id = (found.group(1) if found else None), None
            return None
        if self.init_ms is not None and line.startswith("REPORT RequestId"):
            head, _, rest = line.partition("\t")
            line, self.init_ms = f"{head}\tInit Duration: {self.init_ms} ms\t{_INIT_DURATION.sub('', rest)}", None
        return line

    def _renamed(self, line: str) -> str:
        if self.expected is not None and (start := _START.match(line)):
            self.renamed, self.expected = (start.group(1), self.expected), None
        if self.renamed is not None and self.renamed[0] in line:
            line = line.replace(*self.renamed)
        return line

    def append(self, line: str) -> None:
        kept = self._init_line(line) if self.init_pending or self.init_id or self.init_ms else line
        if kept is None:
            self._grew.set()  # the init's lines count as progress for wait_init
            self._grew = asyncio.Event()
            return
        line = self._renamed(kept)
        shown = line if self.formatter is None else self._format(line)
        if shown is not None:
            self._file.put(shown)
        self.lines.append(line[:16384])
        self.shown.append(None if shown is None else shown[:16384])
        self.count += 1
        self._grew.set()
        self._grew = asyncio.Event()

    def _format(self, line: str) -> str | None:
        assert self.formatter is not None
        try:
            return self.formatter(line)
        except Exception:  # noqa: BLE001 - a line the format cannot read is kept as printed, never a dead drain
            return line

    def flush(self, timeout: float = log_files.FLUSH_S) -> bool:
        """Wait until the lines appended so far are in the file (false: `timeout` passed first). Blocks:
        off the event loop only."""
        return self._file.flush(timeout)

    def since(self, mark: int) -> list[str]:
        new = min(self.count - mark, len(self.lines))
        return list(self.lines)[-new:] if new > 0 else []

    def shown_since(self, mark: int) -> list[str]:
        """The lines after `mark` as the function's log format shows them."""
        new = min(self.count - mark, len(self.shown))
        return [line for line in list(self.shown)[-new:] if line is not None] if new > 0 else []

    def request_ids(self, mark: int) -> list[str]:
        """The request ids of the RIE's START lines appended after `mark`."""
        return [m.group(1) for line in self.since(mark) if (m := _START.match(line))]

    async def wait_init(self, timeout: float) -> None:
        """Wait until the init invocation's lines are in (or `timeout` passed; Docker mode: by syslog)."""
        deadline = time.monotonic() + timeout
        while self.initializing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.init_pending, self.init_id = False, None  # lines that never came: none to hold back
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._grew.wait(), remaining)

    async def wait_for(self, mark: int, prefix: str, timeout: float) -> None:
        """Wait until a line starting with `prefix` was appended after `mark` (or `timeout` passed)."""
        deadline = time.monotonic() + timeout
        while not any(line.startswith(prefix) for line in self.since(mark)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._grew.wait(), remaining)


LINE_LIMIT = 256 * 1024  # characters of one output line kept; the rest is cut, never a dead reader


async def drain(stream: asyncio.StreamReader, log: LogBuffer) -> None:
    """Every line a runtime prints into `log`, whatever its length: an undrained pipe would block the
    runtime on its next print. A line over LINE_LIMIT is cut, and says so."""
    pending = b""
    cutting = False
    while chunk := await stream.read(65536):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if cutting:
                cutting = False  # the end of a line already cut
                continue
            log.append(line.decode("utf-8", errors="replace"))
        if len(pending) > LINE_LIMIT and not cutting:
            head = pending[:LINE_LIMIT].decode("utf-8", errors="replace")
            log.append(f"{head} [line cut at {LINE_LIMIT} characters]")
            cutting = True
        if cutting:
            pending = b""
    if pending and not cutting:
        log.append(pending.decode("utf-8", errors="replace"))
