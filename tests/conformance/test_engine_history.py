"""What the engine's history has that AWS's runner (aws-durable-execution-sdk-python-testing, which the plane
embeds) leaves out of the history Lambda writes, each shown on its own, in process (the engine's executor
on the runner's in-process invoker, no plane): the smallest workflow that shows it, and the requirements
of tests/conformance that need it. The plane adds each (lambda_local/durable/history.py; B also executor.py's
`_retry_after_error`, invoker.py, store.py):

- an InvocationCompleted event with its InvocationCompletedDetails (every requirement lists them);
- B: an InvocationCompleted event for an invocation that failed, with the function's error (the runtime
  died: step 1-17, 1-18; child 3-12);
- C: a StepSucceeded after retries with its RetryDetails (step 1-11, 1-13, 1-14, 1-15, 1-18; child 3-7);
- D: a CallbackStarted with the Timeout/HeartbeatTimeout it was created with (callback 4-3, 4-4, 4-5, 4-8,
  4-11, 4-14; wait_for_callback 7-5, 7-12, 7-13, 7-14);
- E: a ChainedInvokeStarted with ExecutedVersion and TenantId (every invoke requirement; TenantId: 5-8);
- F: a wait_for_condition poll's StepSucceeded with the state it checkpointed (wait_for_condition 6-1, 6-3,
  6-4, 6-5, 6-12, 6-13).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_durable_execution_sdk_python.config import CallbackConfig, Duration, InvokeConfig, JitterStrategy, StepConfig
from aws_durable_execution_sdk_python.context import DurableContext, StepContext
from aws_durable_execution_sdk_python.execution import durable_execution
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.types import WaitForConditionCheckContext
from aws_durable_execution_sdk_python.waits import WaitForConditionConfig, WaitStrategyConfig, create_wait_strategy
from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput

from tests.support.durable_engine import ACCOUNT, InProcessEngine


class Engine(InProcessEngine):
    """The plane's executor on its store, invoking `handler` in this process."""

    def start(self, event: Any = None) -> str:
        started = self.executor.start_execution(
            StartDurableExecutionInput(
                account_id=ACCOUNT,
                function_name="probe",
                function_qualifier="$LATEST",
                execution_name=f"run-{time.monotonic_ns()}",
                execution_timeout_seconds=60,
                execution_retention_period_days=1,
                input=json.dumps(event),
            )
        )
        assert started.execution_arn is not None
        return started.execution_arn

    def events(self, arn: str) -> list[dict[str, Any]]:
        history = self.executor.get_execution_history(arn, include_execution_data=True)
        return [event.to_dict() for event in history.events]

    def until(self, predicate: Callable[[], Any], what: str, timeout: float = 30) -> Any:
        return super().until(predicate, what, timeout)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Callable[[Callable[..., Any]], Engine]]:
    made: list[Engine] = []

    def make(handler: Callable[..., Any]) -> Engine:
        made.append(Engine(tmp_path / f"durable-{len(made)}", handler))
        return made[-1]

    yield make
    for running in made:
        running.stop()


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["EventType"] == kind]


@durable_execution
def one_step(event: Any, context: DurableContext) -> str:
    return context.step(lambda _: "done")


def test_an_invocation_completed_event_has_its_details(engine):  # type: ignore[no-untyped-def]
    running = engine(one_step)
    arn = running.start()
    running.until(lambda: arn in running.closed, "the execution to close")
    (completed,) = of_type(running.events(arn), "InvocationCompleted")
    assert set(completed.get("InvocationCompletedDetails", {})) >= {"StartTimestamp", "EndTimestamp", "RequestId"}


