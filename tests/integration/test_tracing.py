"""X-Ray tracing as it runs in AWS (`Tracing: Active`, Powertools' Tracer enabled): the handler runs in
a fresh process with the function's local environment, tracing switched on and the X-Ray daemon
address pointed at a UDP socket of this test, which reads the segment documents the SDK sends."""

import json
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import stack
from lambda_local.providers import load
from shared.db import PARAMETER_NAMES
from stack import ROOT, moto
from stack.functions import by_name

pytestmark = pytest.mark.integration
TRACE_ID = "1-67891233-abcdef012345678912345678"

RUN_HANDLER = """
import json, sys
import app
from tests.support.handlers import Context
result = app.handler(json.loads(sys.argv[1]), Context(sys.argv[2]))
print(json.dumps(result, default=str))
"""


def traced_invocation(
    directory: str, event: dict[str, Any], overrides: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Invoke the handler once with tracing on; the subsegment documents it sent, flattened."""
    fn = by_name(directory)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        env = stack.function_env(fn, overrides) | {
            "POWERTOOLS_TRACE_DISABLED": "false",
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
            "_X_AMZN_TRACE_ID": f"Root={TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1",
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
        daemon.settimeout(0.5)
        documents = []
        try:
            while True:
                header, _, body = daemon.recv(65536).decode().partition("\n")
                assert json.loads(header) == {"format": "json", "version": 1}
                documents.append(json.loads(body))
        except TimeoutError:
            pass
    flat: list[dict[str, Any]] = []

    def walk(document: dict[str, Any]) -> None:
        flat.append(document)
        for child in document.get("subsegments", []):
            walk(child | {"trace_id": document["trace_id"]})

    for document in documents:
        walk(document)
    return flat


def test_a_traced_invocation_records_the_handler_and_each_aws_call():
    subsegments = traced_invocation(
        "weather-api", json.loads((ROOT / "events/weather-api/http-api-city.json").read_text())
    )
    assert subsegments and {s["trace_id"] for s in subsegments} == {TRACE_ID}
    (handler,) = [s for s in subsegments if s["name"] == "## handler"]
    assert handler["annotations"] == {"ColdStart": True, "Service": "weather-api"}
    assert "metadata" not in handler, "the response is not recorded (POWERTOOLS_TRACER_CAPTURE_RESPONSE=false)"
    calls = [s for s in subsegments if s.get("namespace") == "aws"]
    assert {(s["name"], s["aws"]["operation"]) for s in calls} >= {("s3", "GetObject")}
    assert all(s["http"]["response"]["status"] == 200 for s in calls)


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


def test_sql_queries_are_subsegments_where_a_function_uses_pymysql(db_prefix_from_here: str) -> None:
    subsegments = traced_invocation(
        "sales-data-extractor", {"date": "2031-06-01"}, {"DB_PARAMETER_PREFIX": db_prefix_from_here}
    )
    assert {s["name"] for s in subsegments} >= {"## handler"}
    queries = [s for s in subsegments if "sql" in s]
    assert queries, [s["name"] for s in subsegments]
    assert all(s["namespace"] == "remote" and s["sql"]["database_type"] == "MySQL" for s in queries)
    assert all(s["trace_id"] == TRACE_ID for s in queries)
