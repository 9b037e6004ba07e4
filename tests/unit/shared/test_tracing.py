"""With tracing off (local.env) the tracer records nothing and leaves the X-Ray SDK unimported (about 45 ms
of every cold start); handlers decorated with it still return and raise as they would."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json, sys
from shared.tracing import get_tracer
from tests.support.handlers import Context

tracer = get_tracer("pymysql")

@tracer.capture_method
def double(x):
    return 2 * x

@tracer.capture_lambda_handler
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    tracer.put_annotation("k", "v")
    tracer.put_metadata("k", {"v": 1})
    return {"doubled": double(event["x"])}

result = handler({"x": 21}, Context("probe"))
try:
    handler({"fail": True}, Context("probe"))
    raised = None
except ValueError as exc:
    raised = str(exc)
print(json.dumps({"result": result, "raised": raised, "sdk": "aws_xray_sdk.core" in sys.modules,
                  "disabled": tracer.disabled}))
"""


def probe(disabled: str) -> dict[str, object]:
    env = os.environ | {"POWERTOOLS_TRACE_DISABLED": disabled, "LAMBDA_TASK_ROOT": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_tracing_off_records_nothing_without_loading_the_sdk(value: str) -> None:
    seen = probe(value)
    assert seen == {"result": {"doubled": 42}, "raised": "asked to fail", "sdk": False, "disabled": True}


def test_tracing_on_uses_the_xray_sdk() -> None:
    seen = probe("false")
    assert seen["result"] == {"doubled": 42} and seen["raised"] == "asked to fail"
    assert seen["sdk"] is True and seen["disabled"] is False
