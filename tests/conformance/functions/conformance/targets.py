"""The functions the invoke suite's handlers call: durable functions too, as in Lambda's conformance
template (a chained invoke of a durable function starts an execution of its own)."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.execution import durable_execution


class TargetError(Exception):
    """What the failing target raises."""


@durable_execution
def echo(event: Any, context: DurableContext) -> Any:
    return event


@durable_execution
def error(event: Any, context: DurableContext) -> Any:
    raise TargetError(f"the target fails, as asked: {event}")
