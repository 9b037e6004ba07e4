"""Tracing as a function runs it (shared/tracing.py): the handler runs in a fresh process with the function's
local environment against the running stack, its OTLP endpoint pointed at a collector of this test and an
X-Ray trace header as Lambda gives it; the test reads the spans the function exported."""

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

import stack
from lambda_local.providers import load
from shared.db import PARAMETER_NAMES
from stack import ROOT, moto
from stack.functions import by_name
from tests.support.otlp import attributes, recording, xray_trace_id

pytestmark = pytest.mark.integration
TRACE_ID = "1-67891233-abcdef012345678912345678"
PARENT_ID = "53995c3f42cd8ad8"

RUN_HANDLER = """
import json, sys
import app
from tests.support.handlers import Context
result = app.handler(json.loads(sys.argv[1]), Context(sys.argv[2]))
print(json.dumps(result, default=str))
"""


def traced_invocation(directory: str, event: dict[str, Any], overrides: dict[str, str] | None = None) -> list[Span]:
    """Invoke the handler once, traced; the spans it exported."""
    fn = by_name(directory)
    with recording() as collector:
        env = stack.function_env(fn, overrides) | {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{collector.url}/v1/traces",
            "_X_AMZN_TRACE_ID": f"Root={TRACE_ID};Parent={PARENT_ID};Sampled=1",
        }
        result = subprocess.run(
            [sys.executable, "-c", RUN_HANDLER, json.dumps(event), fn.lambda_name],
            cwd=ROOT / "functions" / directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return collector.spans()


def descends(span: Span, ancestor: Span, spans: list[Span]) -> bool:
    by_id = {s.span_id: s for s in spans}
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        if span.span_id == ancestor.span_id:
            return True
    return False


def test_a_traced_invocation_records_the_handler_and_each_aws_call():
    spans = traced_invocation("weather-api", json.loads((ROOT / "events/weather-api/http-api-city.json").read_text()))
    assert spans and {xray_trace_id(s) for s in spans} == {TRACE_ID}
    (handler,) = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    assert handler.name == by_name("weather-api").lambda_name and handler.parent_span_id.hex() == PARENT_ID
    assert attributes(handler.attributes)["faas.coldstart"] is True
    calls = [s for s in spans if s.kind == Span.SPAN_KIND_CLIENT]
    assert {s.name for s in calls} >= {"S3.GetObject"}
    assert all(descends(s, handler, spans) for s in calls)
    assert all(attributes(s.attributes)["http.status_code"] == 200 for s in calls)


@pytest.fixture
def db_prefix_from_here() -> Iterator[str]:
    """The database's parameters under a prefix of this test's, with the address this process reaches it
    at (in Docker mode the stack's own dbUrl names the compose service)."""
    ssm = moto.client("ssm")
    source = load().parameter("DbParameterPrefix")
    prefix = f"/trace-test-{uuid.uuid4().hex[:8]}"
    names = []
    for name in PARAMETER_NAMES:
        parameter = ssm.get_parameter(Name=f"{source}/{name}", WithDecryption=True)["Parameter"]
        value = f"127.0.0.1:{stack.DB_PORT}" if name == "dbUrl" else parameter["Value"]
        ssm.put_parameter(Name=f"{prefix}/{name}", Value=value, Type=parameter["Type"])
        names.append(f"{prefix}/{name}")
    try:
        yield prefix
    finally:
        ssm.delete_parameters(Names=names)


def test_sql_queries_are_spans_where_a_function_uses_pymysql(db_prefix_from_here: str) -> None:
    spans = traced_invocation(
        "sales-data-extractor", {"date": "2031-06-01"}, {"DB_PARAMETER_PREFIX": db_prefix_from_here}
    )
    (handler,) = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    queries = [s for s in spans if attributes(s.attributes).get("db.system") == "mysql"]
    assert queries, [s.name for s in spans]
    assert all(s.kind == Span.SPAN_KIND_CLIENT and descends(s, handler, spans) for s in queries)
    assert {xray_trace_id(s) for s in queries} == {TRACE_ID}
