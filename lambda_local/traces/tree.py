"""One trace's spans as a tree: each span under its parent, siblings by start time, a span whose parent
is not among them (not exported, or dropped) a root of its own; and that tree as the waterfall the
console draws (`as_json`: each span's depth and offset from the trace's start) and as the indented text
`make trace` prints (`render_text`). Pure: spans in, rows out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lambda_local.traces.model import Span


@dataclass(frozen=True)
class Row:
    span: Span
    depth: int
    offset_ns: int  # from the trace's first start


def rows(spans: Sequence[Span]) -> list[Row]:
    """The spans depth first, each after its parent, siblings by start. A parent id that is unknown, the
    span's own or part of a cycle makes no parent: every span appears exactly once."""
    by_id: dict[str, Span] = {}
    for span in spans:
        by_id.setdefault(span.span_id, span)
    unique = list(by_id.values())
    if not unique:
        return []
    children: dict[str, list[Span]] = {}
    roots: list[Span] = []
    for span in unique:
        if span.parent_id and span.parent_id in by_id and span.parent_id != span.span_id:
            children.setdefault(span.parent_id, []).append(span)
        else:
            roots.append(span)

    def order(group: list[Span]) -> list[Span]:
        return sorted(group, key=lambda s: (s.start_ns, s.end_ns, s.name, s.span_id))

    start = min(span.start_ns for span in unique)
    found: list[Row] = []
    seen: set[str] = set()

    def walk(tops: list[Span]) -> None:
        stack = [(span, 0) for span in reversed(order(tops))]
        while stack:
            span, depth = stack.pop()
            if span.span_id in seen:
                continue
            seen.add(span.span_id)
            found.append(Row(span, depth, span.start_ns - start))
            stack += [(child, depth + 1) for child in reversed(order(children.get(span.span_id, [])))]

    walk(roots)
    # Spans only a cycle reaches (a -> b -> a): the earliest of what is left is a root, until none is left.
    while len(seen) < len(unique):
        walk(order([span for span in unique if span.span_id not in seen])[:1])
    return found


def services(spans: Sequence[Span]) -> list[str]:
    """The services of a trace in the order they first appear (by start)."""
    named: list[str] = []
    for span in sorted(spans, key=lambda s: s.start_ns):
        if span.service not in named:
            named.append(span.service)
    return named


def _ms(ns: int) -> float:
    return round(ns / 1e6, 3)


def as_json(trace_id: str, spans: Sequence[Span]) -> dict[str, Any]:
    """The waterfall of one trace: its extent and, in tree order, each span with its depth and its offset
    and duration in milliseconds."""
    ordered = rows(spans)
    start = min((span.start_ns for span in spans), default=0)
    end = max((span.end_ns for span in spans), default=0)
    return {
        "trace_id": trace_id,
        "start_ns": start,
        "duration_ms": _ms(end - start),
        "services": services(spans),
        "errors": sum(1 for row in ordered if row.span.error),
        "spans": [
            {
                "span_id": row.span.span_id,
                "parent_id": row.span.parent_id,
                "name": row.span.name,
                "service": row.span.service,
                "kind": row.span.kind,
                "depth": row.depth,
                "offset_ms": _ms(row.offset_ns),
                "duration_ms": _ms(row.span.duration_ns),
                "status": row.span.status,
                "status_message": row.span.status_message,
                "attributes": dict(row.span.attributes),
            }
            for row in ordered
        ],
    }


def _duration(ns: int) -> str:
    ms = ns / 1e6
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms"


def render_text(trace_id: str, spans: Sequence[Span]) -> str:
    """The trace as an indented tree: each span's name, service, duration and start after the trace's,
    an error with its message."""
    ordered = rows(spans)
    if not ordered:
        return f"trace {trace_id}: no spans\n"
    start = min(span.start_ns for span in spans)
    end = max(span.end_ns for span in spans)
    head = f"trace {trace_id}  {_duration(end - start)}, {len(ordered)} spans, services: {', '.join(services(spans))}"
    labels = [f"{'  ' * row.depth}{row.span.name}" for row in ordered]
    width = min(max(len(label) for label in labels), 72)
    service_width = min(max(len(row.span.service) for row in ordered), 28)
    lines = [head]
    for label, row in zip(labels, ordered, strict=True):
        line = (
            f"  {label:<{width}}  {row.span.service:<{service_width}}  "
            f"{_duration(row.span.duration_ns):>9}  +{_duration(row.offset_ns)}"
        )
        if row.span.error:
            line += f"  ERROR {row.span.status_message}".rstrip()
        lines.append(line)
    return "\n".join(lines) + "\n"
