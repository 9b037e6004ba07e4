"""The child context suite's handlers (requirements/child/3-N.yaml)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from aws_durable_execution_sdk_python.config import ChildConfig, Duration, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.exceptions import ChildContextError
from aws_durable_execution_sdk_python.execution import durable_execution
from aws_durable_execution_sdk_python.retries import RetryPresets, RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.types import StepContext
from probes import RawUppercaseSerDes, crash

NO_RETRY = StepConfig(retry_strategy=RetryPresets.none())
LARGE_BYTES = 300_000  # more than a checkpoint's 256 KB: the child is replayed for its result (ReplayChildren)


def retry_every_second(attempts: int) -> StepConfig:
    config = RetryStrategyConfig(
        max_attempts=attempts,
        initial_delay=Duration.from_seconds(1),
        backoff_rate=1,
        jitter_strategy=JitterStrategy.NONE,
    )
    return StepConfig(retry_strategy=create_retry_strategy(config))


def returns(value: Any) -> Any:
    def step(_: StepContext) -> Any:
        return value

    return step


@durable_execution
def basic(event: Any, context: DurableContext) -> Any:  # 3-1
    def child(ctx: DurableContext) -> Any:
        return ctx.step(returns(event))

    return context.run_in_child_context(child, name="basic")


@durable_execution
def with_name(event: Any, context: DurableContext) -> Any:  # 3-2
    return context.run_in_child_context(lambda ctx: ctx.step(returns(event["value"])), name=event["name"])


@durable_execution
def sequential_steps(event: Any, context: DurableContext) -> Any:  # 3-3
    def child(ctx: DurableContext) -> Any:
        first = ctx.step(returns(event))
        return ctx.step(returns(first))

    return context.run_in_child_context(child, name="two-steps")


def failing_child(ctx: DurableContext) -> Any:
    def fails(_: StepContext) -> Any:
        raise RuntimeError("the child's step fails")

    return ctx.step(fails, config=NO_RETRY)


@durable_execution
def error(event: Any, context: DurableContext) -> Any:  # 3-4
    return context.run_in_child_context(failing_child, name="failing")


@durable_execution
def error_caught(event: Any, context: DurableContext) -> Any:  # 3-5
    try:
        return context.run_in_child_context(failing_child, name="failing")
    except ChildContextError:
        return context.step(returns(event))


@durable_execution
def nested(event: Any, context: DurableContext) -> Any:  # 3-6
    def inner(ctx: DurableContext) -> Any:
        return ctx.step(returns(event))

    def outer(ctx: DurableContext) -> Any:
        ctx.step(returns(event))
        return ctx.run_in_child_context(inner, name="inner")

    return context.run_in_child_context(outer, name="outer")


@durable_execution
def step_retry(event: Any, context: DurableContext) -> Any:  # 3-7
    def flaky(step: StepContext) -> Any:
        if step.attempt == 1:
            raise RuntimeError("the first attempt fails")
        return event

    return context.run_in_child_context(lambda ctx: ctx.step(flaky, config=retry_every_second(2)), name="retried")


@durable_execution
def step_retry_exhaustion(event: Any, context: DurableContext) -> Any:  # 3-8
    def always_fails(step: StepContext) -> Any:
        raise RuntimeError(f"attempt {step.attempt} fails")

    return context.run_in_child_context(
        lambda ctx: ctx.step(always_fails, config=retry_every_second(2)), name="exhausted"
    )


@durable_execution
def replay_cached(event: Any, context: DurableContext) -> Any:  # 3-9
    result = context.run_in_child_context(lambda ctx: ctx.step(returns(event)), name="cached")
    context.wait(Duration.from_seconds(1))
    return result


@durable_execution
def step_and_wait_inside(event: Any, context: DurableContext) -> Any:  # 3-10
    def child(ctx: DurableContext) -> Any:
        ctx.step(returns(event))
        ctx.wait(Duration.from_seconds(1))
        return event

    return context.run_in_child_context(child, name="step-and-wait")


@durable_execution
def large_payload(event: Any, context: DurableContext) -> int:  # 3-11
    def child(ctx: DurableContext) -> str:
        # replay logging on: the body's second run (ReplayChildren) shows in the log
        ctx.logger.with_is_replaying(lambda: False).info(f"building the large result for {event}")
        small = ctx.step(returns("x"))
        return str(small) * LARGE_BYTES

    result = context.run_in_child_context(child, name="large")
    context.wait(Duration.from_seconds(1))
    return len(result)


@durable_execution
def interrupted(event: Any, context: DurableContext) -> Any:  # 3-12
    marker = Path(tempfile.gettempdir()) / f"conformance-3-12-{event}"

    def crashes_once(_: StepContext) -> Any:
        if not marker.exists():
            marker.touch()
            time.sleep(1)  # the StepStarted checkpoint (sent in the background) reaches the plane first
            crash()
        marker.unlink(missing_ok=True)
        return event

    return context.run_in_child_context(lambda ctx: ctx.step(crashes_once, config=NO_RETRY), name="interrupted")


@durable_execution
def wait_inside(event: Any, context: DurableContext) -> Any:  # 3-13
    def child(ctx: DurableContext) -> Any:
        ctx.wait(Duration.from_seconds(1))
        return event

    context.run_in_child_context(child, name="waits")
    return context.step(returns(event))


@durable_execution
def custom_serdes(event: Any, context: DurableContext) -> Any:  # 3-14
    config: ChildConfig[Any] = ChildConfig(serdes=RawUppercaseSerDes())
    return context.run_in_child_context(lambda ctx: ctx.step(returns(event)), name="uppercase", config=config)


@durable_execution
def error_without_step(event: Any, context: DurableContext) -> Any:  # 3-15
    def child(ctx: DurableContext) -> Any:
        raise RuntimeError("the child fails before any operation")

    return context.run_in_child_context(child, name="throws")


@durable_execution
def null_result(event: Any, context: DurableContext) -> Any:  # 3-16
    def child(ctx: DurableContext) -> None:
        return None

    return context.run_in_child_context(child, name="nothing")


@durable_execution
def logger_only(event: Any, context: DurableContext) -> Any:  # 3-17
    def child(ctx: DurableContext) -> Any:
        ctx.logger.with_is_replaying(lambda: False).info(f"in the child: {event}")
        return event

    result = context.run_in_child_context(child, name="logs")
    context.wait(Duration.from_seconds(1))
    return result


@durable_execution
def step_and_wait_inside_and_after(event: Any, context: DurableContext) -> Any:  # 3-18
    def child(ctx: DurableContext) -> Any:
        ctx.step(returns(event))
        ctx.wait(Duration.from_seconds(1))
        return event

    context.run_in_child_context(child, name="step-and-wait")
    result = context.step(returns(event))
    context.wait(Duration.from_seconds(1))
    return result
