"""What Lambda's execution history has and the runner's (`Executor.get_execution_history`) leaves out, added
to the runner's events (LocalExecutor.get_execution_history): each fix names the requirements of AWS's
conformance suites (tests/conformance) that need it.

The runner makes one event per checkpoint update, stamped with the update's time, and passes the update
itself to the event's factory only for RETRY and FAIL (and a chained invoke's START): what the SDK sent with
a START or a SUCCEED never reaches the event. Each event is matched here to its update again by operation,
event type and timestamp, and the missing detail taken from it:

- C: a StepSucceeded has its RetryDetails.CurrentAttempt (the runner counts attempts for StepFailed only;
  Lambda's StepSucceededDetails requires RetryDetails): step 1-11, 1-13, 1-14, 1-15, 1-18; child 3-7.
- D: a CallbackStarted has the Timeout and HeartbeatTimeout of its START's CallbackOptions: callback 4-3,
  4-4, 4-5, 4-8, 4-11, 4-14; wait_for_callback 7-5, 7-12, 7-13, 7-14.
- E: a ChainedInvokeStarted has ExecutedVersion (`$LATEST`, or the target's version: the runner's
  `executed_version`) and the TenantId of its START's ChainedInvokeOptions: every invoke requirement (5-8
  for TenantId).
- F: a wait_for_condition poll's StepSucceeded (a RETRY without error) has the state it checkpointed as
  its Result.Payload: wait_for_condition 6-1, 6-3, 6-4, 6-5, 6-12, 6-13.
- B: an InvocationCompleted of an invocation that failed has its Error (the function's: `Runtime.ExitError`
  for a runtime that exited), which the runner's model has no field for: step 1-17, 1-18; child 3-12.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import ErrorObject, OperationAction, OperationUpdate
from aws_durable_execution_sdk_python_testing.child_dispatcher import parse_function_target
from aws_durable_execution_sdk_python_testing.execution import Execution
from aws_durable_execution_sdk_python_testing.model import (
    CallbackStartedDetails,
    ChainedInvokeStartedDetails,
    EventError,
    EventResult,
    InvocationCompletedDetails,
    RetryDetails,
    executed_version,
)
from aws_durable_execution_sdk_python_testing.model import Event as HistoryEvent


@dataclasses.dataclass(frozen=True)
class ChainedInvokeStartedWithVersion(ChainedInvokeStartedDetails):
    """E: the runner's details with Lambda's ExecutedVersion (botocore's ChainedInvokeStartedDetails has it)."""

    executed_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        result = super().to_dict()
        if self.executed_version is not None:
            result["ExecutedVersion"] = self.executed_version
        return result


@dataclasses.dataclass(frozen=True)
class FailedInvocationDetails(InvocationCompletedDetails):
    """B: the runner's details with Lambda's Error (botocore's InvocationCompletedDetails has it)."""

    error: EventError | None = None

    def to_dict(self) -> dict[str, Any]:
        result = super().to_dict()
        if self.error is not None:
            result["Error"] = self.error.to_dict()
        return result


Key = tuple[str, str, datetime]  # operation id, event type, timestamp: the update an event was made from


@dataclasses.dataclass(frozen=True)
class Source:
    """The update an event was made from, and which attempt of its operation it was in."""

    update: OperationUpdate
    attempt: int


def sources(execution: Execution) -> dict[Key, Source]:
    """Each update that makes an event the fixes amend, by the key of that event (as the runner makes them)."""
    found: dict[Key, Source] = {}
    attempts: dict[str, int] = {}
    for update, stamp in zip(execution.updates, execution.update_timestamps, strict=False):
        op = update.operation_id
        if update.action is OperationAction.START:
            attempts[op] = attempts.get(op, 0) + 1  # as the runner counts a step's attempts
            found[(op, "CallbackStarted", stamp)] = Source(update, attempts[op])
            found[(op, "ChainedInvokeStarted", stamp)] = Source(update, attempts[op])
        elif update.action is OperationAction.SUCCEED or (update.action is OperationAction.RETRY and not update.error):
            found[(op, "StepSucceeded", stamp)] = Source(update, attempts.get(op, 1))
    return found


def amend(
    events: list[HistoryEvent],
    execution: Execution,
    errors: Mapping[str, ErrorObject],
    include_execution_data: bool,  # noqa: FBT001 - the runner's flag
) -> list[HistoryEvent]:
    """The runner's events of `execution` with what Lambda's have (fixes B to F); `errors`: the error of each
    failed invocation, by request id."""
    found = sources(execution)
    amended: list[HistoryEvent] = []
    for event in events:
        source = (
            found.get((event.operation_id, event.event_type, event.event_timestamp)) if event.operation_id else None
        )
        if source is not None:
            event = _from_update(event, source, include_execution_data)  # noqa: PLW2901
        elif (details := event.invocation_completed_details) is not None and (
            error := errors.get(details.request_id)
        ) is not None:
            # B (step 1-17, 1-18; child 3-12): the payload as the runner gives other errors' (Truncated without
            # execution data)
            failed = FailedInvocationDetails(
                start_timestamp=details.start_timestamp,
                end_timestamp=details.end_timestamp,
                request_id=details.request_id,
                error=EventError(payload=error, truncated=not include_execution_data),
            )
            event = dataclasses.replace(event, invocation_completed_details=failed)  # noqa: PLW2901
        amended.append(event)
    return amended


def _from_update(event: HistoryEvent, source: Source, include_execution_data: bool) -> HistoryEvent:  # noqa: FBT001
    update = source.update
    if (step := event.step_succeeded_details) is not None:
        if step.retry_details is None:
            # C (step 1-11, 1-13, 1-14, 1-15, 1-18; child 3-7): which attempt succeeded
            step = dataclasses.replace(step, retry_details=RetryDetails(current_attempt=source.attempt))
        if update.action is OperationAction.RETRY and update.payload is not None and include_execution_data:
            # F (wait_for_condition 6-1, 6-3, 6-4, 6-5, 6-12, 6-13): a poll's state, as checkpointed
            step = dataclasses.replace(step, result=EventResult(payload=update.payload, truncated=False))
        return dataclasses.replace(event, step_succeeded_details=step)
    if (callback := event.callback_started_details) is not None and (options := update.callback_options) is not None:
        # D (callback 4-3, 4-4, 4-5, 4-8, 4-11, 4-14; wait_for_callback 7-5, 7-12, 7-13, 7-14): 0 is none
        callback = CallbackStartedDetails(
            callback_id=callback.callback_id,
            timeout=options.timeout_seconds or None,
            heartbeat_timeout=options.heartbeat_timeout_seconds or None,
        )
        return dataclasses.replace(event, callback_started_details=callback)
    if (invoke := event.chained_invoke_started_details) is not None:
        # E (invoke 5-1 to 5-16; TenantId: 5-8): the version Lambda ran, the tenant the SDK asked for
        invoke_options = update.chained_invoke_options
        version = executed_version(_qualifier(invoke.function_name))
        versioned = ChainedInvokeStartedWithVersion(
            function_name=invoke.function_name,
            tenant_id=invoke.tenant_id or (invoke_options.tenant_id if invoke_options else None),
            input=invoke.input,
            durable_execution_arn=invoke.durable_execution_arn,
            executed_version=version,
        )
        return dataclasses.replace(event, chained_invoke_started_details=versioned)
    return event


def _qualifier(function_name: str | None) -> str | None:
    """A chained invoke's target's qualifier (none for a name the runner could not parse)."""
    if not function_name:
        return None
    try:
        return parse_function_target(function_name).qualifier
    except ValueError:
        return None
