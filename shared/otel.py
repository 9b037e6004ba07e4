"""The OpenTelemetry pipeline behind shared/tracing.py, imported by it at a function's first traced
invocation (never at Init).

- Provider: X-Ray trace ids (AwsXRayIdGenerator: the first 32 bits are the start time, as X-Ray
  requires), the sampler from `OTEL_TRACES_SAMPLER` (default: follow the parent's Sampled flag, i.e.
  Lambda's sampling decision; sample everything without a parent), a resource naming the function
  (`service.name` = the function's name unless `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` say
  otherwise; cloud and faas attributes from Lambda's variables).
- Context: the runtime sets `_X_AMZN_TRACE_ID` for each invocation (Root, Parent, Sampled, Lineage);
  the invocation's span is a child of that Parent, in that Root.
- Outgoing AWS calls (opentelemetry-instrumentation-botocore: a CLIENT span each) carry the CURRENT span
  as X-Amzn-Trace-Id's Parent. botocore itself sets that header from `_X_AMZN_TRACE_ID` in Lambda
  (naming the invocation's parent) and the instrumentation injects only when no header is there, so a
  wrapper of ours rewrites it: Root, Parent, Sampled from the current span, the other fields (Lineage:
  Lambda's recursive loop detection) kept. Messages and payloads stay as the function wrote them: the
  global propagator injects nothing (SNS message attributes), and the Lambda extension's `headers` key
  added to a JSON Invoke payload is turned off; the trace travels in the header, as in AWS.
- Threads: a span started in a thread pool worker is a child of the span that submitted the work
  (opentelemetry-instrumentation-threading), not a root of its own.
- Export: ended spans are kept for the invocation and sent in one OTLP/HTTP request when the handler
  returns or raises (a batch processor's thread would be frozen with the process), with a short timeout
  (`OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT`, seconds; 0.5 by default). A
  collector that is down costs that invocation's spans, never the invocation. The exporter (protobuf)
  is imported at the first export.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, unquote

import wrapt
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.botocore.extensions import _BOTOCORE_EXTENSIONS
from opentelemetry.instrumentation.botocore.extensions.lmbd import _LambdaExtension
from opentelemetry.instrumentation.threading import ThreadingInstrumentor
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.propagators.aws.aws_xray_propagator import TRACE_HEADER_KEY
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

ENV_TRACE_HEADER = "_X_AMZN_TRACE_ID"  # set by the runtime for each invocation
DEFAULT_EXPORT_TIMEOUT_S = 0.5
MAX_SPANS = 2048  # kept per invocation; more are dropped (and counted) rather than held in memory
_OWN_FIELDS = ("Root", "Parent", "Sampled")
_SAFE = "-=;:+&[]{}\"',"  # what botocore leaves unquoted in the header (handlers.add_recursion_detection_header)
_XRAY = AwsXRayPropagator()
_log = logging.getLogger(__name__)


class InvocationSpans(SpanProcessor):
    """Keeps the spans that end during an invocation and exports them in one request on force_flush."""

    def __init__(self, exporter: Callable[[], SpanExporter], limit: int = MAX_SPANS) -> None:
        self._make_exporter = exporter
        self._exporter: SpanExporter | None = None
        self._limit = limit
        self._spans: list[ReadableSpan] = []
        self._dropped = 0
        self._lock = threading.Lock()
        self._warned = False

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            if len(self._spans) < self._limit:
                self._spans.append(span)
            else:
                self._dropped += 1

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        with self._lock:
            spans, self._spans = self._spans, []
            dropped, self._dropped = self._dropped, 0
        if dropped:
            _log.warning("tracing: %d spans of this invocation dropped (more than %d)", dropped, self._limit)
        if not spans:
            return True
        try:
            if self._exporter is None:
                self._exporter = self._make_exporter()
            return self._exporter.export(spans) is SpanExportResult.SUCCESS
        except Exception:  # the invocation's result matters more than its spans
            if not self._warned:
                self._warned = True
                _log.warning("tracing: spans could not be exported", exc_info=True)
            return False

    def shutdown(self) -> None:
        if self._exporter is not None:
            self._exporter.shutdown()


def otlp_exporter() -> SpanExporter:
    """The OTLP/HTTP span exporter at the configured endpoint, imported here (protobuf costs the first
    export, not Init). It sends through urllib3, which botocore has already imported, rather than its
    default, requests (30-90 ms more of the first invocation, for nothing a span needs)."""
    from opentelemetry.exporter.http.transport._urllib3 import Urllib3HTTPTransport
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    def setting(name: str) -> str | None:
        return os.environ.get(f"OTEL_EXPORTER_OTLP_TRACES_{name}") or os.environ.get(f"OTEL_EXPORTER_OTLP_{name}")

    certificate, key = setting("CLIENT_CERTIFICATE"), setting("CLIENT_KEY")
    transport = Urllib3HTTPTransport(
        verify=setting("CERTIFICATE") or True, cert=(certificate, key) if certificate and key else certificate
    )
    timeout = None if setting("TIMEOUT") else DEFAULT_EXPORT_TIMEOUT_S
    return OTLPSpanExporter(timeout=timeout, _transport=transport)


def resource(env: Mapping[str, str]) -> Resource:
    """The function as the spans' resource: Lambda's variables, then `OTEL_RESOURCE_ATTRIBUTES` and
    `OTEL_SERVICE_NAME` over them."""
    name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
    attributes: dict[str, str | int] = {
        "service.name": name or "unknown_service",
        "cloud.provider": "aws",
        "cloud.platform": "aws_lambda",
    }
    for key, variable in (
        ("cloud.region", "AWS_REGION"),
        ("faas.name", "AWS_LAMBDA_FUNCTION_NAME"),
        ("faas.version", "AWS_LAMBDA_FUNCTION_VERSION"),
        ("faas.instance", "AWS_LAMBDA_LOG_STREAM_NAME"),
    ):
        if env.get(variable):
            attributes[key] = env[variable]
    if env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "").isdigit():
        attributes["faas.max_memory"] = int(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]) * 1024 * 1024  # bytes
    return Resource(attributes).merge(OTELResourceDetector().detect())


def header_fields(header: str) -> list[tuple[str, str]]:
    """An X-Amzn-Trace-Id value's fields in order (botocore percent-encodes what it sends)."""
    pairs = (part.partition("=") for part in unquote(header).split(";"))
    return [(key.strip(), value.strip()) for key, sep, value in pairs if sep and key.strip()]


