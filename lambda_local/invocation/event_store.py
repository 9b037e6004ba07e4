"""Accepted asynchronous events on disk until they are settled: an `Event` invoke is stored before its
202, a schedule's event before its invocation, and each is removed only once done (succeeded, or
handed to its on-failure destination). A plane that stops or is killed resumes them at its next start
with their attempt count and age, an invocation in flight at the kill counting as an attempt, as
Lambda counts an environment that died. (SNS and S3 deliveries need no copy here: their SQS message
stays on the queue until settled.)

SQLite from the standard library, in WAL mode: each accepted event is one small appended transaction
(tens of microseconds), and a killed process loses none that were committed (`synchronous=NORMAL`
trades only an operating-system crash's last transactions for that speed).

A failing store costs the operation at hand, never the plane: each operation is tried a few times
(a store locked by another process, a disk briefly full), then raises `StoreError` and is counted in
`problem()`, which `make status` shows. A corrupt file is moved aside at the start, so a plane starts.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from lambda_local.logs import LOG

T = TypeVar("T")

ATTEMPTS = 3  # of each operation; between them RETRY_DELAYS (they block the event loop: kept short)
RETRY_DELAYS = (0.05, 0.2)
BUSY_TIMEOUT_S = 0.5  # SQLite waits this long for another process's lock before "database is locked"
PAGE = 500  # stored events read at once by pending()
_INSERT = (
    "INSERT OR REPLACE INTO events (request_id, function, source, payload, received, attempts, trace, tenant) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_PAGE_AFTER = (  # keyset paging: each page starts after the last one read
    "SELECT request_id, function, source, payload, received, attempts, trace, tenant FROM events "
    "WHERE (received, request_id) > (?, ?) ORDER BY received, request_id LIMIT ?"
)


@dataclass(frozen=True)
class StoredEvent:
    request_id: str
    function: str
    source: str
    payload: bytes
    received: float  # epoch seconds
    attempts: int
    trace: str | None = None  # the invocation's trace header (its lineage: recursion.py)
    tenant: str | None = None  # the invoke's tenant id (a function in tenant isolation mode)


class StoreError(Exception):
    """A store operation failed on every attempt (the SQLite error is its cause)."""


@dataclass
class StoreProblems:
    """What went wrong with the store while this plane ran (operations that failed on every attempt)."""

    failures: int = 0
    last_error: str = ""
    last_at: float = 0.0  # epoch seconds
    moved_aside: Path | None = None  # a corrupt store found at the start


class _Corrupt(sqlite3.DatabaseError):
    """`PRAGMA quick_check` found damage the open did not."""


def corrupt(exc: sqlite3.Error) -> bool:
    """The file is damaged or no database (SQLITE_CORRUPT, SQLITE_NOTADB: DatabaseError itself); a store
    that is locked, unwritable or on a full disk (OperationalError) is not, and keeps its events."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def _page_after(db: sqlite3.Connection, after: tuple[float, str]) -> list[tuple[Any, ...]]:
    return db.execute(_PAGE_AFTER, (*after, PAGE)).fetchall()


class EventStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self.problems = StoreProblems()
        self.unremoved: set[str] = set()  # settled events whose removal failed: retried (async_invoke.py)
        self._db = self._connect()
        try:
            self._prepare(self._db)
        except sqlite3.DatabaseError as exc:
            if not corrupt(exc):
                self._db.close()
                raise
            # Moved while still open: closing a store it cannot read, SQLite deletes its -wal.
            self.problems.moved_aside = self._move_aside(exc)
            self._db.close()
            self._db = self._connect()
            self._prepare(self._db)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S)

    @staticmethod
    def _prepare(db: sqlite3.Connection) -> None:
        """WAL mode, the store checked, its table made or brought up to date."""
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        check = [row[0] for row in db.execute("PRAGMA quick_check")]
        if check != ["ok"]:
            raise _Corrupt("; ".join(str(line) for line in check[:3]))
        db.execute(
            "CREATE TABLE IF NOT EXISTS events (request_id TEXT PRIMARY KEY, function TEXT NOT NULL, "
            "source TEXT NOT NULL, payload BLOB NOT NULL, received REAL NOT NULL, attempts INTEGER NOT NULL, "
            "trace TEXT, tenant TEXT)"
        )
        columns = {row[1] for row in db.execute("PRAGMA table_info(events)")}
        for column in ("trace", "tenant"):  # a store an earlier plane wrote: its events keep running
            if column not in columns:
                db.execute(f"ALTER TABLE events ADD COLUMN {column} TEXT")
        # pending() reads in this order, a page at a time
        db.execute("CREATE INDEX IF NOT EXISTS events_by_received ON events (received, request_id)")

    def _move_aside(self, exc: sqlite3.Error) -> Path:
        """Rename the corrupt store (and its -wal, -shm) out of the way, keeping it for a look."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():  # two in one second
            aside, n = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}"), n + 1
        for suffix in ("", "-wal", "-shm"):  # named as SQLite pairs them: opening the copy reads its -wal
            part = Path(f"{self.path}{suffix}")
            if part.exists():
                part.rename(f"{aside}{suffix}")
        LOG.warning(
            f"{self.path.name} is corrupt ({exc}): moved aside to {aside.name} "
            "(its events are not run); a new store begins"
        )
        return aside

    def _retried(self, what: str, operation: Callable[[sqlite3.Connection], T]) -> T:
        """`operation` on the store, tried ATTEMPTS times; StoreError (counted) when every one failed."""
        for attempt in range(ATTEMPTS):
            try:
                with self._lock:
                    return operation(self._db)
            except sqlite3.Error as exc:
                error = exc
            if attempt < ATTEMPTS - 1:
                time.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
        self.problems.failures += 1
        self.problems.last_error = f"{what}: {error}"
        self.problems.last_at = time.time()
        raise StoreError(f"event store {what} failed {ATTEMPTS} times: {error}") from error

    def add(self, event: StoredEvent) -> None:
        """Store an accepted event; StoreError when it could not be (the event is not accepted)."""
        row = (
            event.request_id,
            event.function,
            event.source,
            event.payload,
            event.received,
            event.attempts,
            event.trace,
            event.tenant,
        )
        self._retried("add", lambda db: db.execute(_INSERT, row))

    def attempted(self, request_id: str) -> None:
        """One more attempt begins: counted before the invocation, so a kill during it counts it."""
        self._retried(
            "attempt count",
            lambda db: db.execute("UPDATE events SET attempts = attempts + 1 WHERE request_id = ?", (request_id,)),
        )

    def remove(self, request_id: str) -> None:
        """A settled event; one whose removal fails is kept in `unremoved` until a later removal works."""
        try:
            self._retried("remove", lambda db: db.execute("DELETE FROM events WHERE request_id = ?", (request_id,)))
        except StoreError:
            self.unremoved.add(request_id)
            raise
        self.unremoved.discard(request_id)

    def pending(self) -> Iterator[StoredEvent]:
        """The stored events, oldest first, read PAGE at a time (a large store is never loaded at once;
        events removed meanwhile are not missed, as each page starts after the last one read)."""
        after: tuple[float, str] = (float("-inf"), "")
        while True:
            rows = self._retried("read", partial(_page_after, after=after))
            for r in rows:
                yield StoredEvent(r[0], r[1], r[2], bytes(r[3]), float(r[4]), int(r[5]), r[6], r[7])
            if len(rows) < PAGE:
                return
            after = (float(rows[-1][4]), str(rows[-1][0]))
            del rows  # this page freed before the next is read

    def problem(self) -> str | None:
        """What `make status` should say about the store, or None while it has worked."""
        said = []
        if self.problems.moved_aside is not None:
            said.append(f"a corrupt store was moved aside to {self.problems.moved_aside.name} (its events not run)")
        if self.problems.failures:
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.problems.last_at))
            said.append(f"{self.problems.failures} operations failed, the last at {at} ({self.problems.last_error})")
        if self.unremoved:
            said.append(f"{len(self.unremoved)} settled events not yet removed (retried)")
        return f"event store {self.path.name}: " + "; ".join(said) if said else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
