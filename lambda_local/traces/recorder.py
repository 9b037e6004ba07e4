"""The plane's own spans (service `lambda-local`), recorded where it does the work: a trigger received
(an S3 or SNS notification, an SQS batch, a stream batch, a schedule firing, an API Gateway or function
URL request, an Invoke API call), an asynchronous event queued (stored, then taken), each invocation
attempt, and each destination record sent.

The trace header is the thread that ties them: a trigger continues the trace of the header it came with
(a function's Invoke or SendMessage carries one) or starts a trace; each span hands on a header whose
`Parent` is itself, and an invocation's span is the `Parent` of the header the function receives
(`_X_AMZN_TRACE_ID`), so the function's own spans, exported to the plane (OTLP), hang under it. Locally
every invocation is sampled (`Sampled=1`). One SNS message that two functions' queues receive (an
upload, fanned out) is one trace: its ids come from the message id, so both pollers record one
trigger span. Spans go to the store attached at the plane's start (none: they are not kept).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from lambda_local.events import recursion
from lambda_local.traces.model import (
    MAX_MESSAGE,
    MAX_NAME,
    Span,
    clean_attributes,
    clip,
    redacted,
    root_of,
    stable_id,
    trace_id_of,
    valid_span_id,
)
from lambda_local.traces.store import PLANE, TraceStore

_current: ContextVar[str | None] = ContextVar("lambda_local_trace_header", default=None)


class Recorder:
    """Where the plane's spans go: the store attached (plane.start), or nowhere."""

    def __init__(self) -> None:
        self.store: TraceStore | None = None
        self.recorded = 0

    def attach(self, store: TraceStore | None) -> None:
        self.store = store

    def record(self, span: Any) -> None:
        self.recorded += 1
        if self.store is not None:
            self.store.add([span])


RECORDER = Recorder()


def _joined(known: Mapping[str, str]) -> str:
    """A trace header of `known` fields: Root, Parent, Sampled first; Lineage and the rest kept after."""
    first = [key for key in ("Root", "Parent", "Sampled") if key in known]
    return ";".join(f"{key}={known[key]}" for key in [*first, *(key for key in known if key not in first)])


def _header(trace: str | None, **changes: str) -> str:
    """`trace` with `changes` to its fields."""
    return _joined(recursion.fields(trace) | changes)


def _ids(known: Mapping[str, str]) -> tuple[str, str]:
    root = known.get("Root", "")
    trace_id = trace_id_of(root) if root else secrets.token_hex(16)
    parent = known.get("Parent", "").lower()
    return trace_id, parent if valid_span_id(parent) else ""


def ids_of(trace: str | None) -> tuple[str, str]:
    """The trace id and the parent span id (or "") a trace header names; a header without a Root names no
    trace: a new trace id."""
    return _ids(recursion.fields(trace))


