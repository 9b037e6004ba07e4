"""AWS's executor (`aws_durable_execution_sdk_python_testing.executor.Executor`) with what a plane that
restarts needs and the runner, made for one test session, leaves out. Everything else (checkpoints,
their validation, replay pages, waits, retries, callbacks and their timeouts, chained invokes, stop,
history) is the runner's code, unchanged.

Adapted (each an override or an addition, said here so a runner upgrade knows where to look):
- `_begin_invocation`: an execution deleted while an invocation of it was scheduled is not invoked
  (the runner would read the missing row as its function gone, and say so).
- `_invoke_execution`: nothing is scheduled once the executor is shut down (the plane stops).
- `_complete_callback_success/failure`, `_process_callback_heartbeat`: a callback of a closed (stopped,
  timed out) execution is refused (the runner would record it after the execution's end).
- `_create_execution`: the execution's ARN is Lambda's
  (`arn:aws:lambda:<region>:<account>:function:<name>:<version>/durable-execution/<name>/<id>`, the
  pattern in botocore's model) instead of the runner's `<uuid>/<uuid>`; the rest is the runner's.
- `_complete_events`: also tells the plane an execution closed (a synchronous Invoke waits on it
  without holding a thread), and drops the execution's completion event (the runner keeps them all).
- `recover`: the runner keeps its timers in memory; a plane started on a store with running executions
  arms them again: the execution's timeout (what is left of it), its callbacks' timeouts, the wake-up
  of its earliest wait or step retry (one that came due while the plane was down fires at once), a
  chained invoke whose answer died with the plane, and one invocation to replay it (Lambda re-drives
  an invocation lost to its own failure the same way).
- `resume_now`: local time control: a pending wait (or step retry, or a callback's timeout) completes
  now, as if its time had come, and the execution is invoked.
- `delete_execution`: `DeleteDurableExecution`, which the runner has no call for.
- `get_execution_history`: the runner's events with what Lambda's have and the runner leaves out (history.py,
  fixes C to F: a StepSucceeded's RetryDetails, a CallbackStarted's timeouts, a ChainedInvokeStarted's
  ExecutedVersion and TenantId, a wait_for_condition poll's state; B: a failed invocation's Error).
- `_retry_after_error`: an invocation that failed (the runtime exited) is an InvocationCompleted event, with
  the function's own error (LocalInvoker's note: invoker.py), as Lambda records it; the runner records none.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import (
    CallbackOptions,
    CallbackTimeoutType,
    ErrorObject,
    Operation,
    OperationAction,
    OperationStatus,
    OperationType,
)
from aws_durable_execution_sdk_python_testing.exceptions import (
    ExecutionConflictException,
    ResourceNotFoundException,
)
from aws_durable_execution_sdk_python_testing.execution import Execution
from aws_durable_execution_sdk_python_testing.executor import Executor
from aws_durable_execution_sdk_python_testing.model import Event as HistoryEvent
from aws_durable_execution_sdk_python_testing.model import (
    GetDurableExecutionHistoryResponse,
    StartDurableExecutionInput,
    executed_version,
)
from aws_durable_execution_sdk_python_testing.token import CallbackToken
from aws_durable_execution_sdk_python_testing.worker.checkpoint_tasks import CallableTask

from lambda_local.durable.history import amend
from lambda_local.durable.invoker import LocalInvoker
from lambda_local.durable.store import LocalStore
from lambda_local.logs import LOG

# The runner renumbers a history's events with `Event.from_event_with_id`, which copies every field but
# InvocationCompletedDetails (so no InvocationCompleted event had them; Lambda's have them, and AWS's conformance
# requirements expect them, tests/conformance): renumbered as a whole copy instead.
HistoryEvent.from_event_with_id = classmethod(  # type: ignore[method-assign, assignment]
    lambda cls, event, event_id: cls(**{**vars(event), "event_id": event_id})
)


def execution_arn(region: str, account: str, function: str, qualifier: str | None, name: str, run_id: str) -> str:
    """An execution's ARN as Lambda makes it (botocore's `DurableExecutionArn` pattern)."""
    version = executed_version(qualifier)
    return f"arn:aws:lambda:{region}:{account}:function:{function}:{version}/durable-execution/{name}/{run_id}"


def callback_options(execution: Execution, operation_id: str) -> CallbackOptions | None:
    """The options a callback was created with (its START update)."""
    for update in execution.updates:
        if update.operation_id == operation_id and update.action is OperationAction.START:
            return update.callback_options
    return None


def resumable(operation: Operation) -> bool:
    """A wait not over yet, or a step waiting for its next attempt: what time control can end now (and a callback
    whose timeout is armed: LocalExecutor._timed_callback)."""
    return (operation.operation_type is OperationType.WAIT and operation.status is OperationStatus.STARTED) or (
        operation.operation_type is OperationType.STEP and operation.status is OperationStatus.PENDING
    )


class LocalExecutor(Executor):
    """The runner's executor, for a plane: Lambda's ARNs, restart recovery, time control, deletion."""

    def __init__(self, *args: Any, account: str, on_closed: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._account = account
        self._on_closed = on_closed
        self._local_store: LocalStore = kwargs["store"]

    # region adapted
    def _create_execution(
        self,
        input: StartDurableExecutionInput,  # noqa: A002 - the runner's signature
        parent_execution_arn: str | None = None,
    ) -> Execution:
        run_id = input.invocation_id or str(uuid.uuid4())
        if input.invocation_id is None:
            input = StartDurableExecutionInput(  # noqa: A001
                account_id=input.account_id,
                function_name=input.function_name,
                function_qualifier=input.function_qualifier,
                execution_name=input.execution_name,
                execution_timeout_seconds=input.execution_timeout_seconds,
                execution_retention_period_days=input.execution_retention_period_days,
                invocation_id=run_id,
                trace_fields=input.trace_fields,
                tenant_id=input.tenant_id,
                input=input.input,
                lambda_endpoint=input.lambda_endpoint,
            )
        arn = execution_arn(
            self.region, self._account, input.function_name, input.function_qualifier, input.execution_name, run_id
        )
        execution = Execution(durable_execution_arn=arn, start_input=input, operations=[])
        execution.region = self.region
        execution.parent_execution_arn = parent_execution_arn
        execution.start(now=self._clock.now())
        self._store.save(execution)
        return execution

    def _begin_invocation(self, execution_arn: str) -> Any:
        """The runner's, except for an execution deleted meanwhile (DeleteDurableExecution): no invocation,
        rather than the runner's reading of a missing execution as a function gone from the template."""
        try:
            self._store.load(execution_arn)
        except ResourceNotFoundException:
            return None
        return super()._begin_invocation(execution_arn)

    def _open_callback(self, callback_id: str) -> None:
        """A callback of a closed execution is answered no more (the runner would record it after the end)."""
        execution = self.get_execution(CallbackToken.from_str(callback_id).execution_arn)
        if execution.is_complete:
            raise ResourceNotFoundException(f"Execution is {execution.current_status().value}: the callback is closed")

    def _complete_callback_success(self, callback_id: str, result: bytes | None) -> None:
        self._open_callback(callback_id)
        super()._complete_callback_success(callback_id, result)

    def _complete_callback_failure(self, callback_id: str, callback_error: ErrorObject) -> None:
        self._open_callback(callback_id)
        super()._complete_callback_failure(callback_id, callback_error)

    def _process_callback_heartbeat(self, callback_id: str) -> None:
        self._open_callback(callback_id)
        super()._process_callback_heartbeat(callback_id)

    def _invoke_execution(self, execution_arn: str, delay: float = 0) -> None:
        """The runner's, except after shutdown (a retry's back-off scheduled on a stopped scheduler is
        never run: the next plane's recovery invokes the execution)."""
        if not self._closing:
            super()._invoke_execution(execution_arn, delay)

    def _complete_events(self, execution_arn: str) -> None:
        super()._complete_events(execution_arn)
        # The runner keeps every execution's completion event: a plane's would grow without end.
        if (event := self._completion_events.pop(execution_arn, None)) is not None:
            event.remove()  # type: ignore[no-untyped-call]
        try:
            self._on_closed(execution_arn)
        except Exception as exc:  # noqa: BLE001 - a waiter's failure never stops the runner
            LOG.warning(f"durable: telling the plane {execution_arn} closed failed: {exc}")

    def _retry_after_error(self, execution_arn: str, error: ErrorObject) -> None:
        """B (step 1-17, 1-18; child 3-12): Lambda records an invocation that failed as an InvocationCompleted
        event whose Error is the function's (`Runtime.ExitError` for a runtime that exited); the runner records
        no event, and has only its own wrapper of the Invoke's answer (`error`). Then the runner's retry."""
        failure = self._invoker.take_failure(execution_arn) if isinstance(self._invoker, LocalInvoker) else None
        now = self._clock.now()
        request_id = (failure.request_id if failure else None) or str(uuid.uuid4())
        try:
            execution = self._store.load(execution_arn)
            self._local_store.save_invocation_error(execution_arn, request_id, failure.error if failure else error)
            start, end = (failure.start, failure.end) if failure else (now, now)
            execution.record_invocation_completion(start, end, request_id)
            self._store.save(execution)
        except ResourceNotFoundException:
            pass  # deleted meanwhile: the runner's retry finds nothing either
        super()._retry_after_error(execution_arn, error)

    def get_execution_history(
        self,
        execution_arn: str,
        include_execution_data: bool = False,  # noqa: FBT001, FBT002 - the runner's signature
        reverse_order: bool = False,  # noqa: FBT001, FBT002
        marker: str | None = None,
        max_items: int | None = None,
    ) -> GetDurableExecutionHistoryResponse:
        """The runner's page of events, each with what Lambda's has (history.py: fixes B to F)."""
        page = super().get_execution_history(execution_arn, include_execution_data, reverse_order, marker, max_items)
        execution = self.get_execution(execution_arn)
        errors = self._local_store.invocation_errors(execution_arn)
        return dataclasses.replace(page, events=amend(page.events, execution, errors, include_execution_data))

    # endregion
    # region recovery
    def recover(self) -> int:
        """Arm again what a plane before this one left running; how many executions."""
        recovered = 0
        for arn in self._local_store.running_arns():
            try:
                self._recover(self._store.load(arn))
                recovered += 1
            except Exception as exc:  # noqa: BLE001 - one execution's state costs only itself
                LOG.warning(f"durable: {arn} could not be resumed: {exc}")
        return recovered

    def _recover(self, execution: Execution) -> None:
        arn = execution.durable_execution_arn
        now = self._clock.now()
        completion_event = self._scheduler.create_event()
        self._completion_events[arn] = completion_event
        timeout = execution.start_input.execution_timeout_seconds
        started = execution.get_operation_execution_started().start_timestamp or now
        if timeout > 0:
            left = max(0.0, timeout - (now - started).total_seconds())
            error = ErrorObject.from_message(f"Execution timed out after {timeout} seconds.")
            self._execution_timeouts[arn] = self._scheduler.call_later(
                lambda: self.on_timed_out(arn, error), delay=left, completion_event=completion_event
            )
        for operation in execution.operations:
            if operation.status is not OperationStatus.STARTED:
                continue
            if operation.operation_type is OperationType.CALLBACK and operation.callback_details is not None:
                self._rearm_callback(execution, operation, now)
            elif (
                operation.operation_type is OperationType.CHAINED_INVOKE
                and operation.operation_id not in execution.chained_invoke_children
            ):
                self._redispatch(execution, operation)
        self._invoke_execution(arn)
        self._schedule_earliest_pending(arn)

    def _rearm_callback(self, execution: Execution, operation: Operation, now: datetime) -> None:
        """A callback's timeout, what is left of it; its heartbeat timeout, whole again from now."""
        assert operation.callback_details is not None
        options = callback_options(execution, operation.operation_id)
        if options is None:
            return
        started = operation.start_timestamp or now
        left = options.timeout_seconds - (now - started).total_seconds()
        rearmed = CallbackOptions(
            timeout_seconds=max(1, int(left + 0.999)) if options.timeout_seconds > 0 else 0,
            heartbeat_timeout_seconds=options.heartbeat_timeout_seconds,
        )
        self._schedule_callback_timeouts(
            execution.durable_execution_arn, rearmed, operation.callback_details.callback_id
        )

    def _redispatch(self, execution: Execution, operation: Operation) -> None:
        """A chained invoke of a plain function whose answer died with the plane: invoked again."""
        for update in execution.updates:
            if (
                update.operation_id == operation.operation_id
                and update.action is OperationAction.START
                and update.chained_invoke_options is not None
            ):
                options = update.chained_invoke_options
                self.on_chained_invoke_started(
                    execution.durable_execution_arn,
                    operation.operation_id,
                    options.function_name,
                    options.tenant_id,
                    update.payload,
                )
                return

    # endregion
    # region time control and deletion
    def resume_now(self, execution_arn: str, operation_id: str | None = None) -> list[str]:
        """Complete `operation_id` (or, without one, every pending wait, step retry and callback timeout of the
        execution) now, and invoke the execution. The ids resumed; ResourceNotFoundException,
        ExecutionConflictException."""
        self._validate_execution_arn(execution_arn)
        resumed: list[str] = self._registry.submit(
            execution_arn, CallableTask(lambda: self._resume_now(execution_arn, operation_id))
        ).result()
        self._invoke_execution(execution_arn)
        self._schedule_earliest_pending(execution_arn)
        return resumed

    def _resume_now(self, execution_arn: str, operation_id: str | None) -> list[str]:
        execution = self.get_execution(execution_arn)
        if execution.is_complete:
            raise ExecutionConflictException(f"Execution {execution_arn} is {execution.current_status().value}")
        due = [
            op
            for op in execution.operations
            if (resumable(op) or self._timed_callback(op)) and (operation_id is None or op.operation_id == operation_id)
        ]
        if not due:
            what = f"operation {operation_id}" if operation_id else "no wait, step retry or callback with a timeout"
            raise ExecutionConflictException(f"Execution {execution_arn} has {what} pending")
        now = self._clock.now()
        for op in due:
            if op.operation_type is OperationType.WAIT:
                execution.complete_wait(op.operation_id, now=now)
            elif op.operation_type is OperationType.CALLBACK and op.callback_details is not None:
                # its timeout comes now: the workflow sees the same CallbackTimedOut as when it runs out
                callback_id = op.callback_details.callback_id
                self._cleanup_callback_timeouts(callback_id)
                timed_out = ErrorObject("Callback timed out", CallbackTimeoutType.TIMEOUT.value, None, None)
                execution.complete_callback_timeout(callback_id, timed_out, now=now)
            else:
                execution.complete_retry(op.operation_id)
        self._store.update(execution)
        return [op.operation_id for op in due]

    def _timed_callback(self, operation: Operation) -> bool:
        """A callback still waiting whose timeout is armed: time control may bring its timeout now (Lambda's
        own end of the wait for a supplier that never answers)."""
        details = operation.callback_details
        return (
            operation.operation_type is OperationType.CALLBACK
            and operation.status is OperationStatus.STARTED
            and details is not None
            and details.callback_id in self._callback_timeouts
        )

    def pause(self, execution_arn: str) -> None:
        """`PauseDurableExecution`: no invocation from now on until resumed (one in flight ends at its next
        checkpoint); the runner's `pause_execution` without its wait for the invocation to end, as
        Lambda answers at once."""
        self._validate_execution_arn(execution_arn)
        self._registry.submit(execution_arn, CallableTask(lambda: self._set_paused(execution_arn))).result()

    def delete_execution(self, execution_arn: str) -> datetime:
        """`DeleteDurableExecution`: a closed execution and its data go. ResourceConflictException-shaped
        (ExecutionConflictException) for one still running, ResourceNotFoundException for none."""
        self._validate_execution_arn(execution_arn)
        result: datetime = self._registry.submit(
            execution_arn, CallableTask(lambda: self._delete(execution_arn))
        ).result()
        self._registry.remove(execution_arn)
        self._completion_events.pop(execution_arn, None)
        return result

    def _delete(self, execution_arn: str) -> datetime:
        execution = self.get_execution(execution_arn)
        if not execution.is_complete:
            raise ExecutionConflictException(
                f"Execution {execution_arn} is RUNNING: only a closed execution can be deleted"
            )
        if not self._local_store.delete(execution_arn):
            raise ResourceNotFoundException("Durable Execution does not exist")
        return self._clock.now()

    # endregion


class Waiters:
    """What a synchronous Invoke waits on: one callback per execution, called from the runner's threads
    when the execution closes (set by the plane's event loop, read by the runner's threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, list[Callable[[], None]]] = {}

    def add(self, execution_arn: str, callback: Callable[[], None]) -> None:
        with self._lock:
            self._waiting.setdefault(execution_arn, []).append(callback)

    def discard(self, execution_arn: str, callback: Callable[[], None]) -> None:
        with self._lock:
            callbacks = self._waiting.get(execution_arn, [])
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks:
                self._waiting.pop(execution_arn, None)

    def closed(self, execution_arn: str) -> None:
        with self._lock:
            callbacks = self._waiting.pop(execution_arn, [])
        for callback in callbacks:
            callback()
