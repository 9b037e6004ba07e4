"""`make bench-reload`: edit -> new code served, in the stack's mode.

Host mode: a plane of its own serves a function copied into a temporary folder; each run rewrites its
app.py with a new value and invokes it until the value comes back (polling every 20 ms), 10 edits. Side
by side in the same run: the way without hot reload, the plane restarted after the edit (what `make up`
after an edit amounts to in host mode, without its backing services).
Docker mode: the same edits to the extractor's app.py in the running stack (tests/support/reload_probe.py,
restored after), each served once its image is rebuilt and a new environment runs it.
Medians, with min and max.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.support.probe_plane import INVOKE_PORT, ProbePlane
from tests.support.reload_probe import copy_of_reloaded, write_app

EDITS = 10


def served() -> str | None:
    url = f"http://127.0.0.1:{INVOKE_PORT}/2015-03-31/functions/reloadProbe/invocations"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST"), timeout=30) as r:
            value = json.loads(r.read()).get("value")
            return value if isinstance(value, str) else None
    except OSError:
        return None


def until_served(value: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while served() != value:
        if time.monotonic() > deadline:
            raise SystemExit(f"the edit {value!r} was not served within {timeout:.0f}s")
        time.sleep(0.02)


def measure(edit: Callable[[int], None], label: str) -> list[float]:
    times = []
    for i in range(EDITS):
        started = time.perf_counter()
        edit(i)
        times.append(time.perf_counter() - started)
        print(f"  {label} edit {i + 1}/{EDITS}: {times[-1]:.2f}s", flush=True)
    return times


def docker_mode() -> list[tuple[str, list[float]]]:
    from stack.functions import by_name
    from tests.support.reload_probe import probe, restored

    extractor = by_name("sales-data-extractor")

    def until(value: str) -> None:
        deadline = time.monotonic() + 300
        while probe(extractor.lambda_name) != value:
            if time.monotonic() > deadline:
                raise SystemExit(f"the edit {value!r} was not served within 300s")
            time.sleep(0.05)

    with restored(extractor.code / "app.py") as edit:
        edit("warm-up")  # the first build after `make up` may rebuild more than the code layers
        until("warm-up")

        def docker(i: int) -> None:
            edit(f"docker-{i}")
            until(f"docker-{i}")

        print("edit -> new code served, Docker mode:", flush=True)
        return [("image rebuilt, env replaced", measure(docker, "docker"))]


def main() -> None:
    import stack

    if stack.mode() == "docker":
        rows = docker_mode()
        print()
        print(f"{'Docker mode, ' + str(EDITS) + ' edits':<28} {'p50':>7} {'min':>7} {'max':>7}")
        for label, times in rows:
            print(f"{label:<28} {statistics.median(times):>6.2f}s {min(times):>6.2f}s {max(times):>6.2f}s")
        return
    with tempfile.TemporaryDirectory(prefix="reload-bench-") as tmp:
        root = Path(tmp)
        folder = copy_of_reloaded(root, "start")
        plane = ProbePlane(root / "state", template=root / "template.yaml")
        plane.start()
        try:
            until_served("start")

            def hot(i: int) -> None:
                write_app(folder, f"hot-{i}")
                until_served(f"hot-{i}")

            def restarted(i: int) -> None:
                write_app(folder, f"restart-{i}")
                plane.stop()
                plane.start(poll_s=0.02)
                until_served(f"restart-{i}")

            print("edit -> new code served, host mode:", flush=True)
            rows = [("hot reload (watcher)", measure(hot, "hot")), ("plane restarted", measure(restarted, "restart"))]
        finally:
            plane.stop()
    print()
    print(f"{'host mode, ' + str(EDITS) + ' edits':<28} {'p50':>7} {'min':>7} {'max':>7}")
    for label, times in rows:
        print(f"{label:<28} {statistics.median(times):>6.2f}s {min(times):>6.2f}s {max(times):>6.2f}s")


if __name__ == "__main__":
    main()