def test_an_invocation_that_failed_is_an_invocation_completed_event_with_its_error(engine):  # type: ignore[no-untyped-def]
    calls: list[int] = []

    def dies_once(event: Any, context: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Runtime exited with error: exit status 1")  # what a crashed runtime's Invoke gives
        return one_step(event, context)

    running = engine(dies_once)
    arn = running.start()
    running.until(lambda: arn in running.closed, "the execution to close after the invocation is retried")
    completed = of_type(running.events(arn), "InvocationCompleted")
    assert len(completed) == 2, completed
    error = completed[0].get("InvocationCompletedDetails", {}).get("Error", {}).get("Payload", {})
    assert error.get("ErrorType") == "RuntimeError", completed[0]  # the function's own error, not a wrapper
    assert "Error" not in completed[1]["InvocationCompletedDetails"], completed[1]


@durable_execution
def succeeds_on_the_second_attempt(event: Any, context: DurableContext) -> str:
    def flaky(step: StepContext) -> str:
        if step.attempt == 1:
            raise RuntimeError("the first attempt fails")
        return "done"

    one_second = RetryStrategyConfig(
        max_attempts=2, initial_delay=Duration.from_seconds(1), backoff_rate=1, jitter_strategy=JitterStrategy.NONE
    )
    return context.step(flaky, config=StepConfig(retry_strategy=create_retry_strategy(one_second)))


def test_a_step_that_succeeds_on_a_retry_says_which_attempt_it_was(engine):  # type: ignore[no-untyped-def]
    running = engine(succeeds_on_the_second_attempt)
    arn = running.start()
    running.until(lambda: arn in running.closed, "the execution to close")
    (succeeded,) = of_type(running.events(arn), "StepSucceeded")
    assert succeeded["StepSucceededDetails"].get("RetryDetails", {}).get("CurrentAttempt") == 2, succeeded


@durable_execution
def waits_for_a_callback(event: Any, context: DurableContext) -> Any:
    config = CallbackConfig(timeout=Duration.from_seconds(50), heartbeat_timeout=Duration.from_seconds(40))
    return context.create_callback(name="approval", config=config).result()


def test_a_callback_started_event_has_the_timeouts_it_was_created_with(engine):  # type: ignore[no-untyped-def]
    running = engine(waits_for_a_callback)
    arn = running.start()
    started = running.until(lambda: of_type(running.events(arn), "CallbackStarted"), "the callback")
    details = started[0]["CallbackStartedDetails"]
    assert (details.get("Timeout"), details.get("HeartbeatTimeout")) == (50, 40), details


@durable_execution
def polls_twice(event: Any, context: DurableContext) -> Any:
    def count(state: int, _: WaitForConditionCheckContext) -> int:
        return state + 1

    strategy = WaitStrategyConfig(
        should_continue_polling=lambda n: n < 2,
        initial_delay=Duration.from_seconds(1),
        backoff_rate=1,
        jitter_strategy=JitterStrategy.NONE,
    )
    return context.wait_for_condition(count, WaitForConditionConfig(create_wait_strategy(strategy), initial_state=0))


def test_a_wait_for_condition_poll_has_the_state_it_checkpointed(engine):  # type: ignore[no-untyped-def]
    running = engine(polls_twice)
    arn = running.start()
    running.until(lambda: arn in running.closed, "the execution to close")
    succeeded = of_type(running.events(arn), "StepSucceeded")
    assert [e["StepSucceededDetails"].get("Result", {}).get("Payload") for e in succeeded] == ["1", "2"], succeeded


@durable_execution
def invokes_a_version_for_a_tenant(event: Any, context: DurableContext) -> Any:
    return context.invoke("target:7", {"n": 1}, name="chained", config=InvokeConfig(tenant_id="tenant-1"))


def test_a_chained_invoke_started_event_has_the_version_run_and_the_tenant(engine):  # type: ignore[no-untyped-def]
    running = engine(invokes_a_version_for_a_tenant)
    arn = running.start()
    started = running.until(lambda: of_type(running.events(arn), "ChainedInvokeStarted"), "the chained invoke")
    details = started[0]["ChainedInvokeStartedDetails"]
    assert (details.get("ExecutedVersion"), details.get("TenantId")) == ("7", "tenant-1"), details
