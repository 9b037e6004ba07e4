"""The event store keeps accepted events across processes until they are removed, with their attempts."""

import subprocess
import sys

from lambda_local.event_store import EventStore, StoredEvent


def test_events_survive_a_killed_process_with_their_attempts(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "events.sqlite"
    writer = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from lambda_local.event_store import EventStore, StoredEvent\n"
        "store = EventStore(Path(sys.argv[1]))\n"
        "for i in range(3):\n"
        "    store.add(StoredEvent(f'r{i}', 'fn', 'invoke', b'{}', 1.0 + i, 0))\n"
        "store.attempted('r1')\n"
        "store.remove('r2')\n"
        "os.kill(os.getpid(), 9)\n"  # no close, no clean exit
    )
    result = subprocess.run([sys.executable, "-c", writer, str(path)], cwd=".")
    assert result.returncode == -9
    pending = EventStore(path).pending()
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
    assert store.pending() == [
        StoredEvent("old", "fn", "invoke", b"{}", 1.0, 1, None),
        StoredEvent("new", "fn", "invoke", b"{}", 2.0, 0, "Root=1-abc;Lineage=0000beef:3"),
    ]
