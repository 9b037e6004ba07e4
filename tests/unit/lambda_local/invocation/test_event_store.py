"""The event store keeps accepted events across processes until they are removed, with their attempts;
a failing store costs the operation at hand (tried again, then counted where `make status` shows it),
a corrupt one is moved aside so a plane starts, and a large one is read a page at a time."""

import sqlite3
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from lambda_local.invocation import event_store
from lambda_local.invocation.event_store import EventStore, StoredEvent, StoreError


def test_events_survive_a_killed_process_with_their_attempts(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "events.sqlite"
    writer = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from lambda_local.invocation.event_store import EventStore, StoredEvent\n"
        "store = EventStore(Path(sys.argv[1]))\n"
        "for i in range(3):\n"
        "    store.add(StoredEvent(f'r{i}', 'fn', 'invoke', b'{}', 1.0 + i, 0))\n"
        "store.attempted('r1')\n"
        "store.remove('r2')\n"
        "os.kill(os.getpid(), 9)\n"  # no close, no clean exit
    )
    result = subprocess.run([sys.executable, "-c", writer, str(path)], cwd=".")
    assert result.returncode == -9
    pending = list(EventStore(path).pending())
    assert [(e.request_id, e.attempts, e.received) for e in pending] == [("r0", 0, 1.0), ("r1", 1, 2.0)]
    assert pending[0] == StoredEvent("r0", "fn", "invoke", b"{}", 1.0, 0)


def test_a_store_an_earlier_plane_wrote_keeps_its_events_and_gains_their_trace(tmp_path):  # type: ignore[no-untyped-def]
    import sqlite3

    path = tmp_path / "events.sqlite"
    old = sqlite3.connect(path)  # the table as planes before the trace column wrote it
    old.execute(
        "CREATE TABLE events (request_id TEXT PRIMARY KEY, function TEXT NOT NULL, source TEXT NOT NULL, "
        "payload BLOB NOT NULL, received REAL NOT NULL, attempts INTEGER NOT NULL)"
    )
    old.execute("INSERT INTO events VALUES ('old', 'fn', 'invoke', x'7b7d', 1.0, 1)")
    old.commit()
    old.close()
    store = EventStore(path)
    store.add(StoredEvent("new", "fn", "invoke", b"{}", 2.0, 0, "Root=1-abc;Lineage=0000beef:3"))
    assert list(store.pending()) == [
        StoredEvent("old", "fn", "invoke", b"{}", 1.0, 1, None),
        StoredEvent("new", "fn", "invoke", b"{}", 2.0, 0, "Root=1-abc;Lineage=0000beef:3"),
    ]


class Flaky:
    """The store's connection, whose statements starting with `verb` fail `times` times (all: -1)."""

    def __init__(self, db: sqlite3.Connection, verb: str, times: int, error: str = "database is locked") -> None:
        self.db, self.verb, self.times, self.error = db, verb, times, error
        self.calls = 0

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.startswith(self.verb):
            self.calls += 1
            if self.times:
                self.times -= 1
                raise sqlite3.OperationalError(self.error)
        return self.db.execute(sql, *args)

    def close(self) -> None:
        self.db.close()


def event(request_id: str, received: float = 1.0, payload: bytes = b"{}") -> StoredEvent:
    return StoredEvent(request_id, "fn", "invoke", payload, received, 0)


@pytest.fixture
def no_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_store, "RETRY_DELAYS", (0.0,))


