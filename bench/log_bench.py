"""`python -m bench.log_bench`: how long the plane's event loop stalls while a function prints 100 MB.

A child process prints 100 MB of 1 KB lines into a pipe; the plane's `drain` reads it into a LogBuffer
while a ticker on the same loop sleeps 10 ms at a time and records how late each tick wakes (the loop
blocked meanwhile). Twice: with the file appended on the loop, line by line, as LogBuffer did before
log_files.py (kept here as `OnTheLoop`), and with today's LogBuffer (a writer thread per file). Also:
how long the drain took, how long until the file held everything (flush), and the lines the writer
dropped (its queue full: the disk slower than the output). Then the same for 10 MB on a slow disk, as
a bind mount of Docker Desktop can be (SLOW_WRITE_S a write, simulated: a sleep per file write, on the
loop before, in the writer thread now). No stack needed.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lambda_local.environments import log_files
from lambda_local.environments.log_buffer import LogBuffer, drain
from stack import ROOT

MB = 100
LINE = 1024
SLOW_MB = 10
SLOW_WRITE_S = 0.00075
TICK_S = 0.010


def printer(mb: int) -> str:
    """A child printing `mb` MB of LINE-byte lines."""
    return (
        "import sys\n"
        f"line = 'x' * {LINE - 1} + '\\n'\n"
        "out = sys.stdout\n"
        f"for _ in range({mb * 1024 * 1024 // LINE}):\n"
        "    out.write(line)\n"
        "out.flush()\n"
    )


class OnTheLoop(LogBuffer):
    """The file appended on the event loop, opened for every line: LogBuffer.append before log_files.py."""

    slow = 0.0

    def append(self, line: str) -> None:
        line = self._renamed(line)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        time.sleep(self.slow)
        self.lines.append(line[:16384])
        self.shown.append(line[:16384])
        self.count += 1


class SlowFile(log_files._File):
    """The writer thread's file on a slow disk: every write waits SLOW_WRITE_S."""

    def emit(self, record: logging.LogRecord) -> None:
        time.sleep(SLOW_WRITE_S)
        super().emit(record)


async def run(log: LogBuffer, mb: int) -> dict[str, float]:
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(TICK_S)
            gaps.append((time.perf_counter() - before - TICK_S) * 1000)

    ticking = asyncio.create_task(ticker())
    started = time.perf_counter()
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", printer(mb), stdout=asyncio.subprocess.PIPE)
    assert child.stdout is not None
    await drain(child.stdout, log)
    await child.wait()
    drained = time.perf_counter() - started
    stop.set()
    await ticking
    await asyncio.to_thread(log.flush, 300)
    written = time.perf_counter() - started
    return {
        "drained_s": drained,
        "written_s": written,
        "max_ms": max(gaps),
        "p99_ms": statistics.quantiles(gaps, n=100)[98],
        "lines": log.count,
    }


def main() -> None:
    rows = []
    cases = [
        (f"{MB} MB, on the loop (before)", MB, False, False),
        (f"{MB} MB, writer thread (now)", MB, True, False),
        (f"{SLOW_MB} MB slow disk, on the loop", SLOW_MB, False, True),
        (f"{SLOW_MB} MB slow disk, writer thread", SLOW_MB, True, True),
    ]
    with tempfile.TemporaryDirectory(prefix="log-bench-", dir=ROOT / ".stack") as tmp:
        for i, (label, mb, threaded, slow) in enumerate(cases):
            path = Path(tmp) / f"{i}.log"
            if threaded:
                file = log_files.open_log(path)
                if slow:
                    file._file.__class__ = SlowFile
                log: LogBuffer = LogBuffer(path)
            else:
                log = OnTheLoop(path)
                log.slow = SLOW_WRITE_S if slow else 0.0
            result = asyncio.run(run(log, mb))
            dropped = log_files.open_log(path).dropped if threaded else 0
            size = sum(p.stat().st_size for p in Path(tmp).glob(f"{path.name}*")) / 1024 / 1024
            rows.append((label, result, dropped, size))
    print()
    print(f"{LINE}-byte lines through drain; a {TICK_S * 1000:.0f} ms ticker on the same loop")
    print(f"{'':<34} {'drained':>9} {'in file':>9} {'loop stall max':>15} {'p99':>8} {'dropped':>8} {'on disk':>8}")
    for label, r, dropped, size in rows:
        print(
            f"{label:<34} {r['drained_s']:>8.1f}s {r['written_s']:>8.1f}s {r['max_ms']:>13.1f}ms"
            f" {r['p99_ms']:>6.1f}ms {dropped:>8} {size:>6.0f}MB"
        )


if __name__ == "__main__":
    main()
