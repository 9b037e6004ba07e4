"""A span as kept: ids checked, X-Ray roots mapped onto trace ids, attributes sanitised and bounded."""

import pytest

from lambda_local.traces.model import (
    MAX_ATTRIBUTES,
    MAX_VALUE,
    REDACTED,
    clean_attributes,
    make_span,
    root_of,
    trace_id_of,
)

TRACE = "5759e988bd862e3fe1be46a994272793"
SPAN = "53995c3f42cd8ad8"


def test_an_xray_root_and_its_trace_id_are_one_id() -> None:
    assert trace_id_of("1-5759e988-bd862e3fe1be46a994272793") == TRACE
    assert root_of(TRACE) == "1-5759e988-bd862e3fe1be46a994272793"
    assert trace_id_of("1-5759E988-BD862E3FE1BE46A994272793") == TRACE


def test_a_root_of_another_shape_gets_a_stable_id_of_its_own() -> None:
    one = trace_id_of("mine")
    assert one == trace_id_of("mine") and len(one) == 32 and one != trace_id_of("yours")


def test_secret_attributes_are_dropped_and_secret_values_redacted() -> None:
    kept = clean_attributes(
        {
            "http.request.header.authorization": "Bearer abc.def",
            "aws.session_token": "x",
            "db.password": "p",
            "api_key": "k",
            "http.request.header.cookie": "c",
            "message": "sent with Bearer eyJhbGciOi.eyJzdWIiOi.sig and AKIAABCDEFGHIJKLMNOP",
            "aws.s3.key": "photos/a.jpg",
            "count": 3,
            "ratio": 0.5,
            "flag": True,
            "none": None,
        }
    )
    assert set(kept) == {"message", "aws.s3.key", "count", "ratio", "flag"}
    assert "eyJ" not in str(kept["message"]) and "AKIA" not in str(kept["message"]) and REDACTED in str(kept["message"])
    assert kept["count"] == 3 and kept["flag"] is True


def test_attributes_are_bounded_in_number_and_size() -> None:
    kept = clean_attributes({f"k{i}": "v" * 10_000 for i in range(500)})
    assert len(kept) == MAX_ATTRIBUTES
    assert all(isinstance(v, str) and len(v) <= MAX_VALUE for v in kept.values())
    assert clean_attributes({"nan": float("nan")}) == {"nan": "nan"}


def test_a_span_is_held_to_the_limits() -> None:
    span = make_span(TRACE.upper(), SPAN, "not-a-parent", "  ", "", "weird", 200, 100, "bogus", "x" * 9999)
    assert span.trace_id == TRACE and span.parent_id == "" and span.name == "(unnamed)"
    assert span.service == "unknown" and span.kind == "internal" and span.status == "unset"
    assert span.end_ns == span.start_ns == 200 and len(span.status_message) <= 500
    assert make_span(TRACE, SPAN, SPAN, "self", "s", "server", 1, 2).parent_id == ""  # no span is its own parent


@pytest.mark.parametrize(
    ("trace_id", "span_id"), [("", SPAN), ("0" * 32, SPAN), (TRACE, "0" * 16), (TRACE, "xyz"), (TRACE[:30], SPAN)]
)
def test_ids_that_are_no_ids_are_refused(trace_id: str, span_id: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        make_span(trace_id, span_id, "", "n", "s", "internal", 1, 2)
