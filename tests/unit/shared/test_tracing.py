"""shared/tracing.py as a function runs it: a handler decorated with it runs in a fresh interpreter
(tracing instruments botocore for the whole process) with Lambda's variables, its AWS endpoint and its
OTLP endpoint pointed at a recorder of this test. The recorder answers the AWS calls, keeps their
headers and bodies, and decodes the spans the OTLP/HTTP exporter sends (protobuf, as a collector)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from shared.tracing import get_tracer
from tests.support.otlp import Recorder, attributes, recording, xray_trace_id

ROOT = Path(__file__).resolve().parents[3]
ROOT_ID = "1-67891233-abcdef012345678912345678"
PARENT_ID = "53995c3f42cd8ad8"
LINEAGE = "a87bd80c:1|68fd508a:5"
HEADER = f"Root={ROOT_ID};Parent={PARENT_ID};Sampled=1;Lineage={LINEAGE}"
PAYLOAD = {"date": "2031-06-01"}

PROBE = """
import json, os, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
from shared.clients import invoke_function
from shared.tracing import get_tracer

tracer = get_tracer(*json.loads(os.environ["PROBE_INSTRUMENT"]))

class Context:
    def __init__(self, request_id):
        self.aws_request_id = request_id
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:probeFn"

@tracer.capture_method
def call(payload):
    return invoke_function("callee", payload)

@tracer.capture_lambda_handler
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("thread"):
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(invoke_function, "callee", event["payload"]).result()
    return call(event["payload"])

seen = []
for invocation in json.loads(sys.argv[1]):
    os.environ["_X_AMZN_TRACE_ID"] = invocation["header"]  # as the runtime does before each invocation
    try:
        outcome = {"result": handler(invocation["event"], Context(invocation["id"]))}
    except Exception as exc:
        outcome = {"raised": f"{type(exc).__name__}: {exc}"}
    if os.environ.get("PROBE_RECORDER"):  # what the collector had received when the handler returned
        with urllib.request.urlopen(os.environ["PROBE_RECORDER"] + "/exports") as answer:
            outcome["exports_then"] = json.load(answer)
    seen.append(outcome)
modules = sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry")
wrapped = {"pymysql": hasattr(sys.modules.get("pymysql") and sys.modules["pymysql"].connect, "__wrapped__")}
print(json.dumps({"seen": seen, "modules": modules, "wrapped": wrapped, "requests": "requests" in sys.modules}))
"""


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with recording() as seen:
        yield seen


def run(
    invocations: list[dict[str, Any]],
    aws: str,
    env: dict[str, str],
    instrument: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run the probe's invocations in a fresh interpreter with Lambda's variables and `env`."""
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    base |= {
        "PYTHONPATH": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "probeFn",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": aws,
        "PROBE_INSTRUMENT": json.dumps(instrument),
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(invocations)],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["stderr"] = out.stderr
    return result


def invocation(request_id: str, event: dict[str, Any] | None = None, header: str = HEADER) -> dict[str, Any]:
    return {"id": request_id, "event": event or {"payload": PAYLOAD}, "header": header}


def fields(header: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in unquote(header).split(";"))


def test_each_invocation_is_one_server_span_under_its_trace_header_exported_before_it_returns(
    recorder: Recorder,
) -> None:
    second = f"Root=1-67891234-{'b' * 24};Parent={'c' * 16};Sampled=1"
    result = run(
        [invocation("req-1"), invocation("req-2", header=second), invocation("req-3", {"fail": True})],
        recorder.url,
        {"OTEL_EXPORTER_OTLP_ENDPOINT": recorder.url, "PROBE_RECORDER": recorder.url},
    )
    assert [outcome.get("result", outcome.get("raised")) for outcome in result["seen"]] == [
        {"ok": True},
        {"ok": True},
        "ValueError: asked to fail",
    ]
    # each invocation's spans went out in one request before its handler returned
    assert [outcome["exports_then"] for outcome in result["seen"]] == [1, 2, 3]
    servers = [s for s in recorder.spans() if s.kind == Span.SPAN_KIND_SERVER]
    assert [s.name for s in servers] == ["probeFn"] * 3
    assert [attributes(s.attributes)["faas.invocation_id"] for s in servers] == ["req-1", "req-2", "req-3"]
    assert [attributes(s.attributes)["faas.coldstart"] for s in servers] == [True, False, False]
    assert attributes(servers[0].attributes)["cloud.account.id"] == "123456789012"
    assert (xray_trace_id(servers[0]), servers[0].parent_span_id.hex()) == (ROOT_ID, PARENT_ID)
    assert (xray_trace_id(servers[1]), servers[1].parent_span_id.hex()) == (f"1-67891234-{'b' * 24}", "c" * 16)
    # the failed invocation: its exception recorded, its span in error
    failed = servers[2]
    assert failed.status.code == Status.STATUS_CODE_ERROR
    (event,) = [e for e in failed.events if e.name == "exception"]
    assert attributes(event.attributes)["exception.type"] == "ValueError"
    assert attributes(event.attributes)["exception.message"] == "asked to fail"
    assert servers[0].status.code != Status.STATUS_CODE_ERROR
    # the function is the resource
    resource = recorder.resources()[0]
    assert resource["service.name"] == "probeFn" and resource["faas.name"] == "probeFn"
    assert resource["cloud.platform"] == "aws_lambda" and resource["faas.max_memory"] == 256 * 1024 * 1024


