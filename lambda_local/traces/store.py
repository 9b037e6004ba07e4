"""The spans of recent traces, in `.stack/traces.sqlite`, bounded: the newest MAX_TRACES traces (by their
latest span) and MAX_SPANS spans in all are kept, at most MAX_SPANS_PER_TRACE of one trace; older
traces go as new ones come. Spans are written by a thread of the store's own in batches: `add` only
queues them (at most QUEUE_LIMIT waiting; past that they are dropped and counted), so neither the
event loop nor a function's export waits for the disk.

One span recorded twice (the trigger span of an SNS message two functions' pollers receive) is one
span, from the earliest start to the latest end. A span that names a request id (`faas.invocation_id`,
the plane's `lambda_local.request_id`) makes that id a name of its trace: `make trace ID=<request id>`.

A store that cannot be opened or written costs the traces only: its problem is said once, and the
plane runs on. A corrupt file is moved aside at the start.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_local.logs import LOG
from lambda_local.traces.model import Span, trace_id_of, valid_trace_id

MAX_TRACES = 1000
MAX_SPANS = 100_000
MAX_SPANS_PER_TRACE = 2000
QUEUE_LIMIT = 20_000  # spans waiting for the writer
BATCH = 2000  # spans written in one transaction
KEEP = 0.9  # pruning keeps this share of the bounds, so it does not run on every batch
ID_KEYS = ("faas.invocation_id", "lambda_local.request_id")
PLANE = "lambda-local"  # the plane's own spans' service: its request ids win over a function's

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spans (
    trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_id TEXT NOT NULL, name TEXT NOT NULL,
    service TEXT NOT NULL, kind TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
    status TEXT NOT NULL, status_message TEXT NOT NULL, attributes TEXT NOT NULL,
    PRIMARY KEY (trace_id, span_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS traces (
    trace_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, spans INTEGER NOT NULL, start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL, errors INTEGER NOT NULL, services TEXT NOT NULL, root_name TEXT NOT NULL,
    root_service TEXT NOT NULL, root_rank INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS traces_by_seq ON traces (seq);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (start_ns);
CREATE TABLE IF NOT EXISTS ids (id TEXT PRIMARY KEY, trace_id TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ids_by_trace ON ids (trace_id);
"""
_COLUMNS = "trace_id, span_id, parent_id, name, service, kind, start_ns, end_ns, status, status_message, attributes"
_INSERT_SPAN = f"INSERT OR IGNORE INTO spans ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
_MERGE_SPAN = (  # the same span again: its widest extent, an error if either says so
    "UPDATE spans SET start_ns = min(start_ns, ?), end_ns = max(end_ns, ?), "
    "status = CASE WHEN ? = 'error' THEN 'error' ELSE status END WHERE trace_id = ? AND span_id = ?"
)
# A trace's root: a span without a parent before one with, then the earliest. root_rank orders them.
_UPSERT_TRACE = """
INSERT INTO traces (trace_id, seq, spans, start_ns, end_ns, errors, services, root_name, root_service, root_rank)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ',' || ?7 || ',', ?8, ?7, ?9)
ON CONFLICT (trace_id) DO UPDATE SET
    seq = excluded.seq, spans = spans + excluded.spans,
    start_ns = min(start_ns, excluded.start_ns), end_ns = max(end_ns, excluded.end_ns),
    errors = errors + excluded.errors,
    services = CASE WHEN instr(services, ',' || ?7 || ',') THEN services ELSE services || ?7 || ',' END,
    root_name = CASE WHEN excluded.root_rank < root_rank THEN excluded.root_name ELSE root_name END,
    root_service = CASE WHEN excluded.root_rank < root_rank THEN excluded.root_service ELSE root_service END,
    root_rank = min(root_rank, excluded.root_rank)
"""


def _rank(span: Span) -> int:
    """Orders a trace's candidates for its root: parentless first, then the earliest."""
    return (1 << 62 if span.parent_id else 0) + min(span.start_ns, (1 << 62) - 1)


@dataclass(frozen=True)
class TraceSummary:
    trace_id: str
    spans: int
    start_ns: int
    end_ns: int
    errors: int
    services: tuple[str, ...]
    root_name: str
    root_service: str

    def as_json(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "spans": self.spans,
            "start_ns": self.start_ns,
            "duration_ms": round((self.end_ns - self.start_ns) / 1e6, 3),
            "errors": self.errors,
            "services": list(self.services),
            "root": {"name": self.root_name, "service": self.root_service},
        }


