"""The conformance run: a probe plane serving tests/conformance/template.yaml (on the probe ports, in the
stack's mode: host, or Docker beside the Docker-mode stack, which it starts when none runs), boto3's
`lambda` client for it, and every selected requirement run at once (WORKERS at a time:
most of a run is waits, retries' back-offs and callback delays) before the tests read their outcomes.
At the end, the count of conforming requirements per suite (`make conformance` prints it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambda_local.settings import ROOT
from tests.conformance.driver import Driver, Outcome
from tests.conformance.spec import SUITES, TEMPLATE, functions_by_requirement, load
from tests.support.docker_probe import probe_plane_for_mode
from tests.support.probe_plane import INVOKE_PORT, ProbePlane

ENDPOINT = f"http://127.0.0.1:{INVOKE_PORT}"
WORKERS = 12
PLANE_START_S = 600  # the first start makes the probe functions' environment (uv, the SDK)
SUMMARY = ROOT / "tests" / "artifacts" / "conformance.json"
PACKAGE = "aws-durable-execution-conformance-tests 1.0.0"


@pytest.fixture(scope="session")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    probe = probe_plane_for_mode(tmp_path_factory.mktemp("conformance-plane"), TEMPLATE)
    _MODE.append(probe.mode)
    try:
        probe.start(timeout=PLANE_START_S)
        yield probe
    finally:
        probe.stop()


@pytest.fixture(scope="session")
def lam() -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(read_timeout=300, retries={"max_attempts": 0}),
    )


@pytest.fixture(scope="session")
def outcomes(request: pytest.FixtureRequest, plane: ProbePlane, lam: Any) -> dict[str, Outcome]:
    """The outcome of every requirement the session runs, by id, run concurrently."""
    wanted = {
        item.callspec.params["requirement"]
        for item in request.session.items
        if hasattr(item, "callspec") and "requirement" in item.callspec.params
    }
    functions = functions_by_requirement()
    driver = Driver(lam, ENDPOINT, plane.state / "logs")
    selected = [r for r in load() if r.id in wanted and r.id in functions]
    with ThreadPoolExecutor(WORKERS) as pool:
        done = pool.map(lambda r: driver.run(r, functions[r.id]), selected)
        return {outcome.requirement.id: outcome for outcome in done}


# region the count per suite
_RESULTS: dict[str, dict[str, Any]] = {}
_MODE: list[str] = []  # the probe plane's mode, once it started


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Each requirement's result: passed, failed (with its first error) or xfailed."""
    if "test_requirement[" not in report.nodeid or (report.when != "call" and not report.failed):
        return
    suite, requirement = report.nodeid.split("[", 1)[1].rstrip("]").split(":", 1)
    status = "xfailed" if hasattr(report, "wasxfail") else report.outcome
    _RESULTS[requirement] = {"suite": suite, "status": status, "detail": str(report.longrepr or "")[:4000]}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _RESULTS:
        return
    suites: dict[str, list[int]] = {}
    order = {suite: n for n, suite in enumerate(SUITES)}
    for result in sorted(_RESULTS.values(), key=lambda r: order.get(r["suite"], len(order))):
        counts = suites.setdefault(result["suite"], [0, 0])
        counts[0] += result["status"] == "passed"
        counts[1] += 1
    write = terminalreporter.write_line
    mode = _MODE[0] if _MODE else "host"
    write(f"AWS durable execution conformance ({PACKAGE}), {mode} mode: requirements that conform")
    for suite, (passed, total) in suites.items():
        failing = sorted(
            (r for r, v in _RESULTS.items() if v["suite"] == suite and v["status"] != "passed"),
            key=lambda r: [int(x) for x in r.split("-")],
        )
        write(f"  {suite:<20} {passed:>3}/{total:<3}" + (f"  not: {', '.join(failing)}" if failing else ""))
    passed = sum(p for p, _ in suites.values())
    total = sum(t for _, t in suites.values())
    write(f"  {'total':<20} {passed:>3}/{total:<3}")
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps({"package": PACKAGE, "mode": mode, "requirements": _RESULTS}, indent=1))
    write(f"  (each requirement's result: {Path(SUMMARY).relative_to(ROOT)})")


# endregion
