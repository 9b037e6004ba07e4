"""The durable engine's parts as the plane assembles them, with the runner's in-process invoker in place
of its Invoke of the plane (so a unit test runs the probe workflow's handler in this process)."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_durable_execution_sdk_python_testing.checkpoint.processor import CheckpointProcessor
from aws_durable_execution_sdk_python_testing.client import InMemoryServiceClient
from aws_durable_execution_sdk_python_testing.clock import RealClock
from aws_durable_execution_sdk_python_testing.invoker import InProcessInvoker
from aws_durable_execution_sdk_python_testing.scheduler import Scheduler
from aws_durable_execution_sdk_python_testing.worker.registry import ExecutionRegistry

from lambda_local.durable.executor import LocalExecutor
from lambda_local.durable.store import LocalStore
from lambda_local.settings import ROOT

PROBE = ROOT / "tests" / "support" / "durable" / "functions" / "durable-probe" / "app.py"
ACCOUNT = "123456789012"
REGION = "us-east-1"


def probe_handler() -> Callable[..., Any]:
    """The durable probe's handler (tests/support/durable), imported from its file."""
    spec = importlib.util.spec_from_file_location("durable_probe_app", PROBE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler  # type: ignore[no-any-return]


class Runner:
    """One plane's worth of the engine on `store`: stop() is what a SIGKILL leaves (the store only)."""

    def __init__(self, directory: Path) -> None:
        self.store = LocalStore.open(directory)
        self.scheduler = Scheduler()
        self.scheduler.start()
        self.registry = ExecutionRegistry(self.store, self.scheduler)
        processor = CheckpointProcessor(self.store, self.scheduler, clock=RealClock())
        invoker = InProcessInvoker(probe_handler(), InMemoryServiceClient(processor, self.registry), region=REGION)
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
        self.scheduler.stop()

    def until(self, predicate: Callable[[], Any], what: str, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := predicate():
                return found
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    def status(self, arn: str) -> str:
        return str(self.store.load(arn).current_status().value)


@pytest.fixture
def runners(tmp_path: Path) -> Iterator[Callable[[], Runner]]:
    """Runners on one store, one after another (each stopped at the end)."""
    made: list[Runner] = []

    def make() -> Runner:
        made.append(Runner(tmp_path / "durable"))
        return made[-1]

    yield make
    for runner in made:
        runner.stop()
