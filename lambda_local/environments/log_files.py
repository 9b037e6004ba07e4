"""The functions' log files (`.stack/logs/<function>.log`), written off the event loop.

A LogBuffer (runtimes.py) hands each line to its file's queue here and goes on: the event loop never
waits for the disk. One writer thread per file takes the queued lines in batches and appends them,
rotating the file by size as logging's RotatingFileHandler does (`<function>.log.1` ... `.3`, the
oldest dropped). Every buffer of one path (a function's environments) shares its file and writer.

- The disk slower than the function's output: the queue stops at PENDING_CHARS; the lines past it are
  dropped, and the file gets one line saying how many, where they were.
- A write that fails (a full disk, an I/O error) never reaches the loop: it is said once on stderr,
  the lines stay in the buffers' memory (`LogType: Tail`, the plane), and the next batch tries again;
  once one is written, a line in the file says how many were lost meanwhile.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import logging.handlers
import sys
import threading
import time
from pathlib import Path

from lambda_local.logs import LOG

MAX_BYTES = 10 * 1024 * 1024  # a log file's size before it is rotated
BACKUPS = 3  # rotated files kept: <function>.log.1 (the newest) to .3
PENDING_CHARS = 8 * 1024 * 1024  # queued and not yet written, per file: past it, lines are dropped
BATCH_CHARS = 256 * 1024  # written at once (a rotation comes between two batches)
FLUSH_S = 5.0


class _File(logging.handlers.RotatingFileHandler):
    """The rotating file; an error of a write is kept for the writer to report (logging's handler
    would print a traceback for every record), and the stream it broke is let go: the next write
    opens the file again."""

    error: BaseException | None = None

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        self.error = sys.exc_info()[1]
        stream, self.stream = self.stream, None
        if stream is not None:
            with contextlib.suppress(Exception):  # its buffer cannot be written either
                stream.close()


class LogFile:
    """One log file: its queue of lines (filled on the event loop) and the thread that writes them."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.path = path
        self._file = _File(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True, errors="replace"
        )
        self._cond = threading.Condition(threading.Lock())
        self._pending: list[str] = []
        self._chars = 0
        self._dropped = 0  # lines dropped since the writer last took the queue
        self._queued = 0  # lines ever put (dropped ones too)
        self._done = 0  # of those, the ones the writer is through with (written or not)
        self._wake = threading.Event()
        self.failing: str | None = None  # why the last write failed, until one succeeds
        self.unwritten = 0  # lines a failed write lost, since the last one that succeeded
        self.dropped = 0  # lines ever dropped (the queue full)
        self._thread = threading.Thread(target=self._run, name=f"log writer {path.name}", daemon=True)
        self._thread.start()

    def put(self, line: str) -> None:
        """Queue `line` for the file; past PENDING_CHARS queued, drop it (counted). Never blocks on
        the disk: the lock is only ever held to move lines in or out of the queue."""
        with self._cond:
            self._queued += 1
            if self._pending and self._chars + len(line) > PENDING_CHARS:
                self._dropped += 1
                self.dropped += 1
                return
            wake = not self._pending
            self._pending.append(line)
            self._chars += len(line) + 1
        if wake:
            self._wake.set()

    def flush(self, timeout: float = FLUSH_S) -> bool:
        """Wait until every line put so far is written (or given up on); false when `timeout` passed
        first (the disk stalled). Blocks: off the event loop only."""
        with self._cond:
            target = self._queued
            return self._cond.wait_for(lambda: self._done >= target, timeout)

    def _take(self) -> tuple[list[str], int, int]:
        with self._cond:
            lines, self._pending, self._chars = self._pending, [], 0
            dropped, self._dropped = self._dropped, 0
            return lines, dropped, self._queued

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            lines, dropped, upto = self._take()
            if dropped:
                lines.append(f"[lambda_local] {_lines(dropped)} dropped here: printed faster than the disk took them")
            self._write(lines)
            with self._cond:
                self._done = upto
                self._cond.notify_all()

    def _write(self, lines: list[str]) -> None:
        batch: list[str] = []
        size = 0
        for line in lines:
            batch.append(line)
            size += len(line) + 1
            if size >= BATCH_CHARS:
                self._emit(batch)
                batch, size = [], 0
        if batch:
            self._emit(batch)

    def _emit(self, lines: list[str]) -> None:
        note = []
        if self.failing is not None:
            with contextlib.suppress(OSError):  # the folder removed meanwhile
                self.path.parent.mkdir(parents=True, exist_ok=True)
            note = [f"[lambda_local] {_lines(self.unwritten)} not written here ({self.failing})"]
        self._file.error = None
        self._file.emit(_record("\n".join(note + lines)))
        error = self._file.error
        if error is None:
            if self.failing is not None:
                LOG.warning(f"{self.path}: writing the log again")
            self.failing, self.unwritten = None, 0
            return
        self.unwritten += len(lines)
        if self.failing is None:
            self.failing = f"{type(error).__name__}: {error}"
            LOG.warning(f"{self.path}: cannot write the log ({self.failing}); lines are kept in memory only")


def _lines(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("lambda_local.logs", logging.INFO, "", 0, message, None, None)


_files: dict[Path, LogFile] = {}
_opening = threading.Lock()


def open_log(path: Path) -> LogFile:
    """The writer of the log file at `path` (started on first use; one per file)."""
    key = path.absolute()
    with _opening:
        found = _files.get(key)
        if found is None:
            found = _files[key] = LogFile(key, MAX_BYTES, BACKUPS)
        return found


def flush(path: Path, timeout: float = FLUSH_S) -> bool:
    """Wait until what was put for `path` is written (true at once when nothing writes there)."""
    found = _files.get(path.absolute())
    return True if found is None else found.flush(timeout)


@atexit.register
def flush_all(timeout: float = FLUSH_S) -> None:
    """At exit: what the writers still hold, written (each file waits at most `timeout`)."""
    deadline = time.monotonic() + timeout
    for file in list(_files.values()):
        file.flush(max(0.0, deadline - time.monotonic()))
