"""The invoke suite's handlers (requirements/invoke/5-N.yaml): chained invokes of the template's target
functions (targets.py), named in each function's environment as `<name>:$LATEST`."""

from __future__ import annotations

import json
from typing import Any

from aws_durable_execution_sdk_python.config import Duration, InvokeConfig
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.exceptions import InvokeError
from aws_durable_execution_sdk_python.execution import durable_execution
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext
from probes import UppercaseSerDes, target

LARGE_BYTES = 200_000  # near the 256 KB an asynchronous Invoke's payload was allowed, within the 1 MiB of a chained one


@durable_execution
def basic(event: Any, context: DurableContext) -> Any:  # 5-1
    return context.invoke(target(), event)


@durable_execution
def with_name(event: Any, context: DurableContext) -> Any:  # 5-2
    return context.invoke(target(), event["payload"], name=event["name"])


@durable_execution
def complex_object(event: Any, context: DurableContext) -> Any:  # 5-3
    return context.invoke(target(), event)


@durable_execution
def null_result(event: Any, context: DurableContext) -> Any:  # 5-4
    return context.invoke(target(), None)


@durable_execution
def target_fails(event: Any, context: DurableContext) -> Any:  # 5-5
    return context.invoke(target(), {"reason": "the target fails"})


@durable_execution
def target_fails_caught(event: Any, context: DurableContext) -> Any:  # 5-6
    try:
        return context.invoke(target(), {"reason": "the target fails"})
    except InvokeError:
        return "fallback"


@durable_execution
def large_payload(event: Any, context: DurableContext) -> int:  # 5-7
    echoed: Any = context.invoke(target(), {"data": "x" * LARGE_BYTES})
    return len(echoed["data"])


@durable_execution
def with_tenant(event: Any, context: DurableContext) -> Any:  # 5-8
    return context.invoke(target(), event["payload"], config=InvokeConfig(tenant_id=event["tenantId"]))


@durable_execution
def replay_skips(event: Any, context: DurableContext) -> Any:  # 5-9
    result: Any = context.invoke(target(), {"once": True})
    context.wait(Duration.from_seconds(1))
    return result


@durable_execution
def replay_rethrows(event: Any, context: DurableContext) -> str:  # 5-10
    try:
        context.invoke(target(), {"reason": "the target fails"})
        outcome = "not failed"
    except InvokeError as error:
        outcome = f"caught: {error}"
    context.wait(Duration.from_seconds(1))
    return outcome


@durable_execution
def step_then_invoke(event: Any, context: DurableContext) -> Any:  # 5-11
    made = context.step(lambda _: {"made": "by a step"})
    return context.invoke(target(), made)


@durable_execution
def invoke_then_step(event: Any, context: DurableContext) -> Any:  # 5-12
    echoed: Any = context.invoke(target(), {"value": 21})
    return context.step(lambda _: {"doubled": echoed["value"] * 2})


@durable_execution
def in_child_context(event: Any, context: DurableContext) -> Any:  # 5-13
    return context.run_in_child_context(lambda child: child.invoke(target(), {"from": "a child context"}))


@durable_execution
def sequential(event: Any, context: DurableContext) -> list[Any]:  # 5-14
    first: Any = context.invoke(target("TARGET_FUNCTION_1"), {"call": 1})
    second: Any = context.invoke(target("TARGET_FUNCTION_2"), {"call": 2})
    return [first, second]


@durable_execution
def payload_serdes(event: Any, context: DurableContext) -> Any:  # 5-15
    return context.invoke(target(), event, config=InvokeConfig(serdes_payload=UppercaseSerDes()))


class UppercaseResult(SerDes[str]):
    """Reads a chained invoke's result as its raw text, upper-cased."""

    def serialize(self, value: str, serdes_context: SerDesContext) -> str:
        return json.dumps(value)

    def deserialize(self, data: str, serdes_context: SerDesContext) -> str:
        return data.upper()


@durable_execution
def result_serdes(event: Any, context: DurableContext) -> Any:  # 5-16
    return context.invoke(target(), event, config=InvokeConfig(serdes_result=UppercaseResult()))
