"""One span, as the store keeps it, whoever made it (a function's OpenTelemetry SDK or the plane), and the
limits every span is held to: no secret in an attribute, no name or value of unbounded size.

Trace ids are OpenTelemetry's (32 hex digits); an X-Ray trace header's Root `1-5759e988-bd862e3f...`
is the same id with its dashes (AWS's X-Ray propagator maps one onto the other), so a trace that
crosses the plane and the functions is one trace whichever side wrote a span.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

AttributeValue = str | int | float | bool

KINDS: Final = ("internal", "server", "client", "producer", "consumer")
STATUSES: Final = ("unset", "ok", "error")

MAX_NAME = 200  # characters of a span's name
MAX_SERVICE = 100
MAX_MESSAGE = 500  # of a status message
MAX_ATTRIBUTES = 48  # per span; the rest are left out
MAX_KEY = 128
MAX_VALUE = 512  # characters of a string value
REDACTED = "[redacted]"

_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_SPAN_ID = re.compile(r"[0-9a-f]{16}")
_XRAY_ROOT = re.compile(r"1-([0-9a-f]{8})-([0-9a-f]{24})")
# Attribute keys whose values are credentials or what gives one away: dropped, whatever the value.
_SECRET_KEY = re.compile(
    r"authorization|cookie|passw|secret|token|credential|api[-_.]?key|signature|private[-_.]?key|session",
    re.IGNORECASE,
)
# Values that are credentials under any key: a bearer token, an AWS access key id, a JWT.
_SECRET_VALUE = re.compile(
    r"bearer\s+\S+|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*", re.IGNORECASE
)


def valid_trace_id(value: str) -> bool:
    return bool(_TRACE_ID.fullmatch(value)) and value != "0" * 32


def valid_span_id(value: str) -> bool:
    return bool(_SPAN_ID.fullmatch(value)) and value != "0" * 16


def trace_id_of(root: str) -> str:
    """The OpenTelemetry trace id of an X-Ray Root (`1-<8 hex>-<24 hex>` -> the 32 hex digits); a root of
    another shape (a caller may send any) gets a stable id of its own."""
    if match := _XRAY_ROOT.fullmatch(root.strip().lower()):
        return match[1] + match[2]
    return hashlib.sha256(root.encode()).hexdigest()[:32]


def root_of(trace_id: str) -> str:
    """The X-Ray Root of an OpenTelemetry trace id."""
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def stable_id(key: str, digits: int) -> str:
    """A hex id derived from `key`: every receiver of one message makes the same one."""
    return hashlib.sha256(key.encode()).hexdigest()[:digits]


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def redacted(text: str) -> str:
    """`text` with any credential in it (a bearer token, an AWS access key id, a JWT) redacted."""
    return _SECRET_VALUE.sub(REDACTED, text)


@functools.lru_cache(maxsize=4096)
def _kept_key(key: str) -> str | None:
    """The key as kept, or None for one that names a secret (keys repeat: the answer is remembered)."""
    name = clip(key, MAX_KEY)
    return None if not name or _SECRET_KEY.search(name) else name


def clean_value(value: object) -> AttributeValue:
    """An attribute value as kept: a bool, an int, a finite float, or a string within MAX_VALUE characters
    with any credential in it redacted."""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return clip(redacted(value if isinstance(value, str) else str(value)), MAX_VALUE)


def clean_attributes(raw: Mapping[str, object]) -> dict[str, AttributeValue]:
    """At most MAX_ATTRIBUTES attributes, none whose key names a secret (dropped, not kept redacted: a
    trace is no place for them), keys and values within their limits."""
    kept: dict[str, AttributeValue] = {}
    for key, value in raw.items():
        if len(kept) >= MAX_ATTRIBUTES:
            break
        name = _kept_key(str(key))
        if name is None or value is None:
            continue
        kept[name] = clean_value(value)
    return kept


@dataclass(frozen=True)
class Span:
    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits
    parent_id: str  # 16 hex digits, or "" for a trace's root
    name: str
    service: str  # the function's (its OTEL_SERVICE_NAME) or "lambda-local" (the plane's own spans)
    kind: str  # one of KINDS
    start_ns: int  # epoch nanoseconds
    end_ns: int
    status: str = "unset"  # one of STATUSES
    status_message: str = ""
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    @property
    def error(self) -> bool:
        return self.status == "error"


def make_span(
    trace_id: str,
    span_id: str,
    parent_id: str,
    name: str,
    service: str,
    kind: str,
    start_ns: int,
    end_ns: int,
    status: str = "unset",
    status_message: str = "",
    attributes: Mapping[str, object] | None = None,
) -> Span:
    """A span held to the limits: ids lower-cased (a parent id that is no span id is no parent), the kind
    and status one of theirs, the end not before the start, names, messages and attributes bounded and
    sanitised. ValueError when the trace or span id is not one."""
    trace_id, span_id, parent_id = trace_id.lower(), span_id.lower(), parent_id.lower()
    if not valid_trace_id(trace_id):
        raise ValueError(f"not a trace id: {trace_id[:40]!r}")
    if not valid_span_id(span_id):
        raise ValueError(f"not a span id: {span_id[:40]!r}")
    start_ns = max(0, int(start_ns))
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=parent_id if valid_span_id(parent_id) and parent_id != span_id else "",
        name=clip(name.strip() or "(unnamed)", MAX_NAME),
        service=clip(service.strip() or "unknown", MAX_SERVICE),
        kind=kind if kind in KINDS else "internal",
        start_ns=start_ns,
        end_ns=max(start_ns, int(end_ns)),
        status=status if status in STATUSES else "unset",
        status_message=clip(redacted(status_message), MAX_MESSAGE),
        attributes=clean_attributes(attributes or {}),
    )
