"""`make bench-invoke`: what the local plane adds to an invocation, and how it scales out.

1. Warm round trips of the extractor (an empty day) over kept-alive connections, as SDK callers make
   them: boto3's Lambda client and httpx on the Invoke API (3001) and on the function's port, against
   httpx straight to one of its environments' RIE (the one place besides the plane that opens a socket
   to an RIE, to measure the difference); p50/p95 and the overhead over the direct call.
2. A burst of 32 concurrent 0.5 s invocations of a sleep function on a probe plane (its own ports, the
   stack's AWS endpoint): wall time from cold (no environment yet) and warm (32 idle ones).
3. Throughput with 32 concurrent clients of a no-op invocation on that probe plane.

Both modes for 1 (Docker mode's direct call goes to the function's compose container). The probe plane of
2 and 3 runs host-mode environments in either mode (the probe functions have no images).
"""

import contextlib
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
from botocore.config import Config

import stack
from stack import moto
from tests.support.probe_plane import INVOKE_PORT, ProbePlane

EVENT = json.dumps({"date": "2031-06-01"}).encode()
RUNS = 300
BURST = 32


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def lambda_client(port: int) -> object:
    """boto3's Lambda client on a local Invoke API: kept-alive connections, no retries of throttles."""
    config = Config(max_pool_connections=BURST, retries={"max_attempts": 1}, read_timeout=60)
    return moto.client("lambda", config, endpoint=f"http://127.0.0.1:{port}")


def direct_url(http: httpx.Client, name: str) -> str:
    """An RIE of the function, reached without the plane: host mode, one of its environments' (whose
    unpublished address its process's command line holds); Docker mode, its compose container's address
    on the compose network (reachable from a Linux host)."""
    state = {f["function"]: f for f in http.get(f"{stack.LAMBDA_ENDPOINT}/_local/functions").json()["functions"]}
    if stack.mode() == "host":
        command = psutil.Process(state[name]["instances"][0]["pid"]).cmdline()
        address = command[command.index("--runtime-interface-emulator-address") + 1]
        return f"http://{address}{stack.INVOKE_PATH}"
    import docker

    labels = [f"com.docker.compose.service={stack.by_name(name).directory}", "com.docker.compose.oneoff=False"]
    (container,) = docker.from_env().containers.list(filters={"label": labels})
    (network,) = container.attrs["NetworkSettings"]["Networks"].values()
    return f"http://{network['IPAddress']}:8080{stack.INVOKE_PATH}"


