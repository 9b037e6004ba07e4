"""One execution as `make executions` and the console list it: status, age and what it waits for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import Operation, OperationStatus, OperationType
from aws_durable_execution_sdk_python_testing.execution import Execution


def _stamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def waiting_for(execution: Execution) -> list[dict[str, Any]]:
    """What a running execution waits for: waits (until when), callbacks (their ids), step retries,
    chained invokes. Empty for a closed execution, or one that is being invoked with nothing pending."""
    if execution.is_complete:
        return []
    found: list[dict[str, Any]] = []
    for op in execution.operations:
        entry = _pending(op)
        if entry is not None:
            found.append({"operationId": op.operation_id, "name": op.name} | entry)
    return found


def _pending(op: Operation) -> dict[str, Any] | None:
    if op.operation_type is OperationType.WAIT and op.status is OperationStatus.STARTED:
        until = op.wait_details.scheduled_end_timestamp if op.wait_details else None
        return {"kind": "wait", "until": _stamp(until)}
    if op.operation_type is OperationType.CALLBACK and op.status is OperationStatus.STARTED:
        return {"kind": "callback", "callbackId": op.callback_details.callback_id if op.callback_details else None}
    if op.operation_type is OperationType.STEP and op.status is OperationStatus.PENDING:
        at = op.step_details.next_attempt_timestamp if op.step_details else None
        return {"kind": "retry", "until": _stamp(at)}
    if op.operation_type is OperationType.CHAINED_INVOKE and op.status is OperationStatus.STARTED:
        return {"kind": "invoke"}
    return None


def summarize(execution: Execution, now: datetime | None = None) -> dict[str, Any]:
    """The execution's ARN, name, function, status, start and end, age in seconds, what it waits for."""
    now = now or datetime.now(UTC)
    started = execution.get_operation_execution_started()
    start = started.start_timestamp
    status = execution.current_status().value
    if status == "RUNNING" and execution.is_paused:
        status = "PAUSED"
    return {
        "DurableExecutionArn": execution.durable_execution_arn,
        "DurableExecutionName": execution.start_input.execution_name,
        "FunctionName": execution.start_input.function_name,
        "Status": status,
        "StartTimestamp": _stamp(start),
        "EndTimestamp": _stamp(started.end_timestamp),
        "AgeSeconds": round((now - start).total_seconds(), 1) if start else None,
        "WaitingFor": waiting_for(execution),
    }
