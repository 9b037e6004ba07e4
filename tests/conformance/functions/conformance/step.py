"""The step suite's handlers (requirements/step/1-N.yaml), one per requirement: what each requirement's
`handler` and `invocations` describe, written with the SDK's step API."""

from __future__ import annotations

import contextlib
from typing import Any

from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig, StepSemantics
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.exceptions import StepError
from aws_durable_execution_sdk_python.execution import durable_execution
from aws_durable_execution_sdk_python.retries import (
    RetryDecision,
    RetryPresets,
    RetryStrategyConfig,
    create_retry_strategy,
)
from aws_durable_execution_sdk_python.types import StepContext
from probes import RawUppercaseSerDes, crash

NO_RETRY = StepConfig(retry_strategy=RetryPresets.none())


class TransientError(Exception):
    """An error a retry strategy can tell apart by its type (1-15, 1-16)."""


def fixed(seconds: int, attempts: int) -> StepConfig:
    """A retry strategy of `attempts` attempts in all, `seconds` apart, without jitter."""
    return StepConfig(
        retry_strategy=create_retry_strategy(
            RetryStrategyConfig(
                max_attempts=attempts,
                initial_delay=Duration.from_seconds(seconds),
                max_delay=Duration.from_seconds(seconds),
                backoff_rate=1,
                jitter_strategy=JitterStrategy.NONE,
            )
        )
    )


def greet(event: Any) -> Any:
    def greeting(_: StepContext) -> str:
        return f"Hello, {event}!"

    return greeting


@durable_execution
def basic(event: Any, context: DurableContext) -> Any:  # 1-1
    return context.step(greet(event))


@durable_execution
def with_name(event: Any, context: DurableContext) -> Any:  # 1-2
    return context.step(greet(event), name="custom_step_name")


@durable_execution
def sequential(event: Any, context: DurableContext) -> str:  # 1-3
    first = context.step(lambda _: "first")
    return context.step(lambda _: f"{first}_second")


@durable_execution
def complex_object(event: Any, context: DurableContext) -> dict[str, Any]:  # 1-4
    def build(_: StepContext) -> dict[str, Any]:
        return {"user": {"name": event["name"], "tags": list(event["tags"])}, "count": len(event["tags"])}

    return context.step(build)


@durable_execution
def null_result(event: Any, context: DurableContext) -> None:  # 1-5
    def nothing(_: StepContext) -> None:
        return None

    return context.step(nothing)


@durable_execution
def custom_serdes(event: Any, context: DurableContext) -> Any:  # 1-6
    return context.step(lambda _: event, config=StepConfig(serdes=RawUppercaseSerDes()))


@durable_execution
def with_logger(event: Any, context: DurableContext) -> str:  # 1-7
    def greeting(step: StepContext) -> str:
        step.logger.info(f"Greeting step started for: {event}")
        result = f"Hello, {event}!"
        step.logger.info(f"Greeting step completed with: {result}")
        return result

    return context.step(greeting)


@durable_execution
def step_then_wait(event: Any, context: DurableContext) -> str:  # 1-8
    result = context.step(lambda _: "computed")
    context.wait(Duration.from_seconds(2))
    return result


@durable_execution
def replay_skips_succeeded(event: Any, context: DurableContext) -> str:  # 1-9
    def cached(step: StepContext) -> str:
        step.logger.info("step executed")
        return "cached_value"

    result = context.step(cached)
    context.wait(Duration.from_seconds(1))
    return result


@durable_execution
def replay_rethrows_failed(event: Any, context: DurableContext) -> str:  # 1-10
    def failing(step: StepContext) -> str:
        step.logger.info("step executed")
        raise RuntimeError("the step fails")

    with contextlib.suppress(StepError):
        context.step(failing, config=NO_RETRY)
    context.wait(Duration.from_seconds(1))
    return "caught"


@durable_execution
def retry_then_succeed(event: Any, context: DurableContext) -> str:  # 1-11
    def unreliable(step: StepContext) -> str:
        if step.attempt == 1:
            raise RuntimeError("the first attempt fails")
        return "Operation succeeded"

    return context.step(unreliable, config=fixed(1, 2))


@durable_execution
def retry_exhaustion(event: Any, context: DurableContext) -> str:  # 1-12
    def always_fail(step: StepContext) -> str:
        raise RuntimeError(f"attempt {step.attempt} fails")

    return context.step(always_fail, config=fixed(1, 4))


@durable_execution
def default_retry(event: Any, context: DurableContext) -> str:  # 1-13
    def unreliable(step: StepContext) -> str:
        if step.attempt < 3:
            raise RuntimeError(f"attempt {step.attempt} fails")
        return "third time lucky"

    return context.step(unreliable)


@durable_execution
def retry_custom_config(event: Any, context: DurableContext) -> str:  # 1-14
    def unreliable(step: StepContext) -> str:
        if step.attempt < 3:
            raise RuntimeError(f"attempt {step.attempt} fails")
        return "third time lucky"

    strategy = create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=5,
            initial_delay=Duration.from_seconds(2),
            max_delay=Duration.from_minutes(1),
            backoff_rate=3,
            jitter_strategy=JitterStrategy.NONE,
        )
    )
    return context.step(unreliable, config=StepConfig(retry_strategy=strategy))


def retry_on_transient(error: Exception, attempts_made: int) -> RetryDecision:
    if isinstance(error, TransientError) and attempts_made < 3:
        return RetryDecision.retry(Duration.from_seconds(1))
    return RetryDecision.no_retry()


def no_retry_on_transient(error: Exception, attempts_made: int) -> RetryDecision:
    if isinstance(error, TransientError):
        return RetryDecision.no_retry()
    return RetryDecision.retry(Duration.from_seconds(1))


@durable_execution
def retry_specific_exception(event: Any, context: DurableContext) -> str:  # 1-15
    def transient_once(step: StepContext) -> str:
        if step.attempt == 1:
            raise TransientError("a transient failure")
        return "recovered"

    return context.step(transient_once, config=StepConfig(retry_strategy=retry_on_transient))


@durable_execution
def non_retryable(event: Any, context: DurableContext) -> str:  # 1-16
    def transient(_: StepContext) -> str:
        raise TransientError("not retried")

    return context.step(transient, config=StepConfig(retry_strategy=no_retry_on_transient))


@durable_execution
def at_most_once_no_retry(event: Any, context: DurableContext) -> str:  # 1-17
    def flaky(step: StepContext) -> str:
        step.logger.info(f"at most once: {event}")
        crash()
        return "never"

    config = StepConfig(retry_strategy=RetryPresets.none(), step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY)
    return context.step(flaky, name="at_most_once_flaky_step", config=config)


@durable_execution
def at_most_once_with_retry(event: Any, context: DurableContext) -> str:  # 1-18
    def flaky(step: StepContext) -> str:
        step.logger.info(f"at most once, attempt {step.attempt}: {event}")
        if step.attempt == 1:
            crash()
        return "succeeded on second attempt"

    config = fixed(1, 2)
    config = StepConfig(retry_strategy=config.retry_strategy, step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY)
    return context.step(flaky, config=config)


@durable_execution
def with_error(event: Any, context: DurableContext) -> str:  # 1-19
    def failing(_: StepContext) -> str:
        raise RuntimeError("the step always fails")

    return context.step(failing, config=NO_RETRY)


@durable_execution
def error_caught(event: Any, context: DurableContext) -> str:  # 1-20
    def failing(_: StepContext) -> str:
        raise RuntimeError("the step fails")

    try:
        return context.step(failing, config=NO_RETRY)
    except StepError:
        return context.step(lambda _: "fallback_result")
