"""`make bench-durable`: what a durable function costs on the local plane (docs/durable.md).

1. Checkpoint round trip from inside a function: a durable handler runs steps of no work and times each
   `context.step` (the SDK's START and SUCCEED checkpoints) and each CheckpointDurableExecution call its SDK
   makes (boto3's call, on the SDK's batching thread): p50/p95 over CHECKPOINT_ROUNDS x CHECKPOINT_STEPS.
2. A 10-step workflow's wall time (a synchronous Invoke of the durable function, boto3) against the same
   10 steps run by a plain function, and the durable function with no step (an execution's own cost),
   warm, interleaved, WORKFLOW_RUNS each.
3. BURST executions, each a 1-second wait, started at once (Event invokes from BURST threads released
   together): the time until every one has SUCCEEDED (ListDurableExecutionsByFunction polled), with the
   plane's default settings; what was refused or throttled is counted, never retried.

All on a second plane serving bench/durable/template.yaml: host mode (its functions are RIE processes), then
1, 2 and 3 again in Docker mode when the stack's mode is Docker (an engine with Compose answers and no host-mode
stack runs): the plane in a container beside the Docker-mode stack, its functions' environments containers
it starts (tests/support/docker_probe.py; the stack is started for it when none runs, and stopped after).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
import psutil
from aws_durable_execution_sdk_python_testing.threads import default_max_workers
from botocore.config import Config
from botocore.exceptions import ClientError

import stack
from lambda_local.settings import ROOT
from tests.support.docker_probe import DockerProbePlane
from tests.support.probe_plane import INVOKE_PORT, ProbePlane

TEMPLATE = ROOT / "bench" / "durable" / "template.yaml"
ENDPOINT = f"http://127.0.0.1:{INVOKE_PORT}"
DURABLE = "durable-bench:$LATEST"
PLAIN = "plain-bench"
CHECKPOINT_STEPS = 100
CHECKPOINT_ROUNDS = 3
WORKFLOW_STEPS = 10
WORKFLOW_RUNS = 20
BURST = 200
BURST_WAIT_S = 1
BURST_DEADLINE_S = 300.0
POLL_S = 0.25  # the listing is read from the plane's store: polled gently (the EndTimestamps are exact)


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def row(label: str, values: list[float], digits: int = 2) -> str:
    cells = [statistics.median(values), percentile(values, 0.95), min(values), max(values)]
    return f"| {label} | {len(values)} | " + " | ".join(f"{v:.{digits}f}" for v in cells) + " |"


HEADER = "| what | n | median | p95 | min | max |\n|---|---|---|---|---|---|"


def lambda_client(pool: int = 10) -> Any:
    """boto3's Lambda client on the bench plane: kept-alive connections, nothing retried (a throttle is seen)."""
    config = Config(max_pool_connections=pool, retries={"max_attempts": 1, "mode": "standard"}, read_timeout=900)
    return boto3.client(
        "lambda",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - the local plane checks no signature
        config=config,
    )


def invoke(lam: Any, function: str, event: dict[str, Any]) -> Any:
    answer = lam.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    body = json.loads(answer["Payload"].read())
    if answer["StatusCode"] != 200 or "FunctionError" in answer:
        raise SystemExit(f"{function} failed: {body}")
    return body


def checkpoint_round_trip(lam: Any, mode: str) -> None:
    invoke(lam, DURABLE, {"timed_steps": 20})  # an environment, warm, and the SDK's client connected
    steps: list[float] = []
    calls: list[float] = []
    first: list[float] = []  # the first ten checkpoint calls of each execution, and its last ten
    last: list[float] = []
    for _ in range(CHECKPOINT_ROUNDS):
        answer = invoke(lam, DURABLE, {"timed_steps": CHECKPOINT_STEPS})
        steps += answer["step_ms"]
        calls += answer["call_ms"]
        first += answer["call_ms"][:10]
        last += answer["call_ms"][-10:]
    print(
        f"\n1. Checkpoint round trip from inside the function, {mode} mode: {CHECKPOINT_ROUNDS} executions of "
        f"{CHECKPOINT_STEPS} no-op steps (ms)"
    )
    print(HEADER)
    print(row("context.step of no work (its START + SUCCEED checkpoints)", steps))
    print(row("CheckpointDurableExecution call (boto3, the SDK's batching thread)", calls))
    print(row("  of which an execution's first 10 calls", first))
    print(row(f"  of which its last 10 (operations {CHECKPOINT_STEPS - 9} to {CHECKPOINT_STEPS})", last))
    print(
        f"{len(calls) / len(steps):.2f} checkpoint calls per step (the SDK batches a step's START with its "
        "SUCCEED); a call costs more as the execution grows: the runner loads and rewrites the whole execution "
        "(one JSON row of its SQLite store) at each checkpoint"
    )