@pytest.mark.usefixtures("no_delays")
def test_a_store_locked_for_a_moment_is_tried_again_and_one_that_stays_locked_is_reported(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.sqlite")
    store.add(event("a"))
    store.add(event("b"))
    real = store._db
    store._db = Flaky(real, "DELETE", event_store.ATTEMPTS - 1)  # type: ignore[assignment]
    store.remove("a")  # the last attempt works
    assert [e.request_id for e in store.pending()] == ["b"] and store.problem() is None

    store._db = Flaky(real, "DELETE", -1)  # type: ignore[assignment]
    with pytest.raises(StoreError, match="remove failed 3 times: database is locked"):
        store.remove("b")
    assert store.problems.failures == 1 and store.unremoved == {"b"}
    problem = store.problem()
    assert problem is not None and "1 operations failed" in problem and "database is locked" in problem
    assert "1 settled events not yet removed" in problem

    store._db = real  # the lock is gone: a later removal works and the count stays as history
    store.remove("b")
    assert list(store.pending()) == [] and store.unremoved == set()
    assert store.problem() is not None and "not yet removed" not in str(store.problem())


@pytest.mark.usefixtures("no_delays")
def test_an_event_that_cannot_be_stored_raises_and_is_not_stored(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.sqlite")
    store._db = Flaky(store._db, "INSERT", -1, "database or disk is full")  # type: ignore[assignment]
    with pytest.raises(StoreError, match="add failed .*disk is full") as raised:
        store.add(event("a"))
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
    assert store._db.calls == event_store.ATTEMPTS  # type: ignore[attr-defined]
    assert list(store.pending()) == []
    assert "add: database or disk is full" in str(store.problem())


def test_a_file_that_is_no_database_is_moved_aside_and_a_new_store_begins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.sqlite"
    path.write_bytes(b"not a database, whatever it was " * 100)
    (tmp_path / "events.sqlite-wal").write_bytes(b"a log of it")
    store = EventStore(path)
    (aside,) = tmp_path.glob("events.sqlite.corrupt-*[0-9]Z")
    assert aside.read_bytes().startswith(b"not a database")
    assert (tmp_path / f"{aside.name}-wal").read_bytes() == b"a log of it"  # next to it, SQLite's name for its log
    line = capsys.readouterr().err.strip()
    assert line.startswith("lambda_local: events.sqlite is corrupt (file is not a database): moved aside to ")
    assert aside.name in line and "\n" not in line
    store.add(event("a"))
    assert [e.request_id for e in store.pending()] == ["a"]
    assert f"moved aside to {aside.name}" in str(store.problem())


def test_a_store_whose_check_finds_damage_is_moved_aside(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A damage the open does not notice: a row breaking its table's NOT NULL (what quick_check reads)."""
    path = tmp_path / "events.sqlite"
    EventStore(path).close()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE other (x TEXT)")
    db.execute("INSERT INTO other VALUES (NULL)")
    db.execute("PRAGMA writable_schema = ON")
    db.execute("UPDATE sqlite_master SET sql = 'CREATE TABLE other (x TEXT NOT NULL)' WHERE name = 'other'")
    db.commit()
    db.close()
    EventStore(path).add(event("a"))
    assert len(list(tmp_path.glob("events.sqlite.corrupt-*Z"))) == 1
    assert "NULL value in other.x" in capsys.readouterr().err


def test_a_store_that_cannot_be_opened_is_not_taken_for_corrupt(tmp_path: Path) -> None:
    """Unopenable (here a folder where the file should be) is an OperationalError: raised, nothing moved."""
    (tmp_path / "events.sqlite").mkdir()
    with pytest.raises(sqlite3.OperationalError):
        EventStore(tmp_path / "events.sqlite")
    assert [p.name for p in tmp_path.iterdir()] == ["events.sqlite"]


def test_pending_reads_a_page_at_a_time_in_order_and_misses_none_removed_meanwhile(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.sqlite")
    count = 1203
    for i in range(count):  # received ties (3 per second) are ordered by request id
        store.add(event(f"r{i:05}", float(i // 3)))
    pending = store.pending()
    assert iter(pending) is pending  # an iterator, not a list
    seen = []
    for stored in pending:  # as Plane._resume does, removing some as it goes
        seen.append(stored.request_id)
        if len(seen) % 2:
            store.remove(stored.request_id)
    assert seen == [f"r{i:05}" for i in range(count)]
    assert len(list(store.pending())) == count // 2


def test_pending_does_not_hold_every_stored_payload_at_once(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events.sqlite")
    size, count = 10_000, 3 * event_store.PAGE
    for i in range(count):
        store.add(event(f"r{i:05}", float(i), b"x" * size))
    tracemalloc.start()
    try:
        read = sum(len(stored.payload) for stored in store.pending())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read == size * count
    assert peak < 1.5 * size * event_store.PAGE, f"peak {peak} bytes for pages of {size * event_store.PAGE}"


@pytest.mark.usefixtures("no_delays")
def test_resuming_goes_on_past_a_removal_that_fails_and_stops_cleanly_when_reading_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plane._resume: an event of a function gone from the template whose removal fails stays for the
    next start, the others are resumed; a store that cannot be read leaves a problem, not a crash."""
    from types import SimpleNamespace

    from lambda_local.plane import Plane

    store = EventStore(tmp_path / "events.sqlite")
    for i, function in enumerate(["gone", "fn", "gone", "fn"]):
        store.add(StoredEvent(f"r{i}", function, "invoke", b"{}", float(i), 0))
    resumed: list[str] = []
    invoker = SimpleNamespace(resume=lambda stored: resumed.append(stored.request_id))
    plane = SimpleNamespace(store=store, invokers={"fn": invoker}, problems=[])
    store._db = Flaky(store._db, "DELETE", event_store.ATTEMPTS)  # type: ignore[assignment]
    Plane._resume(plane)  # type: ignore[arg-type]
    assert resumed == ["r1", "r3"] and plane.problems == []
    assert [e.request_id for e in store.pending()] == ["r0", "r1", "r3"]  # r0: its removal failed, kept
    assert "resumed 2 accepted events" in capsys.readouterr().out

    store._db = Flaky(store._db.db, "SELECT", -1, "disk I/O error")  # type: ignore[attr-defined]
    Plane._resume(plane)  # type: ignore[arg-type]
    assert plane.problems == ["resuming stored events stopped after 0: event store read failed 3 times: disk I/O error"]