@pytest.mark.parametrize("in_thread", [False, True], ids=["handler", "thread-pool"])
def test_an_aws_call_is_a_child_span_named_as_parent_in_its_trace_header(recorder: Recorder, in_thread: bool) -> None:
    event = {"payload": PAYLOAD, "thread": in_thread}
    run([invocation("req-1", event)], recorder.url, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": recorder.url + "/v1/traces"})
    spans = {s.span_id: s for s in recorder.spans()}
    (server,) = [s for s in spans.values() if s.kind == Span.SPAN_KIND_SERVER]
    (call,) = [s for s in spans.values() if s.kind == Span.SPAN_KIND_CLIENT]
    assert call.name == "Lambda.Invoke" and call.trace_id == server.trace_id
    assert attributes(call.attributes)["faas.invoked_name"] == "callee"
    ancestor = spans[call.parent_span_id]  # the method span (capture_method) or, in a thread, the handler's
    assert ancestor is server or spans[ancestor.parent_span_id] is server
    ((headers, body),) = recorder.invokes()
    # botocore set the header from _X_AMZN_TRACE_ID; ours names the call's span, keeping the lineage
    assert fields(headers["X-Amzn-Trace-Id"]) == {
        "Root": ROOT_ID,
        "Parent": call.span_id.hex(),
        "Sampled": "1",
        "Lineage": LINEAGE,
    }
    assert json.loads(body) == PAYLOAD, "the invoked function's payload is left as it was written"


def test_an_unsampled_trace_records_nothing_and_passes_its_decision_on(recorder: Recorder) -> None:
    header = f"Root={ROOT_ID};Parent={PARENT_ID};Sampled=0;Lineage={LINEAGE}"
    result = run([invocation("req-1", header=header)], recorder.url, {"OTEL_EXPORTER_OTLP_ENDPOINT": recorder.url})
    assert result["seen"] == [{"result": {"ok": True}}]
    assert recorder.exports == []
    ((headers, _),) = recorder.invokes()
    sent = fields(headers["X-Amzn-Trace-Id"])
    assert (sent["Root"], sent["Sampled"], sent["Lineage"]) == (ROOT_ID, "0", LINEAGE)


def test_without_an_invocation_header_the_span_starts_an_xray_trace(recorder: Recorder) -> None:
    before = int(time.time())
    run([invocation("req-1", header="")], recorder.url, {"OTEL_EXPORTER_OTLP_ENDPOINT": recorder.url})
    (server,) = [s for s in recorder.spans() if s.kind == Span.SPAN_KIND_SERVER]
    assert server.parent_span_id == b""
    assert before - 5 <= int(server.trace_id.hex()[:8], 16) <= time.time() + 5, "X-Ray ids start with the time"


@pytest.mark.parametrize(
    "env",
    [{}, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_SDK_DISABLED": "true"}],
    ids=["no-endpoint", "sdk-disabled"],
)
def test_off_it_records_and_imports_nothing(recorder: Recorder, env: dict[str, str]) -> None:
    result = run([invocation("req-1"), invocation("req-2", {"fail": True})], recorder.url, env, ("pymysql",))
    assert result["seen"] == [{"result": {"ok": True}}, {"raised": "ValueError: asked to fail"}]
    assert result["modules"] == [] and result["wrapped"] == {"pymysql": False}
    assert recorder.exports == []
    ((headers, _),) = recorder.invokes()
    assert fields(headers["X-Amzn-Trace-Id"]) == fields(HEADER), "botocore's own header, from _X_AMZN_TRACE_ID"


def test_pymysql_is_instrumented_where_asked(recorder: Recorder) -> None:
    result = run([invocation("req-1")], recorder.url, {"OTEL_EXPORTER_OTLP_ENDPOINT": recorder.url}, ("pymysql",))
    assert result["wrapped"] == {"pymysql": True}
    assert "opentelemetry.exporter.otlp.proto.http.trace_exporter" in result["modules"]
    assert result["requests"] is False, "the exporter sends through urllib3 (botocore's), not requests"


@pytest.fixture
def silent_collector() -> Iterator[str]:
    """A collector that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize("collector", ["closed", "silent"])
def test_a_dead_collector_does_not_fail_the_invocation(
    recorder: Recorder, silent_collector: str, collector: str
) -> None:
    endpoint = closed_port() if collector == "closed" else silent_collector
    result = run(
        [invocation("req-1"), invocation("req-2"), invocation("req-3", {"fail": True})],
        recorder.url,
        {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
    )
    assert result["seen"] == [{"result": {"ok": True}}] * 2 + [{"raised": "ValueError: asked to fail"}]
    assert len(recorder.invokes()) == 2


def test_only_known_libraries_are_instrumented() -> None:
    with pytest.raises(ValueError, match="requests"):
        get_tracer("requests")