def docker_mode_reason() -> str | None:
    """Why Docker mode is not measured here, or None when it is."""
    if stack.mode() == "docker":
        return None
    engine = shutil.which("docker") is not None and (
        subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    )
    if any(stack.service_pid(service) for service in ("lambda", "db", "aws")):
        return "a host-mode stack runs (make down, then run the bench again)"
    return "no Docker engine with Compose answers" if not engine else "STACK_MODE=host"


def workflow_against_plain(lam: Any, mode: str) -> None:
    """The workflow as a durable function and as a plain one, and the durable function with no step (what
    an execution costs before any step)."""
    runs = {
        "durable": (DURABLE, WORKFLOW_STEPS),
        "plain": (PLAIN, WORKFLOW_STEPS),
        "durable, no step": (DURABLE, 0),
    }
    for function, steps in runs.values():  # warm, each with its environment
        invoke(lam, function, {"workflow": steps})
    wall: dict[str, list[float]] = {label: [] for label in runs}
    inside: dict[str, list[float]] = {label: [] for label in runs}
    for run in range(WORKFLOW_RUNS):  # interleaved, so drift hits each alike
        for label, (function, steps) in runs.items():
            started = time.perf_counter()
            answer = invoke(lam, function, {"workflow": steps, "order": f"order-{run}"})
            wall[label].append((time.perf_counter() - started) * 1000)
            inside[label].append(answer["handler_ms"])
    print(
        f"\n2. A {WORKFLOW_STEPS}-step workflow (a SHA-256 digest per step), {mode} mode, warm, synchronous Invoke "
        f"with boto3, {WORKFLOW_RUNS} runs each, interleaved (ms)"
    )
    print(HEADER)
    print(row(f"durable ({DURABLE}): Invoke to result", wall["durable"]))
    print(row(f"plain ({PLAIN}): Invoke to result", wall["plain"]))
    print(row("durable, no step at all: Invoke to result", wall["durable, no step"]))
    print(row(f"durable: in the handler ({WORKFLOW_STEPS} context.step)", inside["durable"]))
    print(row(f"plain: in the handler ({WORKFLOW_STEPS} calls)", inside["plain"], 3))
    durable, plain, empty = (statistics.median(wall[label]) for label in runs)
    print(
        f"the SDK and the runner add {durable - plain:.1f} ms to the median: {empty - plain:.1f} ms an execution "
        f"(start, invocation, close; the SDK's checkpoint thread sees the invocation's end only at its next "
        f"0.1 s poll), {(durable - empty) / WORKFLOW_STEPS:.1f} ms a step"
    )


def succeeded(lam: Any, names: set[str], after: datetime) -> dict[str, str]:
    """The executions of `names` (started after `after`) that have SUCCEEDED: name -> ARN (every page)."""
    found: dict[str, str] = {}
    marker: str | None = None
    while True:
        paging = {"Marker": marker} if marker else {}
        page = lam.list_durable_executions_by_function(
            FunctionName="durable-bench", Statuses=["SUCCEEDED"], StartedAfter=after, MaxItems=1000, **paging
        )
        for execution in page["DurableExecutions"]:
            if execution.get("DurableExecutionName") in names:
                found[execution["DurableExecutionName"]] = execution["DurableExecutionArn"]
        marker = page.get("NextMarker")
        if not marker:
            return found


