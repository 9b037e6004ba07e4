"""The callback suite's handlers (requirements/callback/4-N.yaml): each names its callback after its input
(the requirement's generated name), as the requirements say, so the driver answers the right one."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aws_durable_execution_sdk_python.config import CallbackConfig, Duration
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.exceptions import CallbackError
from aws_durable_execution_sdk_python.execution import durable_execution
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext


def seconds(timeout: int = 0, heartbeat: int = 0, serdes: SerDes[Any] | None = None) -> CallbackConfig:
    return CallbackConfig(
        timeout=Duration.from_seconds(timeout), heartbeat_timeout=Duration.from_seconds(heartbeat), serdes=serdes
    )


@durable_execution
def basic(event: Any, context: DurableContext) -> Any:  # 4-1
    return context.create_callback(name=event).result()


@durable_execution
def with_name(event: Any, context: DurableContext) -> Any:  # 4-2
    return context.create_callback(name="approval").result()


@durable_execution
def timeout(event: Any, context: DurableContext) -> Any:  # 4-3
    return context.create_callback(name=event, config=seconds(timeout=5)).result()


@durable_execution
def heartbeat_timeout(event: Any, context: DurableContext) -> Any:  # 4-4
    return context.create_callback(name=event, config=seconds(heartbeat=5)).result()


@durable_execution
def heartbeat_then_success(event: Any, context: DurableContext) -> Any:  # 4-5
    return context.create_callback(name=event, config=seconds(heartbeat=10)).result()


@durable_execution
def failure(event: Any, context: DurableContext) -> Any:  # 4-6
    return context.create_callback(name=event).result()


@durable_execution
def step_then_failure(event: Any, context: DurableContext) -> Any:  # 4-7
    callback = context.create_callback(name=event)
    context.step(lambda _: "between")
    return callback.result()


@durable_execution
def step_then_timeout(event: Any, context: DurableContext) -> Any:  # 4-8
    callback = context.create_callback(name=event, config=seconds(timeout=5))
    context.step(lambda _: "between")
    return callback.result()


@durable_execution
def wait_then_success(event: Any, context: DurableContext) -> Any:  # 4-9
    callback = context.create_callback(name=event)
    context.wait(Duration.from_seconds(5))
    return callback.result()


@durable_execution
def wait_then_failure(event: Any, context: DurableContext) -> Any:  # 4-10
    callback = context.create_callback(name=event)
    context.wait(Duration.from_seconds(5))
    return callback.result()


@durable_execution
def wait_then_timeout(event: Any, context: DurableContext) -> Any:  # 4-11
    callback = context.create_callback(name=event, config=seconds(timeout=3))
    context.wait(Duration.from_seconds(6))
    return callback.result()


@durable_execution
def success_then_wait(event: Any, context: DurableContext) -> Any:  # 4-12
    result = context.create_callback(name=event).result()
    context.wait(Duration.from_seconds(2))
    return result


@durable_execution
def failure_caught_then_wait(event: Any, context: DurableContext) -> str:  # 4-13
    try:
        message = f"approved: {context.create_callback(name=event).result()}"
    except CallbackError as error:
        message = f"refused: {error}"
    context.wait(Duration.from_seconds(2))
    return message


@durable_execution
def timeout_caught_then_wait(event: Any, context: DurableContext) -> str:  # 4-14
    try:
        message = f"answered: {context.create_callback(name=event, config=seconds(timeout=3)).result()}"
    except CallbackError as error:
        message = f"timed out: {error}"
    context.wait(Duration.from_seconds(2))
    return message


class Received(SerDes[dict[str, Any]]):
    """A callback's JSON payload as a typed object: its ISO timestamp becomes epoch seconds."""

    def serialize(self, value: dict[str, Any], serdes_context: SerDesContext) -> str:
        return json.dumps(value)

    def deserialize(self, data: str, serdes_context: SerDesContext) -> dict[str, Any]:
        raw = json.loads(data)
        when = datetime.fromisoformat(raw["timestamp"].replace("Z", "+00:00"))
        return {"id": raw["id"], "message": raw["message"], "timestamp": int(when.timestamp())}


class Count(SerDes[int]):
    """A callback's payload as a number."""

    def serialize(self, value: int, serdes_context: SerDesContext) -> str:
        return str(value)

    def deserialize(self, data: str, serdes_context: SerDesContext) -> int:
        return int(json.loads(data))


@durable_execution
def serdes_object(event: Any, context: DurableContext) -> dict[str, Any]:  # 4-15
    return {"received": context.create_callback(name=event, config=seconds(serdes=Received())).result()}


@durable_execution
def serdes_number(event: Any, context: DurableContext) -> dict[str, int]:  # 4-16
    count = context.create_callback(name=event, config=seconds(serdes=Count())).result()
    assert count is not None
    return {"count": count, "doubled": count * 2}


@durable_execution
def two_sequential(event: Any, context: DurableContext) -> list[Any]:  # 4-17
    first = context.create_callback(name=event[0]).result()
    second = context.create_callback(name=event[1]).result()
    return [first, second]


@durable_execution
def two_in_order(event: Any, context: DurableContext) -> list[Any]:  # 4-18
    a = context.create_callback(name=event[0])
    b = context.create_callback(name=event[1])
    return [a.result(), b.result()]


@durable_execution
def two_in_reverse(event: Any, context: DurableContext) -> list[Any]:  # 4-19
    a = context.create_callback(name=event[0])
    b = context.create_callback(name=event[1])
    second = b.result()
    return [a.result(), second]