def _row_span(row: Sequence[Any]) -> Span:
    try:
        attributes = json.loads(row[10])
    except ValueError:
        attributes = {}
    return Span(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9], attributes)


class TraceStore:
    """Spans on disk, bounded; written by one thread (start, add, flush, close), read by any."""

    def __init__(
        self,
        path: Path,
        max_traces: int = MAX_TRACES,
        max_spans: int = MAX_SPANS,
        per_trace: int = MAX_SPANS_PER_TRACE,
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        self.path = path
        self.max_traces, self.max_spans, self.per_trace, self.queue_limit = (
            max_traces,
            max_spans,
            per_trace,
            queue_limit,
        )
        self.dropped = 0  # spans not kept: the writer's queue full, their trace full, the store failing
        self.problem = ""  # the store's first failure, said once
        self._pending: deque[Span] = deque()
        self._wake = threading.Condition()
        self._queued = self._done = 0
        self._closed = False
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._seq = 0

    # --- the writer -------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the store (a corrupt one moved aside) and start its writer; a store that cannot be opened
        is said once, and its spans are dropped."""
        try:
            self._writer = self._open()
        except (sqlite3.Error, OSError) as exc:
            self._failed(f"traces are not kept: {self.path} cannot be opened ({exc})")
            return
        self._seq = int(self._writer.execute("SELECT COALESCE(MAX(seq), 0) FROM traces").fetchone()[0])
        self._thread = threading.Thread(target=self._run, name="traces", daemon=True)
        self._thread.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=1.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = self._connect()
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check found damage")
            conn.executescript(_SCHEMA)
            return conn
        except sqlite3.OperationalError:
            raise
        except sqlite3.DatabaseError as exc:  # damaged or no database: aside, and a fresh one
            with contextlib.suppress(NameError, sqlite3.Error):
                conn.close()
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            self.path.replace(aside)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(OSError):
                    self.path.with_name(self.path.name + suffix).unlink()
            LOG.warning(f"traces: {self.path.name} was damaged ({exc}); moved aside to {aside.name}")
            conn = self._connect()
            conn.executescript(_SCHEMA)
            return conn

    def _failed(self, problem: str) -> None:
        if not self.problem:
            self.problem = problem
            LOG.warning(problem)

    def add(self, spans: Iterable[Span]) -> int:
        """Queue spans for the writer; how many were queued (the rest: the queue was full, or the store
        is not open). Never blocks."""
        queued = 0
        with self._wake:
            for span in spans:
                if self._closed or len(self._pending) >= self.queue_limit or (self._thread is None):
                    self.dropped += 1
                    continue
                self._pending.append(span)
                queued += 1
            if queued:
                self._queued += queued
                self._wake.notify()
        return queued

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every span queued so far is written (false: `timeout` passed first). Blocks."""
        deadline = time.monotonic() + timeout
        with self._wake:
            target = self._queued
            while self._done < target and self._thread is not None and self._thread.is_alive():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.wait(remaining)
            return self._done >= target

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(5)
        for conn in (self._writer, self._reader):
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
                if not self._pending and self._closed:
                    return
                batch = [self._pending.popleft() for _ in range(min(BATCH, len(self._pending)))]
            try:
                self.write(batch)
            except Exception as exc:  # noqa: BLE001 - a full disk, a locked file: these spans only
                self.dropped += len(batch)
                self._failed(f"traces: spans could not be written to {self.path.name} ({exc})")
            with self._wake:
                self._done += len(batch)
                self._wake.notify_all()

    def write(self, spans: Sequence[Span]) -> None:
        """Write `spans` in one transaction, then prune to the bounds (the writer's thread; tests)."""
        conn = self._writer
        if conn is None:
            raise RuntimeError("the trace store is not open")
        conn.execute("BEGIN")
        try:
            for span in spans:
                self._write_span(conn, span)
            self._prune(conn)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def _write_span(self, conn: sqlite3.Connection, span: Span) -> None:
        found = conn.execute("SELECT spans FROM traces WHERE trace_id = ?", (span.trace_id,)).fetchone()
        if found is not None and found[0] >= self.per_trace:
            self.dropped += 1
            return
        row = (
            span.trace_id,
            span.span_id,
            span.parent_id,
            span.name,
            span.service,
            span.kind,
            span.start_ns,
            span.end_ns,
            span.status,
            span.status_message,
            json.dumps(dict(span.attributes), ensure_ascii=False),
        )
        new = conn.execute(_INSERT_SPAN, row).rowcount == 1
        if not new:
            conn.execute(_MERGE_SPAN, (span.start_ns, span.end_ns, span.status, span.trace_id, span.span_id))
        self._seq += 1
        conn.execute(
            _UPSERT_TRACE,
            (
                span.trace_id,
                self._seq,
                1 if new else 0,
                span.start_ns,
                span.end_ns,
                1 if new and span.error else 0,
                span.service.replace(",", " "),
                span.name,
                _rank(span),
            ),
        )
        verb = "REPLACE" if span.service == PLANE else "IGNORE"
        for key in ID_KEYS:
            if isinstance(value := span.attributes.get(key), str) and value:
                conn.execute(f"INSERT OR {verb} INTO ids (id, trace_id) VALUES (?, ?)", (value, span.trace_id))  # noqa: S608

    def _prune(self, conn: sqlite3.Connection) -> None:
        traces, spans = conn.execute("SELECT COUNT(*), COALESCE(SUM(spans), 0) FROM traces").fetchone()
        if traces <= self.max_traces and spans <= self.max_spans:
            return
        keep_traces, keep_spans = int(self.max_traces * KEEP), int(self.max_spans * KEEP)
        kept_traces = kept_spans = 0
        cutoff = None
        for seq, count in conn.execute("SELECT seq, spans FROM traces ORDER BY seq DESC"):
            if kept_traces + 1 > keep_traces or kept_spans + count > keep_spans:
                cutoff = seq
                break
            kept_traces, kept_spans = kept_traces + 1, kept_spans + count
        if cutoff is None:
            return
        old = "SELECT trace_id FROM traces WHERE seq <= ?"
        conn.execute(f"DELETE FROM spans WHERE trace_id IN ({old})", (cutoff,))  # noqa: S608
        conn.execute(f"DELETE FROM ids WHERE trace_id IN ({old})", (cutoff,))  # noqa: S608
        conn.execute("DELETE FROM traces WHERE seq <= ?", (cutoff,))

    # --- readers (blocking: off the event loop) ---------------------------------------------------

    def _read(self, query: str, args: tuple[Any, ...]) -> list[Any]:
        with self._read_lock:
            if self._reader is None:
                if not self.path.exists():
                    return []
                self._reader = sqlite3.connect(self.path, timeout=1.0, check_same_thread=False)
            return self._reader.execute(query, args).fetchall()

    def recent(self, limit: int = 50) -> list[TraceSummary]:
        """The newest traces first (by their first span's start)."""
        rows = self._read(
            "SELECT trace_id, spans, start_ns, end_ns, errors, services, root_name, root_service FROM traces "
            "ORDER BY start_ns DESC LIMIT ?",
            (limit,),
        )
        return [
            TraceSummary(r[0], r[1], r[2], r[3], r[4], tuple(s for s in r[5].split(",") if s), r[6], r[7]) for r in rows
        ]

    def spans(self, trace_id: str) -> list[Span]:
        rows = self._read(f"SELECT {_COLUMNS} FROM spans WHERE trace_id = ? ORDER BY start_ns", (trace_id,))  # noqa: S608
        return [_row_span(row) for row in rows]

    def resolve(self, name: str) -> str | None:
        """The trace id `name` names: a trace id (32 hex digits, or as an X-Ray Root `1-...-...`), or a
        request id one of its spans carries; None when no kept trace has that name."""
        name = name.strip()
        candidate = trace_id_of(name) if name.startswith("1-") else name.lower()
        if valid_trace_id(candidate) and self._read("SELECT 1 FROM traces WHERE trace_id = ?", (candidate,)):
            return candidate
        found = self._read("SELECT trace_id FROM ids WHERE id = ?", (name,))
        return str(found[0][0]) if found else None

    def counts(self) -> dict[str, int]:
        rows = self._read("SELECT COUNT(*), COALESCE(SUM(spans), 0) FROM traces", ())
        traces, spans = rows[0] if rows else (0, 0)
        return {"traces": int(traces), "spans": int(spans), "dropped": self.dropped}
