"""The durable engine of the plane: AWS's local runner (`aws-durable-execution-sdk-python-testing`)
assembled as its own `WebRunner.start` assembles it, with the plane in place of its web server and
`--function-configs`:

- its SQLite store (`LocalStore`, under the stack's state directory: `.stack/durable/`);
- its `Scheduler` (an event loop on a thread of its own: timers, invocations);
- its `LambdaInvoker`, as `LocalInvoker` (which notes a failed invocation's own error: invoker.py):
  each handler invocation is an Invoke of the plane's own Invoke API marked
  `X-Dex-Handler-Invoke: true`, which runs the function once in its environment pool (warm reuse,
  logs, limits, as any invocation); a chained invoke of a plain function is an unmarked Invoke there;
- its `CheckpointProcessor`, `ExecutionRegistry` (one worker lane per execution) and
  `EndpointChildDispatcher`, whose function configurations are the template's (a function with
  `DurableConfig` is durable, with its timeout and retention; every other function is plain);
- its `Executor`, as `LocalExecutor` (executor.py says what it adapts and why).

What the plane adds around it: starting an execution on an Invoke (with `DurableExecutionName`
idempotency, which the runner does not check), waiting for it without a thread, recovery at start,
retention, time control and the summaries `make executions` and the console list.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import InvocationStatus
from aws_durable_execution_sdk_python_testing.checkpoint.processor import CheckpointProcessor
from aws_durable_execution_sdk_python_testing.child_dispatcher import (
    EndpointChildDispatcher,
    FunctionConfig,
    FunctionConfigs,
)
from aws_durable_execution_sdk_python_testing.clock import RealClock
from aws_durable_execution_sdk_python_testing.execution import Execution
from aws_durable_execution_sdk_python_testing.invoker import read_timeout_for
from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput
from aws_durable_execution_sdk_python_testing.scheduler import Scheduler
from aws_durable_execution_sdk_python_testing.worker.registry import ExecutionRegistry

from lambda_local.durable.executor import LocalExecutor, Waiters
from lambda_local.durable.invoker import LocalInvoker
from lambda_local.durable.store import LocalStore
from lambda_local.durable.summary import summarize
from lambda_local.logs import LOG
from lambda_local.providers import FunctionSpec

# Lambda: a synchronous Invoke of a durable function waits for the whole execution, so its execution
# timeout must be within an invocation's 15 minutes.
SYNC_EXECUTION_LIMIT_S = 900
# The runner bounds one handler invocation by this (the plane bounds it by the function's own timeout
# first); and its Invoke waits this long plus the runner's headroom.
INVOCATION_BOUND_S = 900
RETENTION_SWEEP_S = 3600.0
NAME_LENGTH = 64
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
RUNNER_LOGGER = "aws_durable_execution_sdk_python_testing"


class DurableError(Exception):
    """An Invoke the engine refuses, with Lambda's status, error type and message."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


@dataclass(frozen=True)
class Started:
    arn: str
    new: bool  # False: an execution of the same name and input already existed (idempotent start)


def check_name(name: str) -> None:
    """`DurableExecutionName`: 1 to 64 of [a-zA-Z0-9-_] (botocore's model); Lambda's ValidationException."""
    if not 1 <= len(name) <= NAME_LENGTH or not set(name) <= NAME_CHARS:
        raise DurableError(
            400,
            "ValidationException",
            f"1 validation error detected: Value '{name[:100]}' at 'durableExecutionName' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and have length "
            f"between 1 and {NAME_LENGTH}",
        )


def same_input(stored: str | None, given: str) -> bool:
    """Whether two execution inputs are the same JSON (Lambda: same name and same payload -> the same execution)."""
    try:
        return bool(json.loads(stored or "{}") == json.loads(given or "{}"))
    except ValueError:
        return (stored or "") == given


