"""A durable workflow the integration tests drive, each part as its event asks:

    {"steps": ["reserve", "charge"],   steps, in order (each returns "<name> done")
     "wait_s": 3600,                   a wait (the tests resume it with time control, or let it pass)
     "callback": true,                 a callback named "approval" (the tests send its result)
     "callback_timeout_s": 3600,       ... with a timeout (when it runs out, approval is "timed out")
     "invoke": "durable-target",       a chained invoke of another function, with {"value": ...}
     "value": 21,
     "runs": "/tmp/x",                 each step's every run appended to this file (how often it ran)
     "crash_in": "charge"}             the first run of this step ends its environment (os._exit)

It returns what each part gave: {"steps": [...], "approval": ..., "invoked": ...}.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aws_durable_execution_sdk_python.config import CallbackConfig, Duration
from aws_durable_execution_sdk_python.context import DurableContext, StepContext
from aws_durable_execution_sdk_python.exceptions import CallbackTimeoutError
from aws_durable_execution_sdk_python.execution import durable_execution


def _done(name: str, event: dict[str, Any]) -> Any:
    def step(_: StepContext) -> str:
        if event.get("runs"):
            runs = Path(event["runs"])
            before = runs.read_text().split() if runs.exists() else []
            with runs.open("a") as out:
                out.write(f"{name}\n")
            if event.get("crash_in") == name and name not in before:
                os._exit(1)  # the environment dies mid-step: the step's checkpoint was never written
        return f"{name} done"

    return step


@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    steps = [context.step(_done(name, event), name=name) for name in event.get("steps", [])]
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