def current_trace_header(carried: str | None) -> str | None:
    """X-Amzn-Trace-Id naming the current span as Parent, with the fields other than Root, Parent and
    Sampled of the header the call `carried` (else of the invocation's); None outside any span."""
    carrier: dict[str, str] = {}
    _XRAY.inject(carrier)
    ours = carrier.get(TRACE_HEADER_KEY)
    if not ours:
        return None
    others = header_fields(carried or os.environ.get(ENV_TRACE_HEADER, ""))
    return quote(";".join([ours, *(f"{k}={v}" for k, v in others if k not in _OWN_FIELDS)]), safe=_SAFE)


def _with_current_trace_header(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    """Endpoint.prepare_request: the request's X-Amzn-Trace-Id names the current span."""
    request = args[0] if args else kwargs["request"]
    header = current_trace_header(request.headers.get(TRACE_HEADER_KEY))
    if header is not None:
        del request.headers[TRACE_HEADER_KEY]
        request.headers[TRACE_HEADER_KEY] = header
    return wrapped(*args, **kwargs)


class _LambdaCalls(_LambdaExtension):
    """Lambda calls with the extension's attributes (faas.invoked_name, ...) but their payload untouched:
    the extension would add the trace context to a JSON Invoke payload as a `headers` key."""

    def before_service_call(self, span: Any, instrumentor_context: Any) -> None:
        pass


class Pipeline:
    """The process's provider, instrumentations and exporting processor."""

    def __init__(self, instrument: tuple[str, ...], exporter: Callable[[], SpanExporter] = otlp_exporter) -> None:
        self.processor = InvocationSpans(exporter)
        self.provider = TracerProvider(id_generator=AwsXRayIdGenerator(), resource=resource(os.environ))
        self.provider.add_span_processor(self.processor)
        trace.set_tracer_provider(self.provider)
        propagate.set_global_textmap(CompositePropagator([]))  # no context into messages (see above)
        self.tracer = self.provider.get_tracer("shared.tracing")
        self.name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "handler"
        self.cold = True
        self._instrumented: set[str] = set()
        ThreadingInstrumentor().instrument(skip_dep_check=True)
        self.instrument(instrument)

    def instrument(self, names: tuple[str, ...]) -> None:
        for name in names:
            if name in self._instrumented:
                continue
            if name == "botocore":
                _BOTOCORE_EXTENSIONS["lambda"] = lambda: _LambdaCalls
                instrumentor = BotocoreInstrumentor()  # type: ignore[no-untyped-call]
                instrumentor.instrument(tracer_provider=self.provider, skip_dep_check=True)
                wrapt.wrap_function_wrapper("botocore.endpoint", "Endpoint.prepare_request", _with_current_trace_header)
            elif name == "pymysql":
                from opentelemetry.instrumentation.pymysql import PyMySQLInstrumentor

                PyMySQLInstrumentor().instrument(tracer_provider=self.provider, skip_dep_check=True)
            self._instrumented.add(name)

    def parent(self) -> Context:
        """The invocation's context: its X-Ray trace header (none: the span starts a trace)."""
        return _XRAY.extract({TRACE_HEADER_KEY: os.environ.get(ENV_TRACE_HEADER, "")})

    def invoke(self, handler: Callable[[Any, Any], Any], event: Any, context: Any) -> Any:
        try:
            with self.span(context):
                return handler(event, context)
        finally:
            self.processor.force_flush()

    @contextmanager
    def span(self, context: Any) -> Iterator[trace.Span]:
        attributes: dict[str, str | bool] = {"faas.coldstart": self.cold}
        self.cold = False
        request_id = getattr(context, "aws_request_id", None)
        if request_id:
            attributes["faas.invocation_id"] = str(request_id)
        arn = str(getattr(context, "invoked_function_arn", "") or "")
        if arn:
            attributes["cloud.resource_id"] = arn
            if arn.count(":") >= 5:
                attributes["cloud.account.id"] = arn.split(":")[4]
        with self.tracer.start_as_current_span(
            self.name, context=self.parent(), kind=SpanKind.SERVER, attributes=attributes
        ) as span:
            yield span
