"""An OTLP/HTTP collector for tests (protobuf, decoded as a collector does), which also answers AWS calls
made to it (Lambda Invoke answers `{"ok": true}`) and keeps their headers and bodies."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span


@dataclass
class Recorder:
    """An AWS endpoint (Lambda Invoke answers `{"ok": true}`) and an OTLP/HTTP collector in one server."""

    calls: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    exports: list[ExportTraceServiceRequest] = field(default_factory=list)
    url: str = ""

    def spans(self) -> list[Span]:
        return [s for e in self.exports for rs in e.resource_spans for ss in rs.scope_spans for s in ss.spans]

    def resources(self) -> list[dict[str, Any]]:
        return [attributes(rs.resource.attributes) for e in self.exports for rs in e.resource_spans]

    def invokes(self) -> list[tuple[dict[str, str], bytes]]:
        return [(headers, body) for path, headers, body in self.calls if path.endswith("/invocations")]


@contextmanager
def recording() -> Iterator[Recorder]:
    """A Recorder serving on a free loopback port while the block runs (GET answers the exports so far)."""
    seen = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.answer(200, json.dumps(len(seen.exports)).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/v1/traces":
                seen.exports.append(ExportTraceServiceRequest.FromString(body))
                self.answer(200, b"", "application/x-protobuf")
            else:
                seen.calls.append((self.path, dict(self.headers.items()), body))
                self.answer(200, b'{"ok": true}')

        def answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    seen.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def attributes(pairs: Any) -> dict[str, Any]:
    def value(v: AnyValue) -> Any:
        return getattr(v, v.WhichOneof("value") or "string_value")

    return {kv.key: value(kv.value) for kv in pairs if isinstance(kv, KeyValue)}


def xray_trace_id(span: Span) -> str:
    hex_id = span.trace_id.hex()
    return f"1-{hex_id[:8]}-{hex_id[8:]}"
