"""What a function's Init leaves out (each module costs every cold start): `import app` in a fresh
interpreter with the function's local environment, as the runtime does it, traced as locally (an OTLP
endpoint set: shared/tracing.py starts OpenTelemetry at the first invocation, not at Init)."""

import json
import subprocess
import sys

import pytest

from stack import ROOT, function_env
from stack.functions import Function, functions

WATCHED = ("opentelemetry", "asyncio", "aws_lambda_powertools.utilities.batch")
TRACED = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
PROBE = f"import sys, json; import app; print(json.dumps([m for m in {WATCHED!r} if m in sys.modules]))"


def imported_at_init(fn: Function) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT / "functions" / fn.directory,
        env=function_env(fn) | TRACED,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("fn", functions(), ids=lambda fn: fn.directory)
def test_no_function_loads_opentelemetry_at_init(fn: Function) -> None:
    assert "opentelemetry" not in imported_at_init(fn)


def test_order_etl_takes_only_types_from_the_batch_utility() -> None:
    (fn,) = [fn for fn in functions() if fn.directory == "order-etl"]
    assert imported_at_init(fn) == []


def test_the_probe_sees_what_a_function_does_import() -> None:
    (fn,) = [fn for fn in functions() if fn.directory == "sensor-anomaly"]  # its batch processor needs asyncio
    assert {"asyncio", "aws_lambda_powertools.utilities.batch"} <= set(imported_at_init(fn))
