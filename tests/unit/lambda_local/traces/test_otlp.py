"""OTLP/HTTP export requests decoded: protobuf as the OpenTelemetry SDK's exporter encodes it, and
OTLP/JSON; what is no request is refused with the reason, what is no span is counted as rejected."""

import json

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from lambda_local.traces import otlp

TRACE = "5759e988bd862e3fe1be46a994272793"


def sdk_export() -> tuple[bytes, list[str]]:
    """What the SDK's OTLP/HTTP exporter sends for a handler span with a client span under it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "photoResize", "faas.name": "photoResize"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("handler", kind=SpanKind.SERVER) as handler:
        handler.set_attribute("faas.invocation_id", "req-1")
        handler.set_attribute("http.request.header.authorization", "Bearer secret")
        with tracer.start_as_current_span("S3.GetObject", kind=SpanKind.CLIENT) as call:
            call.set_attribute("aws.s3.bucket", "photo-uploads")
            try:
                raise ValueError("no such key")
            except ValueError as exc:
                call.record_exception(exc)
                call.set_status(Status(StatusCode.ERROR))
    spans = exporter.get_finished_spans()
    return encode_spans(spans).SerializeToString(), [f"{s.context.span_id:016x}" for s in spans]


def test_the_sdk_exporters_protobuf_is_read_span_for_span() -> None:
    body, ids = sdk_export()
    decoded = otlp.decode_protobuf(body)
    assert decoded.rejected == 0 and len(decoded.spans) == 2
    call, handler = decoded.spans
    assert {call.span_id, handler.span_id} == set(ids)
    assert call.parent_id == handler.span_id and handler.parent_id == "" and call.trace_id == handler.trace_id
    assert handler.service == call.service == "photoResize"
    assert handler.kind == "server" and call.kind == "client"
    assert call.status == "error" and call.status_message == "ValueError: no such key"
    assert handler.attributes == {"faas.invocation_id": "req-1"}  # the authorization header is dropped
    assert call.attributes["aws.s3.bucket"] == "photo-uploads" and call.end_ns >= call.start_ns > 0
    assert otlp.protobuf_answer(decoded) == b""  # all accepted: an empty ExportTraceServiceResponse


def json_request(*spans: dict[str, object], service: str = "weatherApi") -> bytes:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    return json.dumps({"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": list(spans)}]}]}).encode()


def test_otlp_json_with_hex_ids_and_string_numbers_is_read() -> None:
    body = json_request(
        {
            "traceId": TRACE,
            "spanId": "53995c3f42cd8ad8",
            "parentSpanId": "1111111111111111",
            "name": "GET /weather",
            "kind": 2,
            "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": 1700000000250000000,
            "attributes": [
                {"key": "http.status_code", "value": {"intValue": "200"}},
                {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"boolValue": True}]}}},
            ],
            "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
        }
    )
    decoded = otlp.decode_json(body)
    (span,) = decoded.spans
    assert (span.trace_id, span.parent_id, span.kind, span.service) == (
        TRACE,
        "1111111111111111",
        "server",
        "weatherApi",
    )
    assert span.duration_ns == 250_000_000 and span.status == "error" and span.status_message == "boom"
    assert span.attributes == {"http.status_code": 200, "tags": '["a", true]'}
    assert otlp.json_answer(decoded) == b"{}"


def test_a_span_that_is_no_span_is_rejected_and_the_others_kept() -> None:
    good = {
        "traceId": TRACE,
        "spanId": "53995c3f42cd8ad8",
        "name": "ok",
        "startTimeUnixNano": "1",
        "endTimeUnixNano": "2",
    }
    bad_id = good | {"spanId": "zz"}
    bad_time = good | {"spanId": "63995c3f42cd8ad8", "startTimeUnixNano": "soon"}
    decoded = otlp.decode_json(json_request(good, bad_id, bad_time, "not a span"))  # type: ignore[arg-type]
    assert [s.name for s in decoded.spans] == ["ok"] and decoded.rejected == 3
    answer = json.loads(otlp.json_answer(decoded))["partialSuccess"]
    assert answer["rejectedSpans"] == "3" and "not a span id" in answer["errorMessage"]
    proto = ExportTraceServiceResponse.FromString(otlp.protobuf_answer(decoded))
    assert proto.partial_success.rejected_spans == 3


def test_an_unknown_service_is_named_by_the_function() -> None:
    resource = [
        {"key": "service.name", "value": {"stringValue": "unknown_service:python"}},
        {"key": "faas.name", "value": {"stringValue": "photoLabels"}},
    ]
    span = {
        "traceId": TRACE,
        "spanId": "53995c3f42cd8ad8",
        "name": "x",
        "startTimeUnixNano": "1",
        "endTimeUnixNano": "2",
    }
    body = {"resourceSpans": [{"resource": {"attributes": resource}, "scopeSpans": [{"spans": [span]}]}]}
    assert otlp.decode_json(json.dumps(body).encode()).spans[0].service == "photoLabels"


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b'"x"', b'{"resourceSpans": 3}', b'{"resourceSpans": [{"scopeSpans": {}}]}', b"[" * 100_000],
)
def test_a_json_body_that_is_no_request_is_malformed(body: bytes) -> None:
    if body == b"":
        with pytest.raises(otlp.Malformed, match="not JSON"):
            otlp.decode_json(body)
        return
    with pytest.raises(otlp.Malformed):
        otlp.decode_json(body)


@pytest.mark.parametrize("body", [b"\xff\xff\xff\xff", b"\x0a\x05abc", b"\x0a" + b"\xff" * 10])
def test_a_protobuf_body_that_is_no_request_is_malformed(body: bytes) -> None:
    with pytest.raises(otlp.Malformed, match="ExportTraceServiceRequest"):
        otlp.decode_protobuf(body)


def test_an_empty_protobuf_request_has_no_spans() -> None:
    assert otlp.decode_protobuf(b"").spans == []


def test_at_most_max_spans_are_read_of_one_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(otlp, "MAX_SPANS", 2)
    spans = [
        {"traceId": TRACE, "spanId": f"{i + 1:016x}", "name": "s", "startTimeUnixNano": "1", "endTimeUnixNano": "2"}
        for i in range(5)
    ]
    decoded = otlp.decode_json(json_request(*spans))
    assert len(decoded.spans) == 2 and decoded.rejected == 3
