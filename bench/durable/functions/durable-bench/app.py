"""`make bench-durable`'s function (bench/durable/template.yaml), each run as its event asks:

    {"timed_steps": 200}   that many steps of no work, each `context.step` timed from inside the handler,
                           and each CheckpointDurableExecution call the SDK makes timed around boto3's call
    {"workflow": 10}       that many small steps (a digest each), as a durable workflow
    {"wait_s": 1}          one wait of that long, then "done"

`plain_handler` (the function plain-bench) runs {"workflow": N}'s steps one after another, without the SDK.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import boto3
from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.execution import durable_execution
from aws_durable_execution_sdk_python.types import StepContext
from botocore.config import Config

CALLS_MS: list[float] = []  # this environment's CheckpointDurableExecution round trips, as the SDK made them


def timed_client() -> Any:
    """The SDK's Lambda client (its own settings), its checkpoint call timed: from boto3's call to its answer
    parsed, on the SDK's batching thread (one call may carry several checkpoints: a step's START and SUCCEED)."""
    client = boto3.client("lambda", config=Config(connect_timeout=5, read_timeout=50))
    checkpoint = client.checkpoint_durable_execution

    def timed(**kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return checkpoint(**kwargs)
        finally:
            CALLS_MS.append((time.perf_counter() - started) * 1000)

    client.checkpoint_durable_execution = timed
    return client


def work(order: str, index: int) -> dict[str, Any]:
    """One step's work: small and pure, the same with and without the SDK."""
    return {"step": index, "digest": hashlib.sha256(f"{order}/{index}".encode()).hexdigest()[:16]}


def _nothing(_: StepContext) -> None:
    return None


def workflow(event: dict[str, Any], context: DurableContext) -> Any:
    if "timed_steps" in event:
        CALLS_MS.clear()
        steps = []
        for index in range(int(event["timed_steps"])):
            started = time.perf_counter()
            context.step(_nothing, name=f"noop-{index}")
            steps.append((time.perf_counter() - started) * 1000)
        return {"step_ms": steps, "call_ms": list(CALLS_MS)}
    if "workflow" in event:
        started = time.perf_counter()
        order = str(event.get("order", "bench"))
        results = [
            context.step(lambda _, i=index: work(order, i), name=f"step-{index}")  # type: ignore[misc]
            for index in range(int(event["workflow"]))
        ]
        return {"results": results, "handler_ms": (time.perf_counter() - started) * 1000}
    context.wait(Duration.from_seconds(int(event["wait_s"])), name="pause")
    return "done"


handler = durable_execution(workflow, boto3_client=timed_client())


def plain_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    order = str(event.get("order", "bench"))
    results = [work(order, index) for index in range(int(event["workflow"]))]
    return {"results": results, "handler_ms": (time.perf_counter() - started) * 1000}
