"""A function's log file (log_files.py): written by a thread of its own, so appending a line never waits
for the disk; bounded when the disk is slower than the output; rotated by size; and a disk that
refuses a write (full, failing) neither stops the drain of a runtime's output nor loses its lines in
memory."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_local.environments import log_files
from lambda_local.environments.log_buffer import LogBuffer, drain
from lambda_local.environments.log_format import formatter
from lambda_local.providers.functions import LoggingSpec


def append_all(log: LogBuffer, lines: list[str], timeout: float = 5.0) -> bool:
    """Append `lines` from another thread: whether that was over within `timeout` (a stalled disk
    would hold it forever if appending waited for it)."""
    done = threading.Event()

    def run() -> None:
        for line in lines:
            log.append(line)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(timeout)


@pytest.fixture
def stalled(tmp_path: Path) -> Iterator[tuple[Path, list[int]]]:
    """A log path that takes nothing (a FIFO no one reads: opening it to write blocks) until the test
    opens its reader; the reader is opened at the end in any case, so no thread stays blocked."""
    path = tmp_path / "fn.log"
    os.mkfifo(path)
    readers: list[int] = []
    yield path, readers
    if not readers:
        readers.append(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    log_files.flush(path, 5)
    os.close(readers[0])


def read_fifo(path: Path, readers: list[int]) -> list[str]:
    """Let the writer through (open the reader), wait for it, and what it wrote."""
    readers.append(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    assert log_files.flush(path, 5), "the writer never finished"
    chunks = []
    while True:
        try:
            chunk = os.read(readers[0], 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode().splitlines()


def test_appending_never_waits_for_the_disk(stalled: tuple[Path, list[int]]) -> None:
    path, readers = stalled
    log = LogBuffer(path)
    lines = [f"line {i}" for i in range(100)]
    assert append_all(log, lines), "append waited for the log file"
    assert list(log.lines) == lines  # the plane's lines, at once
    assert read_fifo(path, readers) == lines  # the file's, once the disk takes them


def test_output_faster_than_the_disk_is_dropped_past_the_bound_and_the_file_says_how_many(
    stalled: tuple[Path, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, readers = stalled
    monkeypatch.setattr(log_files, "PENDING_CHARS", 1000)
    log = LogBuffer(path)
    lines = [f"line {i:04}" for i in range(1000)]  # 10 characters each: about 90 wait at once
    assert append_all(log, lines)
    assert append_all(log, []) and len(log.lines) == 1000  # memory keeps every line
    written = read_fifo(path, readers)
    kept = [line for line in written if line.startswith("line ")]
    # A note where lines went missing (more than one when the writer took the queue while it filled).
    notes = [line for line in written if "lines dropped" in line]
    dropped = sum(int(note.split()[1]) for note in notes)
    assert kept == sorted(kept) and set(kept) <= set(lines)  # in order, none twice, none made up
    assert len(kept) + dropped == 1000 and dropped > 0 and notes  # the bound held, and the file says so
    log.append("after")
    assert log.flush(5)


def test_a_log_file_is_rotated_by_size_keeping_the_newest_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_files, "MAX_BYTES", 1000)
    monkeypatch.setattr(log_files, "BACKUPS", 2)
    monkeypatch.setattr(log_files, "BATCH_CHARS", 100)
    path = tmp_path / "fn.log"
    log = LogBuffer(path)
    lines = [f"{i:04} " + "x" * 44 for i in range(100)]  # 50 bytes a line: 5000 in all
    for line in lines:
        log.append(line)
    assert log.flush(5)
    files = [path.with_name("fn.log.2"), path.with_name("fn.log.1"), path]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fn.log", "fn.log.1", "fn.log.2"]
    assert all(p.stat().st_size <= 1000 for p in files)
    kept = [line for p in files for line in p.read_text().splitlines()]
    assert kept == lines[-len(kept) :] and len(kept) >= 40  # the newest lines, in order, none lost between files


def test_a_full_disk_is_said_once_and_never_stops_the_drain(capsys: pytest.CaptureFixture[str]) -> None:
    """/dev/full answers every write with ENOSPC: the drain reads everything, the lines stay in memory,
    and stderr says so once."""
    log = LogBuffer(Path("/dev/full"))

    async def scenario() -> None:
        for part in range(3):
            stream = asyncio.StreamReader()
            stream.feed_data(b"".join(b"part %d line %d\n" % (part, i) for i in range(50)))
            stream.feed_eof()
            await asyncio.wait_for(drain(stream, log), 5)
            assert await asyncio.to_thread(log.flush, 5)

    asyncio.run(scenario())
    assert len(log.since(0)) == 150 and log.since(0)[-1] == "part 2 line 49"
    said = [line for line in capsys.readouterr().err.splitlines() if "/dev/full" in line]
    assert said == [
        "lambda_local: /dev/full: cannot write the log (OSError: [Errno 28] No space left on device); "
        "lines are kept in memory only"
    ]


def test_writing_resumes_after_a_failed_write_and_the_file_says_what_was_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The log folder removed under a running plane: the write fails, is said once, and the next batch
    makes the folder again and goes on."""
    path = tmp_path / "logs" / "fn.log"
    log = LogBuffer(path)
    path.parent.rmdir()
    log.append("one")
    assert log.flush(5)
    log.append("two")
    assert log.flush(5)
    log.append("three")
    assert log.flush(5)
    why = f"FileNotFoundError: [Errno 2] No such file or directory: '{path}'"
    assert path.read_text().splitlines() == [f"[lambda_local] 1 line not written here ({why})", "two", "three"]
    assert capsys.readouterr().err.splitlines() == [
        f"lambda_local: {path}: cannot write the log ({why}); lines are kept in memory only",
        f"lambda_local: {path}: writing the log again",
    ]
    assert log.since(0) == ["one", "two", "three"]


def test_a_line_the_log_format_cannot_read_is_kept_as_printed() -> None:
    """A function that prints a REPORT lookalike in JSON format: a line, never an exception in the drain."""
    log = LogBuffer(Path("/dev/null"), formatter(LoggingSpec("JSON", "INFO", "INFO")))
    log.append("REPORT RequestId: mine\tDuration: fast ms\tMemory Size: lots MB")
    (shown,) = log.shown_since(0)
    assert json.loads(shown)["record"] == {"requestId": "mine", "metrics": {}, "status": "success"}

    def broken(line: str) -> str | None:
        raise ValueError("a format with a bug")

    log = LogBuffer(Path("/dev/null"), broken)
    log.append("plain")
    assert log.shown_since(0) == ["plain"]
