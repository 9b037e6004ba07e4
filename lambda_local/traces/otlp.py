"""OTLP/HTTP trace exports decoded into spans (model.py): protobuf (`application/x-protobuf`, what the
OpenTelemetry SDK's exporter sends) with opentelemetry-proto, and OTLP/JSON (`application/json`), whose
ids are hex strings and whose 64-bit numbers may be strings (the OTLP specification's JSON mapping).

A body that is no export request raises `Malformed` with the reason (the receiver's 400); a span in it
that is no span (an id of the wrong length, a time that is no number) is left out and counted as
rejected (OTLP's partial success), and the others are kept. At most MAX_SPANS of one request are read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from lambda_local.traces.model import KINDS, AttributeValue, Span, make_span

MAX_SPANS = 10_000  # read of one request; the rest are rejected
_KIND_NAMES = {f"SPAN_KIND_{kind.upper()}": kind for kind in KINDS}
_STATUS_NAMES = {"STATUS_CODE_UNSET": "unset", "STATUS_CODE_OK": "ok", "STATUS_CODE_ERROR": "error"}
_STATUS_CODES = {0: "unset", 1: "ok", 2: "error"}
MAX_NESTED = 4  # levels of an array or key-value list value kept as text


class Malformed(ValueError):
    """The body is no OTLP trace export request."""


@dataclass
class Decoded:
    spans: list[Span] = field(default_factory=list)
    rejected: int = 0
    reason: str = ""  # why the first rejected span was (OTLP's partial success error_message)

    def reject(self, why: str) -> None:
        self.rejected += 1
        self.reason = self.reason or why


def _kind(value: object) -> str:
    if isinstance(value, str):
        return _KIND_NAMES.get(value, "internal")
    if isinstance(value, int) and 1 <= value <= len(KINDS):
        return KINDS[value - 1]
    return "internal"


def _status(value: object) -> str:
    if isinstance(value, str):
        return _STATUS_NAMES.get(value, "unset")
    return _STATUS_CODES.get(value, "unset") if isinstance(value, int) else "unset"


def _service(resource: Mapping[str, AttributeValue]) -> str:
    """The resource's service.name; an SDK without one says `unknown_service...`: then the function's
    name, as Lambda's resource detector sets it (faas.name)."""
    name = str(resource.get("service.name", ""))
    if not name or name.startswith("unknown_service"):
        name = str(resource.get("faas.name") or name or "unknown")
    return name


def _exception(events: Iterable[Mapping[str, AttributeValue]]) -> str:
    """`Type: message` of a span's first exception event (what a failed handler's span records)."""
    for attributes in events:
        if "exception.type" in attributes or "exception.message" in attributes:
            kind, message = attributes.get("exception.type", ""), attributes.get("exception.message", "")
            return f"{kind}: {message}".strip(": ")
    return ""


def _span(
    decoded: Decoded,
    service: str,
    fields: Mapping[str, Any],
    attributes: dict[str, AttributeValue],
    events: Sequence[Mapping[str, AttributeValue]],
) -> None:
    if len(decoded.spans) >= MAX_SPANS:
        decoded.reject(f"more than {MAX_SPANS} spans in one request")
        return
    status = fields["status"]
    message = fields["message"] or (_exception(events) if status == "error" else "")
    try:
        span = make_span(
            fields["trace_id"],
            fields["span_id"],
            fields["parent_id"],
            fields["name"],
            service,
            fields["kind"],
            int(fields["start_ns"]),
            int(fields["end_ns"]),
            status,
            message,
            attributes,
        )
    except (ValueError, TypeError) as exc:
        decoded.reject(f"span {str(fields.get('name', ''))[:80]!r}: {exc}")
        return
    decoded.spans.append(span)


# --- protobuf -----------------------------------------------------------------------------------------


def _any_value(value: AnyValue, depth: int = 0) -> AttributeValue:
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "bool_value":
        return value.bool_value
    if which == "int_value":
        return value.int_value
    if which == "double_value":
        return value.double_value
    if which == "bytes_value":
        return value.bytes_value[:64].hex()
    if depth >= MAX_NESTED:
        return "…"
    if which == "array_value":
        return json.dumps([_any_value(v, depth + 1) for v in value.array_value.values[:32]], ensure_ascii=False)
    if which == "kvlist_value":
        pairs = {kv.key: _any_value(kv.value, depth + 1) for kv in value.kvlist_value.values[:32]}
        return json.dumps(pairs, ensure_ascii=False)
    return ""


def _pb_attributes(pairs: Sequence[Any]) -> dict[str, AttributeValue]:
    return {kv.key: _any_value(kv.value) for kv in pairs[:256]}


