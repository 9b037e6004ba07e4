"""The span store: bounded (newest traces kept, spans per trace capped, the writer's queue too), one
span recorded twice is one span, a request id names its trace, a damaged file is moved aside."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_local.traces.model import Span, make_span
from lambda_local.traces.store import TraceStore


def trace_id(n: int) -> str:
    return f"{n + 1:032x}"


def span(
    trace: int, n: int, parent: int | None = None, service: str = "fn", status: str = "ok", **attributes: object
) -> Span:
    return make_span(
        trace_id(trace),
        f"{n + 1:016x}",
        f"{parent + 1:016x}" if parent is not None else "",
        f"span {n}",
        service,
        "internal",
        1_000 + trace * 100 + n,
        2_000 + trace * 100 + n,
        status,
        attributes=attributes,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TraceStore]:
    found = TraceStore(tmp_path / "traces.sqlite", max_traces=10, max_spans=100, per_trace=5)
    found.start()
    yield found
    found.close()


def test_spans_are_written_by_the_writer_and_read_back_as_a_trace(store: TraceStore) -> None:
    assert store.add([span(0, 0), span(0, 1, parent=0, service="photoResize", status="error")]) == 2
    assert store.flush()
    spans = store.spans(trace_id(0))
    assert [s.name for s in spans] == ["span 0", "span 1"] and spans[1].parent_id == spans[0].span_id
    (summary,) = store.recent()
    assert summary.spans == 2 and summary.errors == 1 and summary.root_name == "span 0"
    assert summary.services == ("fn", "photoResize")
    assert store.counts() == {"traces": 1, "spans": 2, "dropped": 0}


def test_only_the_newest_traces_are_kept(store: TraceStore) -> None:
    for trace in range(25):
        store.add([span(trace, 0)])
        assert store.flush()
    kept = {s.trace_id for s in store.recent(100)}
    assert len(kept) <= 10 and trace_id(24) in kept and trace_id(0) not in kept
    assert store.spans(trace_id(0)) == []


def test_a_trace_keeps_at_most_its_share_of_spans(store: TraceStore) -> None:
    store.add([span(0, n) for n in range(9)])
    assert store.flush()
    assert len(store.spans(trace_id(0))) == 5 and store.dropped == 4


def test_all_traces_together_keep_at_most_max_spans(tmp_path: Path) -> None:
    store = TraceStore(tmp_path / "t.sqlite", max_traces=1000, max_spans=20, per_trace=10)
    store.start()
    for trace in range(10):
        store.add([span(trace, n) for n in range(5)])
        assert store.flush()
    assert store.counts()["spans"] <= 20 and trace_id(9) in {s.trace_id for s in store.recent()}
    store.close()


def test_the_writers_queue_is_bounded_and_what_does_not_fit_is_counted(tmp_path: Path) -> None:
    store = TraceStore(tmp_path / "t.sqlite", queue_limit=3)  # not started: nothing is written
    store._thread = object()  # type: ignore[assignment]  # as if it were: only the queue's bound is under test
    assert store.add([span(0, n) for n in range(5)]) == 3 and store.dropped == 2


def test_a_store_that_is_not_open_drops_spans_without_raising(tmp_path: Path) -> None:
    store = TraceStore(tmp_path / "t.sqlite")
    assert store.add([span(0, 0)]) == 0 and store.dropped == 1
    assert store.recent() == [] and store.resolve("anything") is None


def test_one_span_recorded_twice_is_one_span_over_both_extents(store: TraceStore) -> None:
    first = span(0, 0)
    second = make_span(first.trace_id, first.span_id, "", first.name, first.service, "consumer", 500, 9_000)
    store.add([first, second])
    assert store.flush()
    (kept,) = store.spans(trace_id(0))
    assert (kept.start_ns, kept.end_ns) == (500, 9_000) and store.recent()[0].spans == 1


def test_a_trace_is_found_by_its_id_its_root_or_a_request_id(store: TraceStore) -> None:
    store.add(
        [
            span(0, 0, **{"faas.invocation_id": "req-fn"}),
            span(0, 1, 0, "lambda-local", **{"lambda_local.request_id": "ev-1"}),
        ]
    )
    assert store.flush()
    tid = trace_id(0)
    assert store.resolve(tid) == tid and store.resolve(tid.upper()) == tid
    assert store.resolve(f"1-{tid[:8]}-{tid[8:]}") == tid
    assert store.resolve("req-fn") == tid and store.resolve("ev-1") == tid
    assert store.resolve("unknown") is None and store.resolve(trace_id(5)) is None


def test_a_damaged_file_is_moved_aside_and_a_new_store_starts(tmp_path: Path) -> None:
    path = tmp_path / "traces.sqlite"
    path.write_bytes(b"this is no database" * 200)
    store = TraceStore(path)
    store.start()
    store.add([span(0, 0)])
    assert store.flush() and len(store.spans(trace_id(0))) == 1
    assert [p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    store.close()


def test_spans_outlive_the_store_being_closed_and_opened_again(tmp_path: Path) -> None:
    store = TraceStore(tmp_path / "t.sqlite")
    store.start()
    store.add([span(0, 0)])
    store.close()  # the writer drains what was queued before it ends
    again = TraceStore(tmp_path / "t.sqlite")
    again.start()
    again.add([span(1, 0)])
    assert again.flush() and [s.trace_id for s in again.recent()] == [trace_id(1), trace_id(0)]
    again.close()
