"""The wait suite's handlers (requirements/wait/2-N.yaml)."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python.config import Duration
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.execution import durable_execution


@durable_execution
def basic(event: Any, context: DurableContext) -> str:  # 2-1
    context.wait(Duration.from_seconds(2))
    return "waited"


@durable_execution
def with_name(event: Any, context: DurableContext) -> str:  # 2-2
    context.wait(Duration.from_seconds(2), name="custom_wait_name")
    return "waited"


@durable_execution
def sequential(event: Any, context: DurableContext) -> dict[str, int]:  # 2-3
    context.wait(Duration.from_seconds(2), name="wait-1")
    context.wait(Duration.from_seconds(2), name="wait-2")
    return {"completedWaits": 2}


@durable_execution
def minutes(event: Any, context: DurableContext) -> str:  # 2-4
    context.wait(Duration.from_minutes(1))
    return "waited a minute"


@durable_execution
def hours(event: Any, context: DurableContext) -> str:  # 2-5
    context.wait(Duration.from_hours(1))
    return "waited an hour"
