"""The durable execution API's routes over a started engine (its invocations go nowhere: these tests
start executions and read, stop, pause, resume and delete them): botocore's encoded ARNs and raw ones,
Lambda's error types in x-amzn-ErrorType, boto3's list parameters, and the control endpoints."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from lambda_local.durable import DurableEngine
from lambda_local.http import durable_api
from lambda_local.providers import load
from lambda_local.settings import LOOPBACK, ROOT

TEMPLATE = load(ROOT / "tests" / "support" / "durable" / "template.yaml")


@pytest.fixture
def engine(tmp_path) -> Iterator[DurableEngine]:  # type: ignore[no-untyped-def]
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        nowhere = f"http://{LOOPBACK}:{sock.getsockname()[1]}"
    made = DurableEngine(TEMPLATE.functions, tmp_path, nowhere, "us-east-1", "1" * 12)
    made.start()
    yield made
    made.stop()


def call(engine: DurableEngine, method: str, path: str, body: Any = None) -> httpx.Response:
    app = Starlette(routes=durable_api.routes(SimpleNamespace(durable=engine)))  # type: ignore[arg-type]

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            content = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
            return await client.request(method, path, content=content)

    return asyncio.run(send())


def started(engine: DurableEngine, name: str = "order-7") -> str:
    return engine.start_execution("durable-long", "$LATEST", b'{"callback": true}', name, False).arn


def test_an_execution_is_read_by_its_encoded_arn_or_its_raw_one(engine):  # type: ignore[no-untyped-def]
    arn = started(engine)
    encoded = call(engine, "GET", f"/2025-12-01/durable-executions/{quote(arn, safe='')}")
    assert encoded.status_code == 200, encoded.text
    assert encoded.json()["DurableExecutionArn"] == arn
    assert encoded.json()["DurableExecutionName"] == "order-7"
    raw = call(engine, "GET", f"/2025-12-01/durable-executions/{arn}/history")
    assert raw.status_code == 200
    assert raw.json()["Events"][0]["EventType"] == "ExecutionStarted"


def test_errors_carry_lambdas_type_for_botocore(engine):  # type: ignore[no-untyped-def]
    arn = started(engine).replace("order-7", "order-8")
    missing = call(engine, "GET", f"/2025-12-01/durable-executions/{quote(arn, safe='')}")
    assert (missing.status_code, missing.headers["x-amzn-ErrorType"]) == (404, "ResourceNotFoundException")
    token = call(engine, "POST", f"/2025-12-01/durable-executions/{quote(arn, safe='')}/checkpoint",
                 {"CheckpointToken": "QUJD", "Updates": []})  # fmt: skip
    assert (token.status_code, token.headers["x-amzn-ErrorType"]) == (400, "InvalidParameterValueException")
    unknown = call(engine, "GET", "/2025-12-01/durable-nothing")
    assert (unknown.status_code, unknown.headers["x-amzn-ErrorType"]) == (404, "UnknownOperationException")
    runner_only = call(engine, "PUT", "/lambda-endpoint", {"EndpointUrl": "http://elsewhere"})
    assert runner_only.status_code == 404  # the runner's own extras are not served


def test_executions_are_listed_by_function_name_or_arn_with_one_status(engine):  # type: ignore[no-untyped-def]
    arn = started(engine)
    engine.executor.stop_execution(started(engine, "order-9"))
    listed = call(engine, "GET", "/2025-12-01/functions/durable-long/durable-executions?Statuses=RUNNING")
    assert [e["DurableExecutionArn"] for e in listed.json()["DurableExecutions"]] == [arn]
    by_arn = quote("arn:aws:lambda:us-east-1:111111111111:function:durable-long", safe="")
    assert (
        len(call(engine, "GET", f"/2025-12-01/functions/{by_arn}/durable-executions").json()["DurableExecutions"]) == 2
    )
    two = call(engine, "GET", "/2025-12-01/functions/durable-long/durable-executions?Statuses=RUNNING&Statuses=FAILED")
    assert (two.status_code, two.json()["message"]) == (400, "Cannot filter by more than one status")
    nothing = call(engine, "GET", "/2025-12-01/functions/no-such/durable-executions")
    assert (nothing.status_code, nothing.headers["x-amzn-ErrorType"]) == (404, "ResourceNotFoundException")


def test_pause_resume_and_delete_answer_lambdas_errors_for_the_wrong_state(engine):  # type: ignore[no-untyped-def]
    arn = quote(started(engine), safe="")
    assert call(engine, "POST", f"/2025-12-01/durable-executions/{arn}/resume").status_code == 409  # not paused
    assert call(engine, "POST", f"/2025-12-01/durable-executions/{arn}/pause").status_code == 202
    assert call(engine, "GET", f"/2025-12-01/durable-executions/{arn}").json()["Status"] == "PAUSED"
    assert call(engine, "POST", f"/2025-12-01/durable-executions/{arn}/resume").status_code == 202
    assert call(engine, "GET", f"/2025-12-01/durable-executions/{arn}").json()["Status"] == "RUNNING"
    running = call(engine, "DELETE", f"/2025-12-01/durable-executions/{arn}")
    assert (running.status_code, running.headers["x-amzn-ErrorType"]) == (409, "ResourceConflictException")
    assert call(engine, "POST", f"/2025-12-01/durable-executions/{arn}/stop", b"").status_code == 200
    closed = call(engine, "POST", f"/2025-12-01/durable-executions/{arn}/pause")
    assert (closed.status_code, closed.headers["x-amzn-ErrorType"]) == (409, "ResourceConflictException")
    deleted = call(engine, "DELETE", f"/2025-12-01/durable-executions/{arn}")
    assert deleted.status_code == 202 and "DeletionRequestTimestamp" in deleted.json()
    assert call(engine, "GET", f"/2025-12-01/durable-executions/{arn}").status_code == 404


def test_the_control_endpoints_list_executions_and_refuse_to_resume_what_does_not_wait(engine):  # type: ignore[no-untyped-def]
    arn = started(engine)
    rows = call(engine, "GET", "/_local/durable/executions?function=durable-long").json()["executions"]
    assert [r["DurableExecutionArn"] for r in rows] == [arn]
    assert call(engine, "GET", "/_local/durable/executions?function=nope").status_code == 404
    nothing = call(engine, "POST", "/_local/durable/resume", {"arn": arn})
    assert (nothing.status_code, nothing.headers["x-amzn-ErrorType"]) == (409, "ResourceConflictException")
    assert call(engine, "POST", "/_local/durable/resume", {"arn": 7}).status_code == 400
    assert call(engine, "POST", "/_local/durable/resume", {"arn": arn + "x"}).status_code == 404


def test_a_raw_arn_path_becomes_one_encoded_segment():  # type: ignore[no-untyped-def]
    arn = "arn:aws:lambda:us-east-1:111111111111:function:f:$LATEST/durable-execution/n/id"
    assert durable_api.raw_arn_path(f"/2025-12-01/durable-executions/{arn}/stop") == (
        f"/2025-12-01/durable-executions/{quote(arn, safe='')}/stop"
    )
    encoded = f"/2025-12-01/durable-executions/{quote(arn, safe='')}"
    assert durable_api.raw_arn_path(encoded) == encoded