def function_configs(functions: Iterable[FunctionSpec]) -> FunctionConfigs:
    """The template's functions as the runner's chained-invoke targets: durable with their DurableConfig."""
    configs: dict[str, FunctionConfig] = {}
    for fn in functions:
        if fn.durable is None:
            configs[fn.lambda_name] = FunctionConfig(is_durable=False)
        else:
            configs[fn.lambda_name] = FunctionConfig(
                is_durable=True,
                execution_timeout_seconds=fn.durable.execution_timeout_s,
                retention_period_days=fn.durable.retention_days,
            )
    return FunctionConfigs(configs)


def runner_logging() -> None:
    """The runner's own warnings (an invocation failed and is retried, ...) as the plane's lines."""
    logger = logging.getLogger(RUNNER_LOGGER)
    if not logger.handlers:
        for handler in LOG.handlers:
            logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False


class DurableEngine:
    """AWS's runner inside the plane: the executions of the template's durable functions."""

    def __init__(
        self, functions: Iterable[FunctionSpec], state_dir: Path, endpoint: str, region: str, account: str
    ) -> None:
        self.functions = {fn.lambda_name: fn for fn in functions}
        self.directory = state_dir / "durable"
        self.endpoint = endpoint
        self.region = region
        self.account = account
        self.waiters = Waiters()
        self._names = threading.Lock()  # a name's lookup and its execution's creation, as one step
        self._scheduler: Scheduler | None = None
        self._registry: ExecutionRegistry | None = None
        self._executor: LocalExecutor | None = None
        self._store: LocalStore | None = None

    @property
    def executor(self) -> LocalExecutor:
        if self._executor is None:
            raise RuntimeError("the durable engine is not started")
        return self._executor

    @property
    def store(self) -> LocalStore:
        if self._store is None:
            raise RuntimeError("the durable engine is not started")
        return self._store

    def durable(self, function: str) -> FunctionSpec | None:
        """The function if it is durable (has DurableConfig)."""
        fn = self.functions.get(function)
        return fn if fn is not None and fn.durable is not None else None

    # region life
    def start(self) -> int:
        """Build the runner's parts, resume what a plane before this one left running; how many."""
        runner_logging()
        self._store = LocalStore.open(self.directory)
        self._scheduler = Scheduler()
        clock = RealClock()
        invoker = LocalInvoker.create(
            self.endpoint, self.region, read_timeout_seconds=read_timeout_for(INVOCATION_BOUND_S)
        )
        self._registry = ExecutionRegistry(self._store, self._scheduler)
        processor = CheckpointProcessor(self._store, self._scheduler, clock=clock)
        dispatcher = EndpointChildDispatcher(
            function_configs(self.functions.values()),
            invoker.unmarked_client_for,
            invocation_timeout_seconds=INVOCATION_BOUND_S,
        )
        self._executor = LocalExecutor(
            store=self._store,
            scheduler=self._scheduler,
            invoker=invoker,
            checkpoint_processor=processor,
            invocation_timeout_seconds=INVOCATION_BOUND_S,
            registry=self._registry,
            clock=clock,
            child_dispatcher=dispatcher,
            region=self.region,
            account=self.account,
            on_closed=self.waiters.closed,
        )
        processor.add_execution_observer(self._executor)
        processor.set_chained_invoke_preflight(self._executor.preflight_chained_invoke)
        self._scheduler.start()  # type: ignore[no-untyped-call]
        self.sweep()
        self._scheduler.call_later(self.sweep, delay=RETENTION_SWEEP_S, count=None)
        return self._executor.recover()

    def stop(self) -> None:
        for part in (self._executor, self._registry, self._scheduler):
            if part is None:
                continue
            try:
                part.stop() if isinstance(part, Scheduler) else part.shutdown()  # type: ignore[no-untyped-call]
            except Exception as exc:  # noqa: BLE001 - the rest still stops
                LOG.warning(f"durable: stopping {type(part).__name__} failed: {exc}")

    def sweep(self) -> int:
        """Delete the closed executions whose RetentionPeriodInDays has passed; how many."""
        gone = 0
        for arn in self.store.expired():
            if self.store.delete(arn):
                gone += 1
        if gone:
            LOG.info(f"durable: {gone} closed executions past their retention deleted")
        return gone

    # endregion
    # region invoke
    def start_execution(
        self,
        function: str,
        qualifier: str | None,
        payload: bytes,
        name: str | None,
        synchronous: bool,
        tenant: str | None = None,
    ) -> Started:
        """An Invoke of a durable function: a new execution, or (same name, same input) the existing one;
        `tenant` (the Invoke's, checked by the Invoke API) goes with each of its handler invocations.
        DurableError: a name Lambda refuses, a name taken with another input, a synchronous Invoke of an
        execution allowed more than 15 minutes."""
        fn = self.durable(function)
        if fn is None or fn.durable is None:
            raise DurableError(404, "ResourceNotFoundException", f"{function} is not a durable function")
        if qualifier is None:
            raise DurableError(
                400, "InvalidParameterValueException", "You cannot invoke a durable function using an unqualified ARN."
            )
        if synchronous and fn.durable.execution_timeout_s > SYNC_EXECUTION_LIMIT_S:
            raise DurableError(
                400,
                "InvalidParameterValueException",
                "You cannot synchronously invoke a durable function with an executionTimeout greater than 15 minutes.",
            )
        if name is not None:
            check_name(name)
        text = payload.decode("utf-8") if payload.strip() else "{}"
        with self._names:
            if name is not None:
                found, _ = self.store.query(function_name=function, execution_name=name, limit=1)
                if found:
                    existing = found[0]
                    if not same_input(existing.start_input.input, text):
                        raise DurableError(
                            409,
                            "DurableExecutionAlreadyStartedException",
                            f"Durable execution with name {name} already exists with a different input: "
                            f"{existing.durable_execution_arn}",
                        )
                    return Started(existing.durable_execution_arn, new=False)
            started = self.executor.start_execution(
                StartDurableExecutionInput(
                    account_id=self.account,
                    function_name=function,
                    function_qualifier=qualifier,
                    execution_name=name or str(uuid.uuid4()),
                    execution_timeout_seconds=fn.durable.execution_timeout_s,
                    execution_retention_period_days=fn.durable.retention_days,
                    input=text,
                    tenant_id=tenant,
                )
            )
        arn = started.execution_arn or ""
        LOG.info(f"durable: {function} started {arn}")
        return Started(arn, new=True)

    async def closed(self, arn: str, timeout: float | None = None) -> Execution:
        """The execution once closed (TimeoutError after `timeout` seconds), waited for without a thread."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def settle() -> None:
            if not done.done():
                done.set_result(None)

        def closed() -> None:
            loop.call_soon_threadsafe(settle)

        self.waiters.add(arn, closed)
        try:
            execution = await asyncio.to_thread(self.store.load, arn)
            if not execution.is_complete:
                await asyncio.wait_for(done, timeout)
                execution = await asyncio.to_thread(self.store.load, arn)
            return execution
        finally:
            self.waiters.discard(arn, closed)

    # endregion
    # region views and time control
    def summaries(self, function: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest executions (of `function`), each as `make executions` and the console show it."""
        executions, _ = self.store.query(function_name=function, limit=limit, reverse_order=True)
        return [summarize(execution) for execution in executions]

    def resume_now(self, arn: str, operation_id: str | None = None) -> list[str]:
        resumed = self.executor.resume_now(arn, operation_id)
        LOG.info(f"durable: {arn}: {', '.join(resumed)} resumed now (time control)")
        return resumed

    # endregion


def sync_answer(execution: Execution) -> tuple[bytes, str | None]:
    """What a synchronous Invoke answers for a closed execution: its result, or its error as a function
    error (`X-Amz-Function-Error: Unhandled`)."""
    output = execution.result
    if output is not None and output.status is InvocationStatus.SUCCEEDED:
        return (output.result or "null").encode(), None
    error = output.error if output is not None else None
    status = execution.current_status().value
    body = {
        "errorType": (error.type if error and error.type else f"Execution{status.title().replace('_', '')}"),
        "errorMessage": (error.message if error and error.message else f"The durable execution is {status}"),
    }
    if error is not None and error.stack_trace:
        body["stackTrace"] = error.stack_trace  # type: ignore[assignment]
    return json.dumps(body).encode(), "Unhandled"
