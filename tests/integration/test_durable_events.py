"""Nothing accepted is lost: `Event` invokes answered 202 survive a SIGKILL of the plane, and the
next plane runs every one at least once (probe plane; a function with reserved concurrency 1, so most
of them are still queued, and one in flight, when the plane dies)."""

import json
import urllib.request
from collections import Counter
from collections.abc import Iterator

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
