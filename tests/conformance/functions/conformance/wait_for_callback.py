"""The wait_for_callback suite's handlers (requirements/wait_for_callback/7-N.yaml): each submitter only
takes note of its callback id (the driver, as the outside system, answers it from the history)."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, WaitForCallbackConfig
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.exceptions import CallbackError
from aws_durable_execution_sdk_python.execution import durable_execution
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.serdes import JsonSerDes
from aws_durable_execution_sdk_python.types import WaitForCallbackContext


def submit(callback_id: str, context: WaitForCallbackContext) -> None:
    context.logger.info(f"callback {callback_id} handed to the outside system")


def within(timeout: int = 0, heartbeat: int = 0) -> WaitForCallbackConfig:
    return WaitForCallbackConfig(
        timeout=Duration.from_seconds(timeout), heartbeat_timeout=Duration.from_seconds(heartbeat)
    )


@durable_execution
def basic(event: Any, context: DurableContext) -> Any:  # 7-1
    return context.wait_for_callback(submit, name=event)


@durable_execution
def with_name(event: Any, context: DurableContext) -> Any:  # 7-2
    return context.wait_for_callback(submit, name="approval")


@durable_execution
def anonymous(event: Any, context: DurableContext) -> Any:  # 7-3
    return context.wait_for_callback(lambda callback_id, ctx: None)


@durable_execution
def failure(event: Any, context: DurableContext) -> Any:  # 7-4
    return context.wait_for_callback(submit, name=event)


@durable_execution
def timeout(event: Any, context: DurableContext) -> Any:  # 7-5
    return context.wait_for_callback(submit, name=event, config=within(timeout=3))


@durable_execution
def failure_caught(event: Any, context: DurableContext) -> Any:  # 7-6
    try:
        return context.wait_for_callback(submit, name=event)
    except CallbackError:
        return "recovered"


@durable_execution
def submitter_retries_exhausted(event: Any, context: DurableContext) -> Any:  # 7-7
    def fails(callback_id: str, ctx: WaitForCallbackContext) -> None:
        raise RuntimeError("the outside system is unreachable")

    one_retry = RetryStrategyConfig(
        max_attempts=2, initial_delay=Duration.from_seconds(1), backoff_rate=1, jitter_strategy=JitterStrategy.NONE
    )
    config = WaitForCallbackConfig(retry_strategy=create_retry_strategy(one_retry))
    return context.wait_for_callback(fails, name=event, config=config)


@durable_execution
def in_child_context(event: Any, context: DurableContext) -> Any:  # 7-8
    return context.run_in_child_context(lambda ctx: ctx.wait_for_callback(submit, name=event), name="wrapper")


@durable_execution
def two_sequential(event: Any, context: DurableContext) -> Any:  # 7-9
    context.wait_for_callback(submit, name="first")
    return context.wait_for_callback(submit, name="second")


@durable_execution
def after_wait_and_step(event: Any, context: DurableContext) -> Any:  # 7-10
    context.wait(Duration.from_seconds(1))
    context.step(lambda _: {"fixed": "data"})
    return context.wait_for_callback(submit, name=event)


@durable_execution
def json_result(event: Any, context: DurableContext) -> Any:  # 7-11
    result = context.wait_for_callback(submit, name=event, config=WaitForCallbackConfig(serdes=JsonSerDes()))
    return result["status"]


@durable_execution
def heartbeat_timeout(event: Any, context: DurableContext) -> Any:  # 7-12
    return context.wait_for_callback(submit, name=event, config=within(heartbeat=5))


@durable_execution
def heartbeat_then_success(event: Any, context: DurableContext) -> Any:  # 7-13
    return context.wait_for_callback(submit, name=event, config=within(heartbeat=10))


@durable_execution
def timeout_caught(event: Any, context: DurableContext) -> Any:  # 7-14
    try:
        return context.wait_for_callback(submit, name=event, config=within(timeout=3))
    except CallbackError:
        return "timed-out-handled"


@durable_execution
def empty_success(event: Any, context: DurableContext) -> Any:  # 7-15
    return context.wait_for_callback(submit, name=event)
