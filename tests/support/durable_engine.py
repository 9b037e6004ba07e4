"""The durable engine's parts as the plane assembles them (lambda_local/durable/engine.py), with the
runner's in-process invoker in place of its Invoke of the plane: a test runs a durable handler in this
process. Used by the durable unit tests and the conformance suite's engine-history tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_durable_execution_sdk_python_testing.checkpoint.processor import CheckpointProcessor
from aws_durable_execution_sdk_python_testing.client import InMemoryServiceClient
from aws_durable_execution_sdk_python_testing.clock import RealClock
from aws_durable_execution_sdk_python_testing.invoker import InProcessInvoker
from aws_durable_execution_sdk_python_testing.scheduler import Scheduler
from aws_durable_execution_sdk_python_testing.worker.registry import ExecutionRegistry

from lambda_local.durable.executor import LocalExecutor
from lambda_local.durable.store import LocalStore

ACCOUNT = "123456789012"
REGION = "us-east-1"


class InProcessEngine:
    """One plane's worth of the engine on the store in `directory`, invoking `handler` in this process;
    stop() leaves what a SIGKILL of the plane leaves (the store only)."""

    def __init__(self, directory: Path, handler: Callable[..., Any]) -> None:
        self.store = LocalStore.open(directory)
        self.scheduler = Scheduler()
        self.scheduler.start()  # type: ignore[no-untyped-call]
        self.registry = ExecutionRegistry(self.store, self.scheduler)
        processor = CheckpointProcessor(self.store, self.scheduler, clock=RealClock())
        invoker = InProcessInvoker(handler, InMemoryServiceClient(processor, self.registry), region=REGION)
        self.closed: list[str] = []
        self.executor = LocalExecutor(
            store=self.store,
            scheduler=self.scheduler,
            invoker=invoker,
            checkpoint_processor=processor,
            registry=self.registry,
            clock=RealClock(),
            region=REGION,
            account=ACCOUNT,
            on_closed=self.closed.append,
        )
        processor.add_execution_observer(self.executor)

    def stop(self) -> None:
        self.executor.shutdown()
        self.registry.shutdown()
        self.scheduler.stop()  # type: ignore[no-untyped-call]

    def until(self, predicate: Callable[[], Any], what: str, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := predicate():
                return found
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    def status(self, arn: str) -> str:
        return str(self.store.load(arn).current_status().value)