@dataclass
class Open:
    """A span begun and not yet ended: `header` is what the work it covers hands on."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: str
    start_ns: int
    header: str
    attributes: dict[str, object] = field(default_factory=dict)
    ended: bool = False

    def end(
        self, error: str | None = None, end_ns: int | None = None, attributes: Mapping[str, object] | None = None
    ) -> None:
        """Record it (once), ended now or at `end_ns`, with more `attributes`; `error` marks it failed, with
        that message."""
        if self.ended:
            return
        self.ended = True
        end = time.time_ns() if end_ns is None else end_ns
        RECORDER.record(  # its ids are the plane's own (begin): only the names and values are held to the limits
            Span(
                self.trace_id,
                self.span_id,
                self.parent_id,
                clip(self.name, MAX_NAME),
                PLANE,
                self.kind,
                self.start_ns,
                max(self.start_ns, end),
                "error" if error else "ok",
                clip(redacted(error), MAX_MESSAGE) if error else "",
                clean_attributes(self.attributes | dict(attributes or {})),
            )
        )


def begin(
    name: str,
    trace: str | None,
    kind: str = "internal",
    attributes: Mapping[str, object] | None = None,
    start_ns: int | None = None,
    trace_id: str | None = None,
    span_id: str | None = None,
) -> Open:
    """A span under the Parent of `trace` (the root of a new trace without one)."""
    known = recursion.fields(trace)
    found, parent = _ids(known)
    trace_id = trace_id or found
    span_id = span_id or secrets.token_hex(8)
    header = _joined(known | {"Root": root_of(trace_id), "Parent": span_id, "Sampled": "1"})
    start = time.time_ns() if start_ns is None else start_ns
    return Open(
        trace_id, span_id, parent if parent != span_id else "", name, kind, start, header, dict(attributes or {})
    )


def trigger(
    name: str,
    trace: str | None = None,
    kind: str = "consumer",
    attributes: Mapping[str, object] | None = None,
    start_ns: int | None = None,
    key: str | None = None,
) -> Open:
    """A trigger received: it continues `trace` (an incoming header), or starts a trace. `key` names what
    was received when more than one receiver gets it (an SNS message's id): the trace and the span are
    then the same for each (from the key, and `start_ns`, the time it was sent)."""
    if key is None:
        return begin(name, trace, kind, attributes, start_ns)
    seconds = f"{start_ns // 1_000_000_000:08x}"[-8:] if start_ns else stable_id(f"time:{key}", 8)
    trace_id = seconds + stable_id(f"trace:{key}", 24)
    return begin(name, None, kind, attributes, start_ns, trace_id=trace_id, span_id=stable_id(f"span:{key}", 16))


def received(
    name: str,
    trace: str | None = None,
    attributes: Mapping[str, object] | None = None,
    start_ns: int | None = None,
    key: str | None = None,
) -> str:
    """A trigger received and handed on at once (a poller's message, a schedule firing): its span runs
    from when it was sent (`start_ns`, when known) to now; the header it hands on."""
    span = trigger(name, trace, "consumer", attributes, start_ns, key)
    span.end(end_ns=max(time.time_ns(), span.start_ns))
    return span.header


def onward(header: str | None, function: str) -> str:
    """The header of `function`'s invocation in the chain `header` carries: its lineage counted once more
    (recursion.next_trace), its Root and Parent kept (the span that hands it on)."""
    following = recursion.next_trace(header, function)
    known = recursion.fields(header)
    kept = {key: known[key] for key in ("Root", "Parent") if key in known}
    return _header(following, **kept) if kept else following


def queued(function: str, trace: str | None, since_ns: int, request_id: str) -> None:
    """An asynchronous event's wait: stored at `since_ns`, taken for its first attempt now."""
    span = begin(
        f"queued {function}",
        trace,
        "internal",
        {"faas.name": function, "lambda_local.request_id": request_id},
        start_ns=since_ns,
    )
    span.end(end_ns=max(time.time_ns(), since_ns))


class Result(Protocol):
    """What an invocation answered (environments.instance.InvokeResult)."""

    @property
    def payload(self) -> bytes: ...
    @property
    def function_error(self) -> str | None: ...
    @property
    def request_id(self) -> str: ...
    @property
    def duration_ms(self) -> float: ...
    @property
    def cold_start(self) -> bool: ...


R = TypeVar("R", bound=Result)
T = TypeVar("T")


def error_text(payload: bytes) -> str:
    """`errorType: errorMessage` of a function error's payload."""
    try:
        body = json.loads(payload[:65536])
    except (ValueError, RecursionError):
        return "function error"
    if not isinstance(body, dict):
        return "function error"
    return f"{body.get('errorType', 'Error')}: {body.get('errorMessage', '')}".strip(": ")[:300]


async def invocation(
    function: str,
    trace: str | None,
    call: Callable[[str], Awaitable[R]],
    source: str,
    attempt: int = 1,
    request_id: str | None = None,
) -> R:
    """One invocation attempt of `function`, its span the Parent of the header `call` passes to it."""
    attributes: dict[str, object] = {
        "faas.name": function,
        "lambda_local.source": source,
        "lambda_local.attempt": attempt,
    }
    if request_id:
        attributes["lambda_local.request_id"] = request_id
    name = f"invoke {function}" + (f" (attempt {attempt})" if attempt > 1 else "")
    span = begin(name, trace, "client", attributes)
    try:
        result = await call(span.header)
    except BaseException as exc:
        span.end(error=f"{type(exc).__name__}: {exc}"[:300])
        raise
    span.end(
        error=error_text(result.payload) if result.function_error else None,
        attributes={
            "faas.invocation_id": result.request_id,
            "faas.coldstart": result.cold_start,
            "lambda_local.duration_ms": round(result.duration_ms, 1),
        },
    )
    return result


@contextlib.asynccontextmanager
async def destination(what: str, function: str, trace: str | None, target: str) -> AsyncIterator[Open]:
    """A destination record sent (`what`: on-success, on-failure): its span covers the send and its
    retries; an invocation the record starts (a Lambda destination) continues the trace (`current`)."""
    span = begin(f"{what} destination {target}", trace, "producer", {"faas.name": function})
    token = _current.set(span.header)
    try:
        yield span
    except BaseException as exc:
        span.end(error=f"{type(exc).__name__}: {exc}"[:300])
        raise
    finally:
        _current.reset(token)
    span.end()


def current() -> str | None:
    """The header of the destination span being sent in this task, if any."""
    return _current.get()


# --- what each source knows of a trigger ---------------------------------------------------------------


def _ns(text: object) -> int | None:
    """Epoch nanoseconds of an ISO 8601 time (`2026-11-20T20:00:00.123Z`), None when it is none."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp() * 1_000_000) * 1000


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _s3_part(record: Mapping[str, Any]) -> tuple[str, dict[str, object], int | None, str]:
    """An S3 record's name part, attributes, time and identity."""
    s3 = _dict(record.get("s3"))
    bucket = str(_dict(s3.get("bucket")).get("name", ""))
    obj = _dict(s3.get("object"))
    key = str(obj.get("key", ""))
    event = str(record.get("eventName", ""))
    attributes: dict[str, object] = {"aws.s3.bucket": bucket, "aws.s3.key": key, "aws.s3.event": event}
    identity = f"s3:{bucket}/{key}@{obj.get('sequencer') or obj.get('eTag', '')}:{record.get('eventTime', '')}"
    return f"S3 {event} {bucket}/{key}", attributes, _ns(record.get("eventTime")), identity


def notification(event_type: str, source_name: str, event: Mapping[str, Any]) -> str:
    """An SNS or S3 notification the plane received for a trigger: its span (the same one for every
    function the message reached) from when it was sent to now; the header the invocation continues."""
    records = event.get("Records")
    record = records[0] if isinstance(records, list) and records and isinstance(records[0], dict) else {}
    if event_type == "SNS" and isinstance(record.get("Sns"), dict):
        sns = record["Sns"]
        topic = str(sns.get("TopicArn", "")).rsplit(":", 1)[-1] or source_name
        name, start = f"SNS {topic}", _ns(sns.get("Timestamp"))
        attributes: dict[str, object] = {
            "messaging.system": "aws_sns",
            "messaging.destination.name": topic,
            "messaging.message.id": str(sns.get("MessageId", "")),
        }
        with contextlib.suppress(ValueError, RecursionError, TypeError, IndexError, AttributeError):
            inner = json.loads(sns.get("Message", ""))
            if isinstance(inner, dict) and isinstance(inner.get("Records"), list) and inner["Records"]:
                s3_name, s3_attributes, s3_start, _ = _s3_part(inner["Records"][0])
                name, start = f"{s3_name} → SNS {topic}", s3_start or start
                attributes |= s3_attributes
        key = f"sns:{sns.get('MessageId', '')}" if sns.get("MessageId") else None
        return received(name, None, attributes, start, key)
    name, attributes, start, identity = _s3_part(record)
    return received(name, None, attributes, start, identity if record else None)


def sqs_batch(queue: str, records: list[dict[str, Any]]) -> str:
    """An SQS mapping's batch: it continues the first message's trace (AWSTraceHeader: the sender's)."""
    attributes = [r.get("attributes", {}) if isinstance(r.get("attributes"), dict) else {} for r in records]
    sent = [int(a["SentTimestamp"]) for a in attributes if str(a.get("SentTimestamp", "")).isdigit()]
    trace = attributes[0].get("AWSTraceHeader") if attributes else None
    return received(
        f"SQS {queue} ({len(records)} message{'s' if len(records) != 1 else ''})",
        trace if isinstance(trace, str) else None,
        {
            "messaging.system": "aws_sqs",
            "messaging.destination.name": queue,
            "messaging.batch.message_count": len(records),
            "messaging.message.id": str(records[0].get("messageId", "")) if records else "",
        },
        min(sent) * 1_000_000 if sent else None,
    )


def stream_batch(kind: str, stream: str, count: int, first_arrival: float | None) -> str:
    """A stream mapping's batch (a new trace: stream records carry none), from its first record's arrival."""
    return received(
        f"{kind} {stream} ({count} record{'s' if count != 1 else ''})",
        None,
        {"aws.stream.kind": kind, "aws.stream.name": stream, "messaging.batch.message_count": count},
        int(first_arrival * 1e9) if first_arrival else None,
    )


def schedule(rule: str, function: str, at: datetime) -> str:
    """A schedule's firing (a new trace)."""
    return received(
        f"Schedule {rule}", None, {"aws.events.rule": rule, "faas.name": function, "faas.time": at.isoformat()}
    )


def http_request(
    surface: str, method: str, path: str, trace: str | None, attributes: Mapping[str, object] | None = None
) -> Open:
    """An HTTP request that invokes a function (API Gateway, a function URL): it continues the caller's
    X-Amzn-Trace-Id, when it sends one. Ended by the caller, with the response."""
    shown = urlsplit(path).path[:120]
    attributes = {"http.request.method": method, "url.path": shown} | dict(attributes or {})
    return trigger(f"{surface} {method} {shown}", trace, "server", attributes)


async def responded(span: Open, answer: Awaitable[T]) -> T:
    """`answer` (a Starlette response), `span` ended with its status: a 5xx is an error."""
    try:
        response = await answer
    except BaseException as exc:
        span.end(error=f"{type(exc).__name__}: {exc}"[:300])
        raise
    status = int(getattr(response, "status_code", 0))
    span.end(error=f"HTTP {status}" if status >= 500 else None, attributes={"http.response.status_code": status})
    return response
