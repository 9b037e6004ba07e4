"""One trace's spans as a tree, a waterfall and an indented text."""

from lambda_local.traces.model import Span, make_span
from lambda_local.traces.tree import as_json, render_text, rows

TRACE = "5759e988bd862e3fe1be46a994272793"
MS = 1_000_000


def span(span_id: str, parent: str, name: str, start_ms: int, end_ms: int, service: str = "lambda-local") -> Span:
    return make_span(
        TRACE, span_id * 16, parent * 16 if parent else "", name, service, "internal", start_ms * MS, end_ms * MS
    )


def test_children_follow_their_parent_by_start_and_orphans_are_roots() -> None:
    spans = [
        span("b", "a", "invoke labels", 5, 30),
        span("a", "", "SNS uploads", 0, 4),
        span("c", "a", "invoke resize", 3, 40),
        span("d", "c", "handler", 4, 39, "resize"),
        span("e", "9", "orphan", 50, 60),  # its parent never arrived
    ]
    found = [(r.span.name, r.depth, r.offset_ns // MS) for r in rows(spans)]
    assert found == [
        ("SNS uploads", 0, 0),
        ("invoke resize", 1, 3),
        ("handler", 2, 4),
        ("invoke labels", 1, 5),
        ("orphan", 0, 50),
    ]


def test_a_cycle_of_parents_shows_every_span_once() -> None:
    spans = [span("a", "b", "one", 0, 1), span("b", "a", "two", 1, 2), span("c", "c", "self", 2, 3)]
    names = [r.span.name for r in rows(spans)]
    assert sorted(names) == ["one", "self", "two"] and len(names) == 3


def test_a_deep_chain_needs_no_recursion() -> None:
    spans = [
        make_span(TRACE, f"{i + 1:016x}", f"{i:016x}" if i else "", f"s{i}", "x", "internal", i, i + 1)
        for i in range(5000)
    ]
    assert [r.depth for r in rows(spans)][-1] == 4999


def test_the_waterfall_json_and_the_text() -> None:
    spans = [span("a", "", "SNS uploads", 0, 100), span("b", "a", "invoke resize", 10, 90)]
    spans.append(
        make_span(
            TRACE, "c" * 16, "b" * 16, "handler", "resize", "server", 20 * MS, 80 * MS, "error", "ValueError: bad"
        )
    )
    waterfall = as_json(TRACE, spans)
    assert waterfall["duration_ms"] == 100 and waterfall["services"] == ["lambda-local", "resize"]
    assert waterfall["errors"] == 1
    assert [(s["name"], s["depth"], s["offset_ms"], s["duration_ms"]) for s in waterfall["spans"]] == [
        ("SNS uploads", 0, 0, 100),
        ("invoke resize", 1, 10, 80),
        ("handler", 2, 20, 60),
    ]
    text = render_text(TRACE, spans).splitlines()
    assert text[0].startswith(f"trace {TRACE}") and "3 spans" in text[0]
    assert text[1].lstrip().startswith("SNS uploads") and "100.0 ms" in text[1]
    assert text[3].startswith("      handler") and "ERROR ValueError: bad" in text[3] and "+20.0 ms" in text[3]
    assert render_text(TRACE, []) == f"trace {TRACE}: no spans\n"