def decode_protobuf(body: bytes) -> Decoded:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise Malformed(f"not an OTLP ExportTraceServiceRequest in protobuf: {exc}") from None
    decoded = Decoded()
    for resource_spans in request.resource_spans:
        service = _service(_pb_attributes(resource_spans.resource.attributes))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                fields = {
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_id": span.parent_span_id.hex(),
                    "name": span.name,
                    "kind": _kind(int(span.kind)),
                    "start_ns": span.start_time_unix_nano,
                    "end_ns": span.end_time_unix_nano,
                    "status": _status(int(span.status.code)),
                    "message": span.status.message,
                }
                events = [_pb_attributes(event.attributes) for event in span.events[:16]]
                _span(decoded, service, fields, _pb_attributes(span.attributes), events)
    return decoded


def protobuf_answer(decoded: Decoded) -> bytes:
    """The ExportTraceServiceResponse for `decoded`: empty, or the partial success with what was rejected."""
    answer = ExportTraceServiceResponse()
    if decoded.rejected:
        answer.partial_success.CopyFrom(
            ExportTracePartialSuccess(rejected_spans=decoded.rejected, error_message=decoded.reason[:500])
        )
    return bytes(answer.SerializeToString())


# --- JSON ---------------------------------------------------------------------------------------------


def _get(obj: Mapping[str, Any], camel: str, default: Any = None) -> Any:
    """A field by its JSON name (lowerCamelCase), or by its protobuf name (snake_case), which receivers
    accept too."""
    if camel in obj:
        return obj[camel]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return obj.get(snake, default)


def _list(obj: Mapping[str, Any], camel: str, what: str) -> list[Any]:
    value = _get(obj, camel, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise Malformed(f"{what} must be a list")
    return value


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Malformed(f"{what} must be an object")
    return value


def _json_value(value: Any, depth: int = 0) -> AttributeValue:
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    if "stringValue" in value:
        return str(value["stringValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return str(value["intValue"])
    if "doubleValue" in value:
        try:
            return float(value["doubleValue"])
        except (TypeError, ValueError):
            return str(value["doubleValue"])
    if "bytesValue" in value:
        return str(value["bytesValue"])[:128]
    if depth >= MAX_NESTED:
        return "…"
    array = value.get("arrayValue")
    if isinstance(array, dict) and isinstance(array.get("values"), list):
        return json.dumps([_json_value(v, depth + 1) for v in array["values"][:32]], ensure_ascii=False)
    kvlist = value.get("kvlistValue")
    if isinstance(kvlist, dict) and isinstance(kvlist.get("values"), list):
        pairs = _json_attributes(kvlist["values"][:32], depth + 1)
        return json.dumps(pairs, ensure_ascii=False)
    return ""


def _json_attributes(pairs: Any, depth: int = 0) -> dict[str, AttributeValue]:
    if not isinstance(pairs, list):
        return {}
    return {
        str(kv["key"]): _json_value(kv.get("value"), depth)
        for kv in pairs[:256]
        if isinstance(kv, dict) and isinstance(kv.get("key"), str)
    }


def _json_id(value: Any) -> str:
    return value if isinstance(value, str) else ""


def decode_json(body: bytes) -> Decoded:
    try:
        request = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Malformed(f"not JSON: {exc}") from None
    if not isinstance(request, dict):
        raise Malformed("an OTLP/JSON export request is an object with resourceSpans")
    decoded = Decoded()
    for resource_spans in _list(request, "resourceSpans", "resourceSpans"):
        resource_spans = _object(resource_spans, "each of resourceSpans")
        resource = _object(_get(resource_spans, "resource"), "resource")
        service = _service(_json_attributes(_get(resource, "attributes")))
        scopes = _list(resource_spans, "scopeSpans", "scopeSpans") or _list(
            resource_spans, "instrumentationLibrarySpans", "instrumentationLibrarySpans"
        )
        for scope_spans in scopes:
            for span in _list(_object(scope_spans, "each of scopeSpans"), "spans", "spans"):
                if not isinstance(span, dict):
                    decoded.reject("a span must be an object")
                    continue
                status = _get(span, "status")
                status = status if isinstance(status, dict) else {}
                fields = {
                    "trace_id": _json_id(_get(span, "traceId")),
                    "span_id": _json_id(_get(span, "spanId")),
                    "parent_id": _json_id(_get(span, "parentSpanId", "")),
                    "name": str(_get(span, "name", "")),
                    "kind": _kind(_get(span, "kind")),
                    "start_ns": _get(span, "startTimeUnixNano", 0),
                    "end_ns": _get(span, "endTimeUnixNano", 0),
                    "status": _status(_get(status, "code")),
                    "message": str(_get(status, "message", "") or ""),
                }
                listed = _get(span, "events")
                events = [
                    _json_attributes(_get(event, "attributes"))
                    for event in (listed[:16] if isinstance(listed, list) else [])
                    if isinstance(event, dict)
                ]
                _span(decoded, service, fields, _json_attributes(_get(span, "attributes")), events)
    return decoded


def json_answer(decoded: Decoded) -> bytes:
    if not decoded.rejected:
        return b"{}"
    partial = {"rejectedSpans": str(decoded.rejected), "errorMessage": decoded.reason[:500]}
    return json.dumps({"partialSuccess": partial}).encode()
