"""The durable engine's parts as the plane assembles them, with the runner's in-process invoker in place
of its Invoke of the plane (so a unit test runs the probe workflow's handler in this process)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_local.settings import ROOT
from tests.support.durable_engine import InProcessEngine

PROBE = ROOT / "tests" / "support" / "durable" / "functions" / "durable-probe" / "app.py"


def probe_handler() -> Callable[..., Any]:
    """The durable probe's handler (tests/support/durable), imported from its file."""
    spec = importlib.util.spec_from_file_location("durable_probe_app", PROBE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler  # type: ignore[no-any-return]


class Runner(InProcessEngine):
    """One plane's worth of the engine on `store`, running the durable probe's workflow."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, probe_handler())


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
