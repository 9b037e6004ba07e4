"""A durable workflow the integration tests drive, each part as its event asks:

    {"steps": ["reserve", "charge"],   steps, in order (each returns "<name> done")
     "wait_s": 3600,                   a wait (the tests resume it with time control, or let it pass)
     "callback": true,                 a callback named "approval" (the tests send its result)
     "callback_timeout_s": 3600,       ... with a timeout (when it runs out, approval is "timed out")
     "invoke": "durable-target",       a chained invoke of another function, with {"value": ...}
     "value": 21,
     "tag": "t1",                      each step's every run logged as "step run t1 <name>" (how often)
     "crash_in": "charge"}             this step ends its environment (os._exit) unless an invocation of
                                       the execution failed before (its history says: both modes)

It returns what each part gave: {"steps": [...], "approval": ..., "invoked": ...}.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration
from aws_durable_execution_sdk_python.context import DurableContext, StepContext
from aws_durable_execution_sdk_python.exceptions import CallbackTimeoutError
from aws_durable_execution_sdk_python.execution import durable_execution


def _failed_before(execution_arn: str) -> bool:
    """Whether an earlier invocation of the execution failed (the plane's endpoint: AWS_ENDPOINT_URL_LAMBDA)."""
    events = boto3.client("lambda").get_durable_execution_history(DurableExecutionArn=execution_arn)["Events"]
    return any("Error" in e.get("InvocationCompletedDetails", {}) for e in events)


def _done(name: str, event: dict[str, Any], execution_arn: str) -> Any:
    def step(_: StepContext) -> str:
        if event.get("tag"):
            print(f"step run {event['tag']} {name}", flush=True)
        if event.get("crash_in") == name and not _failed_before(execution_arn):
            os._exit(1)  # the environment dies mid-step: the step's checkpoint was never written
        return f"{name} done"

    return step


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    arn = context.state.durable_execution_arn
    steps = [context.step(_done(name, event, arn), name=name) for name in event.get("steps", [])]
    if event.get("wait_s"):
        context.wait(Duration.from_seconds(event["wait_s"]), name="pause")
    approval = None
    if event.get("callback"):
        timeout = Duration.from_seconds(event.get("callback_timeout_s", 0))
        try:
            approval = context.create_callback(name="approval", config=CallbackConfig(timeout=timeout)).result()
        except CallbackTimeoutError:
            approval = "timed out"
    invoked = None
    if event.get("invoke"):
        invoked = context.invoke(event["invoke"], {"value": event.get("value", 1)}, name="chained")
    return {"steps": steps, "approval": approval, "invoked": invoked}
