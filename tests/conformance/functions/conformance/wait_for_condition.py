"""The wait_for_condition suite's handlers (requirements/wait_for_condition/6-N.yaml)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_durable_execution_sdk_python.config import Duration, JitterStrategy
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.execution import durable_execution
from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext
from aws_durable_execution_sdk_python.types import WaitForConditionCheckContext
from aws_durable_execution_sdk_python.waits import (
    WaitForConditionConfig,
    WaitForConditionDecision,
    WaitStrategyConfig,
    create_wait_strategy,
)


def polling(
    until: Callable[[Any], bool], initial: Any, seconds: int = 1, attempts: int = 60, serdes: SerDes[Any] | None = None
) -> WaitForConditionConfig[Any]:
    """Poll every `seconds` (no jitter, no backoff) while `until` is false, at most `attempts` times."""
    strategy: Callable[[Any, int], WaitForConditionDecision] = create_wait_strategy(
        WaitStrategyConfig(
            should_continue_polling=lambda state: not until(state),
            max_attempts=attempts,
            initial_delay=Duration.from_seconds(seconds),
            backoff_rate=1,
            jitter_strategy=JitterStrategy.NONE,
        )
    )
    return WaitForConditionConfig(wait_strategy=strategy, initial_state=initial, serdes=serdes)


def increment(state: int, _: WaitForConditionCheckContext) -> int:
    return state + 1


@durable_execution
def basic(event: Any, context: DurableContext) -> Any:  # 6-1
    return context.wait_for_condition(increment, polling(lambda n: n >= event, 0))


@durable_execution
def immediate(event: Any, context: DurableContext) -> Any:  # 6-2
    return context.wait_for_condition(lambda state, _: state, polling(lambda n: n >= 5, 5))


@durable_execution
def with_name(event: Any, context: DurableContext) -> Any:  # 6-3
    return context.wait_for_condition(increment, polling(lambda n: n >= event, 0), name="poll-status")


@durable_execution
def initial_state(event: Any, context: DurableContext) -> Any:  # 6-4
    return context.wait_for_condition(increment, polling(lambda n: n >= event, 5))


@durable_execution
def fixed_delay(event: Any, context: DurableContext) -> Any:  # 6-5
    return context.wait_for_condition(increment, polling(lambda n: n >= event, 0, seconds=2))


@durable_execution
def max_attempts(event: Any, context: DurableContext) -> Any:  # 6-6
    return context.wait_for_condition(increment, polling(lambda n: False, 0, attempts=3))


def check_fails(state: Any, _: WaitForConditionCheckContext) -> Any:
    raise RuntimeError("the check fails")


@durable_execution
def check_error(event: Any, context: DurableContext) -> Any:  # 6-7
    return context.wait_for_condition(check_fails, polling(lambda state: True, None))


@durable_execution
def check_error_caught(event: Any, context: DurableContext) -> Any:  # 6-8
    try:
        return context.wait_for_condition(check_fails, polling(lambda state: True, None))
    except Exception:  # the check's error, as the SDK raises it once recorded
        return "recovered"


@durable_execution
def object_state(event: Any, context: DurableContext) -> Any:  # 6-9
    def check(state: dict[str, Any], _: WaitForConditionCheckContext) -> dict[str, Any]:
        attempts = state["attempts"] + 1
        return {"status": "DONE" if attempts >= 2 else "PENDING", "attempts": attempts}

    initial = {"status": "PENDING", "attempts": 0}
    return context.wait_for_condition(check, polling(lambda state: state["status"] != "PENDING", initial))


@durable_execution
def null_state(event: Any, context: DurableContext) -> Any:  # 6-10
    def stop_at_once(state: Any, attempts: int) -> WaitForConditionDecision:
        return WaitForConditionDecision.stop_polling()

    config = WaitForConditionConfig(wait_strategy=stop_at_once, initial_state=None)
    return context.wait_for_condition(lambda state, _: None, config)


class Reversed(SerDes[str]):
    """A state string checkpointed reversed, and read back the right way round."""

    def serialize(self, value: str, serdes_context: SerDesContext) -> str:
        return value[::-1]

    def deserialize(self, data: str, serdes_context: SerDesContext) -> str:
        return data[::-1]


@durable_execution
def custom_serdes(event: Any, context: DurableContext) -> Any:  # 6-11
    config = polling(lambda state: len(state) >= 2, "", serdes=Reversed())
    return context.wait_for_condition(lambda state, _: state + "x", config)


@durable_execution
def feeds_a_step(event: Any, context: DurableContext) -> Any:  # 6-12
    final = context.wait_for_condition(increment, polling(lambda n: n >= event, 0))
    return context.step(lambda _: final * 10)


@durable_execution
def two_sequential(event: Any, context: DurableContext) -> Any:  # 6-13
    first = context.wait_for_condition(increment, polling(lambda n: n >= 2, 0))
    return context.wait_for_condition(increment, polling(lambda n: n >= 4, first))
