"""AWS's durable execution conformance requirements against the local plane: one test per requirement
(`test_requirement[<suite>:<id>]`), each failing with where its execution departs from the requirement and
the execution's whole history. A requirement the local plane cannot meet by its nature is an xfail with
the reason (it counts as not conforming).

`make conformance` runs these and prints the count per suite; `pytest tests/conformance -k "callback"`
runs one suite.
"""

from __future__ import annotations

import pytest

from tests.conformance.driver import Outcome
from tests.conformance.spec import functions_by_requirement, load

pytestmark = pytest.mark.integration

REQUIREMENTS = load()
# Requirement id -> why the local plane cannot meet it (each counted as not conforming).
CANNOT: dict[str, str] = {}


def _param(requirement_id: str, suite: str) -> object:
    marks = [pytest.mark.xfail(reason=CANNOT[requirement_id], strict=True)] if requirement_id in CANNOT else []
    return pytest.param(requirement_id, id=f"{suite}:{requirement_id}", marks=marks)


@pytest.mark.parametrize("requirement", [_param(r.id, r.suite) for r in REQUIREMENTS])
def test_requirement(requirement: str, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes.get(requirement)
    assert outcome is not None, f"no probe function answers {requirement} (TestingMetadata in template.yaml)"
    assert outcome.passed, outcome.report()


def test_every_requirement_of_each_suite_has_a_probe_function() -> None:
    """The template answers all of a vendored suite, so a suite's count is over all its requirements."""
    functions = functions_by_requirement()
    missing = [f"{r.suite}:{r.id}" for r in REQUIREMENTS if r.id not in functions]
    assert missing == []