def burst(lam: Any, plane: ProbePlane, mode: str) -> None:
    run = uuid.uuid4().hex[:8]
    names = [f"burst-{run}-{n}" for n in range(BURST)]
    payload = json.dumps({"wait_s": BURST_WAIT_S}).encode()
    gate = threading.Barrier(BURST)
    after = datetime.now(UTC) - timedelta(seconds=1)
    released: list[float] = []

    def start(name: str) -> tuple[str, float]:
        if gate.wait() == 0:
            released.append(time.perf_counter())
        began = time.perf_counter()
        try:
            answer = lam.invoke(
                FunctionName=DURABLE, InvocationType="Event", DurableExecutionName=name, Payload=payload
            )
            outcome = str(answer["StatusCode"])
        except ClientError as error:
            outcome = error.response["Error"]["Code"]
        except Exception as error:  # noqa: BLE001 - a connection refused or reset is an outcome too
            outcome = type(error).__name__
        return outcome, (time.perf_counter() - began) * 1000

    with ThreadPoolExecutor(BURST) as pool:
        starts = list(pool.map(start, names))
    t0 = released[0]
    accepted_s = time.perf_counter() - t0
    outcomes = Counter(outcome for outcome, _ in starts)
    started = {name for name, (outcome, _) in zip(names, starts, strict=True) if outcome == "202"}
    done: dict[str, str] = {}
    polled_s = None
    while time.perf_counter() - t0 < BURST_DEADLINE_S:
        done = succeeded(lam, started, after)
        if len(done) == len(started):
            polled_s = time.perf_counter() - t0
            break
        time.sleep(POLL_S)
    wall_t0 = time.time() - (time.perf_counter() - t0)  # the release, on the clock the plane's timestamps use
    executions = [lam.get_durable_execution(DurableExecutionArn=arn) for arn in done.values()]
    durations = [(e["EndTimestamp"] - e["StartTimestamp"]).total_seconds() for e in executions]
    last_end = max((e["EndTimestamp"].timestamp() for e in executions), default=wall_t0) - wall_t0
    state = plane.state_of()
    (function,) = [f for f in state["functions"] if f["function"] == "durable-bench"]
    account = state.get("account", {})
    print(
        f"\n3. {mode} mode: {BURST} executions, each one {BURST_WAIT_S} s wait, started at once: Event invokes from "
        f"{BURST} threads released together (boto3, DurableExecutionName each), nothing retried"
    )
    print("| starts answered | time to all answered (s) | all SUCCEEDED, polled (s) | last EndTimestamp (s) |")
    print("|---|---|---|---|")
    shown = ", ".join(f"{count} x {outcome}" for outcome, count in sorted(outcomes.items()))
    polled = f"{polled_s:.2f}" if polled_s is not None else f"not within {BURST_DEADLINE_S:.0f} s ({len(done)} did)"
    print(f"| {shown} | {accepted_s:.2f} | {polled} | {last_end:.2f} |")
    print(HEADER)
    print(row("Event invoke answer (ms)", [ms for _, ms in starts], 1))
    if durations:
        print(row("execution, StartTimestamp to EndTimestamp (s)", durations))
    print(
        f"durable-bench afterwards: {len(function['instances'])} environments, {function['cold_starts']} cold "
        f"starts, {function['throttles']} throttles, {function['died']} died; account: "
        f"{account.get('memory_throttles', '?')} memory throttles, concurrency limit "
        f"{account.get('concurrency_limit', '?')}"
    )
    print(
        f"the runner invokes handlers from a pool of {default_max_workers()} threads (its default, min(32, cores + 4); "
        f"the plane sets none): at most that many of the {BURST * 2} handler invocations (a start and a replay "
        "each) run at once"
    )


def settings_line() -> None:
    memory = psutil.virtual_memory().total / 2**30
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("aws-durable-execution-sdk-python", "aws-durable-execution-sdk-python-testing", "boto3")
    )
    limit = os.environ.get("LAMBDA_LOCAL_ACCOUNT_CONCURRENCY") or "Lambda's default"
    print(
        f"{os.cpu_count()} cores, {memory:.0f} GB, Python {platform.python_version()}; {versions}; "
        f"the plane's defaults (account concurrency: {limit}); functions: 128 MB, Timeout 60 s "
        f"(bench/durable/template.yaml)"
    )


def timed_section(name: str, section: Callable[[], None]) -> None:
    started = time.perf_counter()
    section()
    print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)


def main() -> None:
    settings_line()
    with tempfile.TemporaryDirectory() as state:
        plane = ProbePlane(Path(state), TEMPLATE)
        plane.start(timeout=600)  # the first start makes the function's environment (uv)
        try:
            lam = lambda_client()
            timed_section("checkpoints", lambda: checkpoint_round_trip(lam, "host"))
            timed_section("workflow", lambda: workflow_against_plain(lam, "host"))
            timed_section("burst", lambda: burst(lambda_client(BURST), plane, "host"))
        finally:
            plane.stop()
    if (why := docker_mode_reason()) is not None:
        print(f"\nDocker mode: not run ({why})")
        return
    with tempfile.TemporaryDirectory() as state:
        plane = DockerProbePlane(Path(state), TEMPLATE)
        plane.start(timeout=120)  # its images first (built once, then from the engine's cache)
        try:
            lam = lambda_client()
            timed_section("checkpoints, Docker mode", lambda: checkpoint_round_trip(lam, "Docker"))
            timed_section("workflow, Docker mode", lambda: workflow_against_plain(lam, "Docker"))
            timed_section("burst, Docker mode", lambda: burst(lambda_client(BURST), plane, "Docker"))
        finally:
            plane.stop()


if __name__ == "__main__":
    main()
