"""Nothing accepted is lost: `Event` invokes answered 202 survive a SIGKILL of the plane, and the
next plane runs every one at least once (probe plane; a function with reserved concurrency 1, so most
of them are still queued, and one in flight, when the plane dies)."""

import contextlib
import json
import sqlite3
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.probe_plane import INVOKE_PORT, ProbePlane, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    running = ProbePlane(tmp_path_factory.mktemp("durable"))
    running.create_resources()
    running.start()
    yield running
    running.stop()


def accept(tag: int) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{INVOKE_PORT}/2015-03-31/functions/probeSleepReservedOne/invocations",
        data=json.dumps({"tag": tag, "seconds": 0.3}).encode(),
        headers={"X-Amz-Invocation-Type": "Event"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        return str(response.headers["x-amzn-RequestId"])


def test_events_accepted_before_a_sigkill_all_run_after_the_restart(plane: ProbePlane):
    accepted = [accept(i) for i in range(20)]

    def ran() -> Counter[str]:
        return Counter(d["request_id"] for d in plane.deliveries("probeSleepReservedOne") if d["outcome"] == "ok")

    wait_for(lambda: len(set(ran()) & set(accepted)) >= 2, 30, "the first events to run")
    plane.kill()  # SIGKILL: in-memory queues gone, one invocation in flight
    before = set(ran()) & set(accepted)
    assert len(before) < len(accepted), "the kill came before every event had run"
    plane.start()
    wait_for(lambda: set(accepted) <= set(ran()), 60, "every accepted event to run")
    counts = ran()
    duplicates = sum(counts[r] - 1 for r in accepted)
    assert all(counts[r] >= 1 for r in accepted)
    assert duplicates <= 1, f"{duplicates} ran twice: only the one in flight at the kill may"
    assert "resumed" in plane.log()


def counted(plane: ProbePlane, prefix: str) -> dict[str, int]:
    return {key: times for key, times in plane.seen().items() if key.startswith(prefix) and isinstance(times, int)}


def test_an_upload_burst_cut_by_a_sigkill_is_all_delivered_by_the_next_plane(plane: ProbePlane):
    from stack import moto

    s3 = moto.client("s3")
    stamp = time.time_ns()
    keys = [f"burst-{stamp}/{i:02}.txt" for i in range(20)]
    for key in keys:
        s3.put_object(Bucket=plane.names["CounterUploads"], Key=key, Body=b"x")
    prefix = f"s3#burst-{stamp}/"
    wait_for(lambda: len(counted(plane, prefix)) >= 2, 30, "the first uploads to run")
    plane.kill()  # one delivery in flight, the rest received and waiting, or still in the queue
    assert len(counted(plane, prefix)) < len(keys), "the kill came after every upload had run"
    plane.start()
    # Messages the dead plane held come back after the trigger queue's visibility timeout (30 s).
    wait_for(lambda: len(counted(plane, prefix)) == len(keys), 90, "every upload to run")
    counts = counted(plane, prefix)
    duplicates = sum(times - 1 for times in counts.values())
    print(f"upload burst across a SIGKILL: {len(keys)} delivered, {duplicates} twice")
    assert duplicates <= 2, f"{duplicates} ran twice: only those in flight or being settled at the kill may"


def stored(plane: ProbePlane, function: str) -> int:
    """Events the plane accepted for `function` and has not settled (its durable store)."""
    with contextlib.closing(sqlite3.connect(plane.state / "events.sqlite", timeout=5)) as db:
        return int(db.execute("SELECT count(*) FROM events WHERE function = ?", (function,)).fetchone()[0])


def test_a_schedule_delivery_cut_by_a_sigkill_runs_after_the_restart(plane: ProbePlane):
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    request = urllib.request.Request(
        f"http://127.0.0.1:{INVOKE_PORT}/_local/schedules/probeCounterTick/fire",
        data=json.dumps({"at": at.isoformat()}).encode(),
        method="POST",
    )

    def fire() -> None:
        with contextlib.suppress(OSError):  # the plane dies under it
            urllib.request.urlopen(request, timeout=30)

    firing = threading.Thread(target=fire)
    firing.start()
    wait_for(lambda: stored(plane, "probeCounter"), 10, "the scheduled event to be accepted")
    plane.kill()  # the delivery in flight (the function takes 0.3 s, after its cold start)
    firing.join()
    assert not counted(plane, f"schedule#{at:%Y-%m-%dT%H:%M:%SZ}")
    plane.start()
    wait_for(lambda: counted(plane, f"schedule#{at:%Y-%m-%dT%H:%M:%SZ}"), 30, "the scheduled event to run")
    assert "resumed" in plane.log()
