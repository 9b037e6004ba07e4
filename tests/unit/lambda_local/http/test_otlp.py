"""The OTLP/HTTP receiver (POST /v1/traces) and the trace endpoints, behind the Invoke API's doors as the
plane mounts them: the functions' exports are kept and shown as one trace; a body that is no export is a
400 naming why, an oversized one 413; a browser, a foreign Host or (for /_local/) a function's container
is refused."""

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette

from lambda_local.http import console, otlp
from lambda_local.http.doors import locked, own_origins
from lambda_local.traces.store import TraceStore

PROTOBUF = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TraceStore]:
    found = TraceStore(tmp_path / "traces.sqlite")
    found.start()
    yield found
    found.close()


def client(store: TraceStore, peer: str = "127.0.0.1", host: str = "127.0.0.1:3001") -> httpx.Client:
    """The receiver and the console's routes behind the doors, as __main__ mounts the Invoke API's app."""
    plane = SimpleNamespace(traces=store, aws=lambda service: None)
    app = Starlette(routes=[*console.routes(plane), *otlp.routes(plane)])  # type: ignore[arg-type]
    guarded = locked(app, control=True, origins=own_origins([3001]), peers=("127.0.0.1", "::1"))
    transport = httpx.ASGITransport(app=guarded, client=(peer, 40000))  # type: ignore[arg-type]
    return _Sync(transport, f"http://{host}")


class _Sync:
    """A blocking client over the ASGI transport (the tests read like the requests they make)."""

    def __init__(self, transport: httpx.ASGITransport, base: str) -> None:
        self.transport, self.base = transport, base

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import asyncio

        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url=self.base) as http:
                return await http.request(method, path, **kwargs)

        return asyncio.run(go())

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)


def export() -> tuple[bytes, str]:
    """An SDK export: a function's handler span with an S3 call under it, and the trace id."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "photoResize"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("handler") as handler:
        handler.set_attribute("faas.invocation_id", "req-42")
        with tracer.start_as_current_span("S3.PutObject"):
            pass
    spans = exporter.get_finished_spans()
    return encode_spans(spans).SerializeToString(), f"{spans[0].context.trace_id:032x}"


def test_an_sdk_export_is_kept_and_shown_as_one_trace(store: TraceStore) -> None:
    body, trace_id = export()
    http = client(store)
    answer = http.post("/v1/traces", content=body, headers=PROTOBUF)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(answer.content).HasField("partial_success")
    assert store.flush()
    trace = http.get("/_local/traces/req-42").json()  # found by the request id its handler span names
    assert trace["trace_id"] == trace_id and [(s["name"], s["depth"]) for s in trace["spans"]] == [
        ("handler", 0),
        ("S3.PutObject", 1),
    ]
    assert trace["services"] == ["photoResize"]
    text = http.get(f"/_local/traces/{trace_id}", params={"format": "text"}).text
    assert text.startswith(f"trace {trace_id}") and "\n    S3.PutObject" in text
    listed = http.get("/_local/traces").json()
    assert listed["traces"][0]["trace_id"] == trace_id and listed["kept"]["spans"] == 2
    assert http.get("/_local/traces/nothing-like-it").status_code == 404


def test_otlp_json_and_gzip_are_received(store: TraceStore) -> None:
    span = {
        "traceId": "5759e988bd862e3fe1be46a994272793",
        "spanId": "53995c3f42cd8ad8",
        "name": "GET /weather",
        "startTimeUnixNano": "1",
        "endTimeUnixNano": "2",
    }
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()
    http = client(store)
    answer = http.post("/v1/traces", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200 and answer.json() == {}
    zipped = http.post(
        "/v1/traces", content=gzip.compress(export()[0]), headers=PROTOBUF | {"Content-Encoding": "gzip"}
    )
    assert zipped.status_code == 200
    assert store.flush() and store.counts()["spans"] == 3


@pytest.mark.parametrize(
    ("body", "headers", "status", "says"),
    [
        (b"\x0a\xff\xff", PROTOBUF, 400, "not an OTLP ExportTraceServiceRequest"),
        (b"{oops", {"Content-Type": "application/json"}, 400, "not JSON"),
        (b'{"resourceSpans": 1}', {"Content-Type": "application/json"}, 400, "resourceSpans must be a list"),
        (b"x", PROTOBUF | {"Content-Encoding": "gzip"}, 400, "Content-Encoding gzip, but"),
        (b"\x1f\x8b" + b"\x00" * 20, PROTOBUF | {"Content-Encoding": "gzip"}, 400, "no gzip data"),
        (b"{}", {"Content-Type": "text/plain"}, 415, "Content-Type must be"),
        (b"{}", PROTOBUF | {"Content-Encoding": "br"}, 415, "Content-Encoding must be"),
    ],
)
def test_what_is_no_export_is_refused_with_the_reason(
    store: TraceStore, body: bytes, headers: dict[str, str], status: int, says: str
) -> None:
    answer = client(store).post("/v1/traces", content=body, headers=headers)
    assert answer.status_code == status and says in answer.content.decode(errors="replace")


def test_a_body_past_the_limit_is_413_compressed_or_not(store: TraceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(otlp, "BODY_LIMIT", 1000)
    http = client(store)
    assert http.post("/v1/traces", content=b"\x00" * 2000, headers=PROTOBUF).status_code == 413
    bomb = gzip.compress(b"\x00" * 100_000)  # small on the wire, 100 KB inflated
    assert len(bomb) < 1000
    answer = http.post("/v1/traces", content=bomb, headers=PROTOBUF | {"Content-Encoding": "gzip"})
    assert answer.status_code == 413


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},  # the doors: a foreign page
        {"Origin": "http://127.0.0.1:3001"},  # the console's own page: still a browser, never an exporter
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Site": "same-origin"},
    ],
)
def test_a_browser_never_exports_spans(store: TraceStore, headers: dict[str, str]) -> None:
    answer = client(store).post("/v1/traces", content=export()[0], headers=PROTOBUF | headers)
    assert answer.status_code == 403
    assert store.flush() and store.counts()["spans"] == 0


def test_a_foreign_host_name_is_refused(store: TraceStore) -> None:
    answer = client(store, host="evil.example:3001").post("/v1/traces", content=export()[0], headers=PROTOBUF)
    assert answer.status_code == 403 and "LAMBDA_LOCAL_ALLOWED_HOSTS" in answer.text


def test_a_function_container_exports_but_cannot_read_traces(
    store: TraceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDA_LOCAL_ALLOWED_HOSTS", "lambda")  # Docker mode: the plane's compose name
    container = client(store, peer="172.18.0.5", host="lambda:3001")
    assert container.post("/v1/traces", content=export()[0], headers=PROTOBUF).status_code == 200
    refused = container.get("/_local/traces")
    assert refused.status_code == 403 and "control endpoints" in refused.text
