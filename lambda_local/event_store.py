"""Accepted asynchronous events on disk until they are settled: an `Event` invoke is stored before its
202, a schedule's event before its invocation, and each is removed only once done (succeeded, or
handed to its on-failure destination). A plane that stops or is killed resumes them at its next start
with their attempt count and age, an invocation in flight at the kill counting as an attempt, as
Lambda counts an environment that died. (SNS and S3 deliveries need no copy here: their SQS message
stays on the queue until settled.)

SQLite from the standard library, in WAL mode: each accepted event is one small appended transaction
(tens of microseconds), and a killed process loses none that were committed (`synchronous=NORMAL`
trades only an operating-system crash's last transactions for that speed).
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoredEvent:
    request_id: str
    function: str
    source: str
    payload: bytes
    received: float  # epoch seconds
    attempts: int
    trace: str | None = None  # the invocation's trace header (its lineage: recursion.py)


class EventStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS events (request_id TEXT PRIMARY KEY, function TEXT NOT NULL, "
            "source TEXT NOT NULL, payload BLOB NOT NULL, received REAL NOT NULL, attempts INTEGER NOT NULL, "
            "trace TEXT)"
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
        if "trace" not in columns:  # a store an earlier plane wrote: its events keep running
            self._db.execute("ALTER TABLE events ADD COLUMN trace TEXT")

    def add(self, event: StoredEvent) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO events (request_id, function, source, payload, received, attempts, trace) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    event.request_id,
                    event.function,
                    event.source,
                    event.payload,
                    event.received,
                    event.attempts,
                    event.trace,
                ),
            )

    def attempted(self, request_id: str) -> None:
        """One more attempt begins: counted before the invocation, so a kill during it counts it."""
        with self._lock:
            self._db.execute("UPDATE events SET attempts = attempts + 1 WHERE request_id = ?", (request_id,))

    def remove(self, request_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM events WHERE request_id = ?", (request_id,))

    def pending(self) -> list[StoredEvent]:
        with self._lock:
            rows = self._db.execute(
                "SELECT request_id, function, source, payload, received, attempts, trace FROM events ORDER BY received"
            ).fetchall()
        return [StoredEvent(r[0], r[1], r[2], bytes(r[3]), float(r[4]), int(r[5]), r[6]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
