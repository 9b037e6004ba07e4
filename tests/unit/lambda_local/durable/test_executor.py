"""The runner's executor with what a plane that restarts needs: Lambda's ARNs, recovery of what a killed
plane left (waits, waits that came due meanwhile, callbacks, the execution's timeout), time control and
deletion. The probe workflow (tests/support/durable) runs in this process on the runner's in-process
invoker; a "kill" stops a runner's threads and keeps only its store, as a SIGKILL of the plane does."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from aws_durable_execution_sdk_python.lambda_service import OperationStatus, OperationType
from aws_durable_execution_sdk_python_testing.exceptions import (
    ExecutionConflictException,
    ResourceNotFoundException,
)
from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput

from lambda_local.durable.executor import execution_arn
from tests.support.durable_engine import ACCOUNT
from tests.unit.lambda_local.durable.conftest import Runner

# botocore's DurableExecutionArn pattern (the Lambda service model)
ARN_PATTERN = re.compile(
    r"arn:([a-zA-Z0-9-]+):lambda:([a-zA-Z0-9-]+):(\d{12}):function:([a-zA-Z0-9_-]+):(\$LATEST(?:\.PUBLISHED)?|[0-9]+)"
    r"/durable-execution/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)"
)


def start(runner: Runner, event: dict[str, object], timeout_s: int = 900, name: str = "run-1") -> str:
    started = runner.executor.start_execution(
        StartDurableExecutionInput(
            account_id=ACCOUNT,
            function_name="durable-probe",
            function_qualifier="$LATEST",
            execution_name=name,
            execution_timeout_seconds=timeout_s,
            execution_retention_period_days=1,
            input=json.dumps(event),
        )
    )
    assert started.execution_arn is not None
    return started.execution_arn


def pending(runner: Runner, arn: str, kind: OperationType) -> list[object]:
    status = OperationStatus.STARTED
    return [op for op in runner.store.load(arn).operations if op.operation_type is kind and op.status is status]


def test_an_execution_has_lambdas_arn_and_the_plane_hears_when_it_closes(runners):  # type: ignore[no-untyped-def]
    runner = runners()
    arn = start(runner, {"steps": ["reserve", "charge"]})
    assert ARN_PATTERN.fullmatch(arn), arn
    assert arn.startswith(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:durable-probe:$LATEST/durable-execution/run-1/")
    runner.until(lambda: arn in runner.closed, "the execution to close")
    execution = runner.store.load(arn)
    assert execution.current_status().value == "SUCCEEDED"
    assert json.loads(execution.result.result) == {"steps": ["reserve done", "charge done"], "approval": None,
                                                   "invoked": None}  # fmt: skip


def test_execution_arn_reports_the_executed_version():  # type: ignore[no-untyped-def]
    assert execution_arn("eu-west-1", ACCOUNT, "f", "7", "n", "id").endswith(":function:f:7/durable-execution/n/id")
    assert ":function:f:$LATEST/" in execution_arn("eu-west-1", ACCOUNT, "f", "live", "n", "id")  # an alias


def test_a_wait_of_an_hour_is_resumed_now_by_time_control(runners):  # type: ignore[no-untyped-def]
    runner = runners()
    arn = start(runner, {"steps": ["a"], "wait_s": 3600})
    (wait,) = runner.until(lambda: pending(runner, arn, OperationType.WAIT), "the wait")
    assert runner.executor.resume_now(arn) == [wait.operation_id]
    runner.until(lambda: runner.status(arn) == "SUCCEEDED", "the execution to succeed")
    with pytest.raises(ExecutionConflictException):  # closed: nothing to resume
        runner.executor.resume_now(arn)


def test_time_control_refuses_an_execution_with_nothing_pending_and_an_unknown_one(runners):  # type: ignore[no-untyped-def]
    runner = runners()
    arn = start(runner, {"callback": True})
    runner.until(lambda: pending(runner, arn, OperationType.CALLBACK), "the callback")
    with pytest.raises(ExecutionConflictException, match="no wait, step retry or callback with a timeout"):
        runner.executor.resume_now(arn)
    with pytest.raises(ExecutionConflictException, match="operation nope"):
        runner.executor.resume_now(arn, "nope")
    with pytest.raises(ResourceNotFoundException):
        runner.executor.resume_now(arn.replace("run-1", "run-2"))


def test_time_control_brings_a_callbacks_timeout_now_and_the_workflow_sees_it_timed_out(runners):  # type: ignore[no-untyped-def]
    runner = runners()
    arn = start(runner, {"callback": True, "callback_timeout_s": 172800})  # a supplier's two days
    (callback,) = runner.until(lambda: pending(runner, arn, OperationType.CALLBACK), "the callback")
    assert runner.executor.resume_now(arn) == [callback.operation_id]
    runner.until(lambda: runner.status(arn) == "SUCCEEDED", "the execution to go on")
    assert json.loads(runner.store.load(arn).result.result)["approval"] == "timed out"
    (ended,) = [op for op in runner.store.load(arn).operations if op.operation_type is OperationType.CALLBACK]
    assert ended.status is OperationStatus.TIMED_OUT


def test_a_killed_planes_wait_is_resumed_by_the_next(runners):  # type: ignore[no-untyped-def]
    first = runners()
    arn = start(first, {"wait_s": 3600})
    first.until(lambda: pending(first, arn, OperationType.WAIT), "the wait")
    first.stop()  # the timers go with the process; the store stays
    second = runners()
    assert second.executor.recover() == 1
    second.executor.resume_now(arn)
    second.until(lambda: second.status(arn) == "SUCCEEDED", "the execution to succeed")


def test_a_wait_that_came_due_while_no_plane_ran_runs_at_the_next_start(runners):  # type: ignore[no-untyped-def]
    first = runners()
    arn = start(first, {"steps": ["before"], "wait_s": 3600})
    first.until(lambda: pending(first, arn, OperationType.WAIT), "the wait")
    first.stop()
    execution = first.store.load(arn)  # the hour passes while no plane runs
    for i, op in enumerate(execution.operations):
        if op.operation_type is OperationType.WAIT:
            past = datetime.now(UTC) - timedelta(seconds=1)
            execution.operations[i] = replace(op, wait_details=replace(op.wait_details, scheduled_end_timestamp=past))
    first.store.save(execution)
    second = runners()
    assert second.executor.recover() == 1
    second.until(lambda: second.status(arn) == "SUCCEEDED", "the execution to succeed without time control")


def test_a_callback_sent_after_a_restart_resumes_its_execution(runners):  # type: ignore[no-untyped-def]
    first = runners()
    arn = start(first, {"callback": True})
    (callback,) = first.until(lambda: pending(first, arn, OperationType.CALLBACK), "the callback")
    first.stop()
    second = runners()
    second.executor.recover()
    second.executor.send_callback_success(callback.callback_details.callback_id, b'"approved"')
    second.until(lambda: second.status(arn) == "SUCCEEDED", "the execution to succeed")
    assert json.loads(second.store.load(arn).result.result)["approval"] == '"approved"'


def test_an_execution_timeout_that_passed_while_no_plane_ran_ends_it_at_the_next_start(runners):  # type: ignore[no-untyped-def]
    first = runners()
    arn = start(first, {"callback": True}, timeout_s=60)
    first.until(lambda: pending(first, arn, OperationType.CALLBACK), "the callback")
    first.stop()
    execution = first.store.load(arn)
    began = execution.operations[0]
    execution.operations[0] = replace(began, start_timestamp=datetime.now(UTC) - timedelta(seconds=61))
    first.store.save(execution)
    second = runners()
    second.executor.recover()
    second.until(lambda: second.status(arn) == "TIMED_OUT", "the execution to time out")
    second.until(lambda: arn in second.closed, "the plane to hear it closed")  # told just after the store


def test_only_a_closed_execution_is_deleted_and_then_it_is_gone(runners):  # type: ignore[no-untyped-def]
    runner = runners()
    arn = start(runner, {"callback": True})
    runner.until(lambda: pending(runner, arn, OperationType.CALLBACK), "the callback")
    with pytest.raises(ExecutionConflictException, match="RUNNING"):
        runner.executor.delete_execution(arn)
    runner.executor.stop_execution(arn)
    assert runner.status(arn) == "STOPPED"
    runner.executor.delete_execution(arn)
    with pytest.raises(ResourceNotFoundException):
        runner.executor.get_execution(arn)
    with pytest.raises(ResourceNotFoundException):
        runner.executor.delete_execution(arn)


def test_a_paused_execution_is_not_invoked_until_resumed(runners):  # type: ignore[no-untyped-def]
    runner = runners()
    arn = start(runner, {"wait_s": 3600})
    runner.until(lambda: pending(runner, arn, OperationType.WAIT), "the wait")
    runner.executor.pause(arn)
    runner.executor.resume_now(arn)  # the wait completes, but the paused execution's invocation is held back
    runner.until(lambda: runner.store.load(arn).has_deferred_invocation, "the invocation to be held back")
    assert runner.status(arn) == "RUNNING"
    runner.executor.resume_execution(arn)
    runner.until(lambda: runner.status(arn) == "SUCCEEDED", "the execution to succeed")


def test_a_chained_invoke_whose_answer_died_with_the_plane_is_dispatched_again(runners):  # type: ignore[no-untyped-def]
    from aws_durable_execution_sdk_python.lambda_service import (
        ChainedInvokeOptions,
        Operation,
        OperationAction,
        OperationUpdate,
    )

    first = runners()
    arn = start(first, {"callback": True})
    first.until(lambda: pending(first, arn, OperationType.CALLBACK), "the callback")
    first.stop()
    execution = first.store.load(arn)  # as if the plane died while a plain target ran for it
    execution.operations.append(Operation("inv", OperationType.CHAINED_INVOKE, OperationStatus.STARTED, name="bill"))
    execution.updates.append(
        OperationUpdate(
            "inv",
            OperationType.CHAINED_INVOKE,
            OperationAction.START,
            payload='{"value": 2}',
            chained_invoke_options=ChainedInvokeOptions(function_name="billing"),
        )
    )
    first.store.save(execution)
    second = runners()
    dispatched: list[tuple[object, ...]] = []
    second.executor.on_chained_invoke_started = lambda *args: dispatched.append(args)  # type: ignore[method-assign]
    second.executor.recover()
    assert dispatched == [(arn, "inv", "billing", None, '{"value": 2}')]
