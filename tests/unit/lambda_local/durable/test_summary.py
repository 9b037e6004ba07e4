"""One execution as the listings show it: status (PAUSED for a paused one), age, what it waits for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aws_durable_execution_sdk_python.lambda_service import (
    CallbackDetails,
    Operation,
    OperationStatus,
    OperationType,
    StepDetails,
    WaitDetails,
)
from aws_durable_execution_sdk_python_testing.execution import Execution
from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput

from lambda_local.durable.summary import summarize, waiting_for

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def execution() -> Execution:
    start = StartDurableExecutionInput("1" * 12, "fn", "$LATEST", "order-7", 60, 1, invocation_id="run")
    made = Execution("arn-1", start, [])
    made.start(now=NOW - timedelta(seconds=90))
    made.operations += [
        Operation("w", OperationType.WAIT, OperationStatus.STARTED, name="pause",
                  wait_details=WaitDetails(scheduled_end_timestamp=NOW + timedelta(hours=1))),
        Operation("c", OperationType.CALLBACK, OperationStatus.STARTED, name="approval",
                  callback_details=CallbackDetails(callback_id="cb-1")),
        Operation("s", OperationType.STEP, OperationStatus.PENDING, name="charge",
                  step_details=StepDetails(next_attempt_timestamp=NOW + timedelta(seconds=5))),
        Operation("i", OperationType.CHAINED_INVOKE, OperationStatus.STARTED, name="chained"),
        Operation("d", OperationType.STEP, OperationStatus.SUCCEEDED, name="done"),
    ]  # fmt: skip
    return made


def test_a_running_execution_says_what_it_waits_for_and_how_old_it_is():  # type: ignore[no-untyped-def]
    row = summarize(execution(), now=NOW)
    assert (row["Status"], row["AgeSeconds"], row["DurableExecutionName"], row["FunctionName"]) == (
        "RUNNING",
        90.0,
        "order-7",
        "fn",
    )
    assert row["StartTimestamp"] == "2026-11-20T11:58:30Z" and row["EndTimestamp"] is None
    assert [(w["kind"], w["name"]) for w in row["WaitingFor"]] == [
        ("wait", "pause"),
        ("callback", "approval"),
        ("retry", "charge"),
        ("invoke", "chained"),
    ]
    assert row["WaitingFor"][0]["until"] == "2026-11-20T13:00:00Z"
    assert row["WaitingFor"][1]["callbackId"] == "cb-1"


def test_a_paused_execution_is_paused_and_a_closed_one_waits_for_nothing():  # type: ignore[no-untyped-def]
    paused = execution()
    paused.pause()
    assert summarize(paused, now=NOW)["Status"] == "PAUSED"
    closed = execution()
    closed.complete_success("1", now=NOW)
    assert waiting_for(closed) == []
    assert summarize(closed, now=NOW)["Status"] == "SUCCEEDED"