def warm_round_trips() -> None:
    name = "salesAnalysisReportDataExtractor"
    api = f"{stack.LAMBDA_ENDPOINT}/2015-03-31/functions/{name}/invocations"
    port = stack.by_name(name).port
    with httpx.Client() as http:
        http.post(api, content=EVENT)  # at least one execution environment
        rie = direct_url(http, name)
        client = lambda_client(stack.LAMBDA_PORT)
        paths: dict[str, Callable[[], object]] = {
            "httpx keep-alive, direct to the RIE": lambda: http.post(rie, content=EVENT).read(),
            "httpx keep-alive, Invoke API (3001)": lambda: http.post(api, content=EVENT).read(),
            f"httpx keep-alive, function port ({port})": lambda: http.post(
                f"http://127.0.0.1:{port}{stack.INVOKE_PATH}", content=EVENT
            ).read(),
            "boto3 invoke (keep-alive), Invoke API": lambda: client.invoke(FunctionName=name, Payload=EVENT)[  # type: ignore[attr-defined]
                "Payload"
            ].read(),
        }
        for call in paths.values():  # warm
            for _ in range(20):
                call()
        rows: dict[str, list[float]] = {}
        for _ in range(3):  # interleaved rounds, so drift hits every path alike
            for label, call in paths.items():
                rows.setdefault(label, []).extend(timed(call) for _ in range(RUNS // 3))
    base = statistics.median(rows["httpx keep-alive, direct to the RIE"])
    print(f"\nWarm invoke round trip, extractor on an empty day, {RUNS} sequential calls each (ms)")
    print("| path | p50 | p95 | p50 overhead vs direct |")
    print("|---|---|---|---|")
    for label, values in rows.items():
        p50 = statistics.median(values)
        print(f"| {label} | {p50:.2f} | {percentile(values, 0.95):.2f} | {p50 - base:+.2f} |")


def burst(client: object, seconds: float) -> tuple[float, list[dict[str, object]]]:
    def one(i: int) -> dict[str, object]:
        response = client.invoke(  # type: ignore[attr-defined]
            FunctionName="probeSleep", Payload=json.dumps({"seconds": seconds, "tag": i}).encode()
        )
        assert response["StatusCode"] == 200 and "FunctionError" not in response, response
        answer: dict[str, object] = json.loads(response["Payload"].read())
        return answer

    started = time.perf_counter()
    with ThreadPoolExecutor(BURST) as pool:
        answers = list(pool.map(one, range(BURST)))
    return time.perf_counter() - started, answers


def accepted(client: object) -> None:
    """What durable acceptance costs an `Event` invoke (stored on disk before its 202), sequential and
    with 32 clients."""
    payload = b'{"seconds": 0}'

    def one() -> object:
        return client.invoke(FunctionName="probeSleep", InvocationType="Event", Payload=payload)  # type: ignore[attr-defined]

    for _ in range(20):
        one()
    latencies = [timed(one) for _ in range(RUNS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(BURST) as pool:
        list(pool.map(lambda _: one(), range(BURST * 20)))
    rate = BURST * 20 / (time.perf_counter() - started)
    stored = store_cost(payload)
    print(
        f"\nEvent invokes (202, stored before the answer), boto3 keep-alive: "
        f"p50 {statistics.median(latencies):.2f} ms, p95 {percentile(latencies, 0.95):.2f} ms sequential; "
        f"{rate:.0f} accepted/s with {BURST} clients"
    )
    print(
        f"of which durable acceptance (EventStore.add, one WAL transaction, same payload, {RUNS} runs): "
        f"p50 {statistics.median(stored):.3f} ms, p95 {percentile(stored, 0.95):.3f} ms"
    )


def store_cost(payload: bytes) -> list[float]:
    """The part of the 202 that durability adds: storing the event before answering (the plane's store,
    on the same file system as the stack's state)."""
    from lambda_local.events import recursion
    from lambda_local.invocation.event_store import EventStore, StoredEvent

    with tempfile.TemporaryDirectory(dir=stack.ROOT / ".stack") as state:
        store = EventStore(Path(state) / "events.sqlite")
        try:
            events = [
                StoredEvent(f"id-{n}", "probeSleep", "invoke", payload, time.time(), 0, recursion.next_trace(None, "p"))
                for n in range(RUNS)
            ]
            return [timed(lambda e=e: store.add(e)) for e in events]  # type: ignore[misc]
        finally:
            store.close()


def bursts_and_throughput() -> None:
    with tempfile.TemporaryDirectory() as state:
        plane = ProbePlane(Path(state))
        plane.create_resources()
        plane.start()
        try:
            client = lambda_client(INVOKE_PORT)
            cold, answers = burst(client, 0.5)
            warm, again = burst(client, 0.5)
            print(f"\n{BURST} concurrent 0.5 s invocations (probeSleep, boto3, one client per thread)")
            print("| burst | wall time (s) | environments used |")
            print("|---|---|---|")
            print(f"| cold (no environment yet) | {cold:.2f} | {len({a['pid'] for a in answers})} |")
            print(f"| warm ({BURST} idle environments) | {warm:.2f} | {len({a['pid'] for a in again})} |")
            calls = BURST * 20
            started = time.perf_counter()
            with ThreadPoolExecutor(BURST) as pool:
                latencies = list(
                    pool.map(
                        lambda _: timed(
                            lambda: client.invoke(FunctionName="probeSleep", Payload=b'{"seconds": 0}')  # type: ignore[attr-defined]
                        ),
                        range(calls),
                    )
                )
            elapsed = time.perf_counter() - started
            print(
                f"\n{BURST} concurrent clients, {calls} no-op invokes through the Invoke API: "
                f"{calls / elapsed:.0f} invokes/s, p50 {statistics.median(latencies):.1f} ms, "
                f"p95 {percentile(latencies, 0.95):.1f} ms"
            )
            accepted(client)
        finally:
            plane.stop()


def pending(state: Path) -> int:
    with contextlib.closing(sqlite3.connect(state / "events.sqlite", timeout=5)) as db:
        return int(db.execute("SELECT count(*) FROM events").fetchone()[0])


def restart_with_backlog(events: int = 1000) -> None:
    """A plane SIGKILLed with `events` accepted and not yet run: how long the next one takes to answer,
    and to run them all (probeSleepReservedOne: one at a time, 10 ms each)."""
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder)
        plane = ProbePlane(state)
        plane.create_resources()
        plane.start()
        try:
            client = lambda_client(INVOKE_PORT)
            payload = b'{"seconds": 0.01}'
            with ThreadPoolExecutor(BURST) as pool:
                list(
                    pool.map(
                        lambda _: client.invoke(  # type: ignore[attr-defined]
                            FunctionName="probeSleepReservedOne", InvocationType="Event", Payload=payload
                        ),
                        range(events),
                    )
                )
            plane.kill()
            waiting = pending(state)
            started = time.perf_counter()
            plane.start(poll_s=0.01)
            ready = time.perf_counter() - started
            while pending(state):
                time.sleep(0.05)
            drained = time.perf_counter() - started
        finally:
            plane.stop()
    print(f"\nRestart after a SIGKILL with {events} Event invokes accepted ({waiting} not yet run at the kill)")
    print("| plane start to Invoke API answering (s) | to every pending event run (s) |")
    print("|---|---|")
    print(f"| {ready:.2f} | {drained:.2f} |")


def main() -> None:
    if not stack.stack_is_up():
        raise SystemExit("the stack is not up: run `make up`")
    print(f"{stack.mode()} mode")
    warm_round_trips()
    bursts_and_throughput()
    restart_with_backlog()


if __name__ == "__main__":
    main()
