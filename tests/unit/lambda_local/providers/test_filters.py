"""FilterCriteria: EventBridge patterns on Lambda's records.
Operators: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
Per source: https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html"""

import base64
import json

import pytest

from lambda_local.providers.filters import FilterError, keep, matches, parse_filters, split


def pattern(text: str) -> dict:
    (parsed,) = parse_filters({"Filters": [{"Pattern": text}]}, "at")
    return parsed


def test_exact_values_match_equal_values_and_numbers_numerically() -> None:
    # "Matching values": a list of values, any of which matches; arrays in the event match any element.
    p = pattern('{"kind": ["order", "refund"], "count": [2]}')
    assert matches(p, {"kind": "order", "count": 2.0})
    assert matches(p, {"kind": ["x", "refund"], "count": 2})
    assert not matches(p, {"kind": "Order", "count": 2})
    assert not matches(p, {"kind": "order"})  # a field the pattern names must be there
    assert matches(pattern('{"flag": [true], "gone": [null]}'), {"flag": True, "gone": None})
    assert not matches(pattern('{"flag": [true]}'), {"flag": 1})


def test_prefix_suffix_and_equals_ignore_case() -> None:
    # "Prefix matching", "Suffix matching", "Equals-ignore-case matching"
    assert matches(pattern('{"k": [{"prefix": "ord-"}]}'), {"k": "ord-1"})
    assert not matches(pattern('{"k": [{"prefix": "ord-"}]}'), {"k": "ORD-1"})
    assert matches(pattern('{"k": [{"prefix": {"equals-ignore-case": "ord-"}}]}'), {"k": "ORD-1"})
    assert matches(pattern('{"k": [{"suffix": ".png"}]}'), {"k": "a.png"})
    assert matches(pattern('{"k": [{"suffix": {"equals-ignore-case": ".PNG"}}]}'), {"k": "a.png"})
    assert matches(pattern('{"k": [{"equals-ignore-case": "alice"}]}'), {"k": "ALICE"})
    assert not matches(pattern('{"k": [{"prefix": "1"}]}'), {"k": 12})  # strings only


def test_anything_but() -> None:
    # "Anything-but matching": values, a list, or a prefix / suffix / equals-ignore-case / wildcard inside.
    assert matches(pattern('{"k": [{"anything-but": "a"}]}'), {"k": "b"})
    assert not matches(pattern('{"k": [{"anything-but": ["a", "b"]}]}'), {"k": "b"})
    assert matches(pattern('{"n": [{"anything-but": [1, 2]}]}'), {"n": 3})
    assert not matches(pattern('{"k": [{"anything-but": {"prefix": "tmp/"}}]}'), {"k": "tmp/x"})
    assert matches(pattern('{"k": [{"anything-but": {"suffix": ".tmp"}}]}'), {"k": "a.txt"})
    assert not matches(pattern('{"k": [{"anything-but": {"equals-ignore-case": "X"}}]}'), {"k": "x"})
    assert not matches(pattern('{"k": [{"anything-but": "a"}]}'), {})  # not for a missing field


def test_numeric_ranges() -> None:
    # "Numeric matching": =, <, <=, >, >= and a range of two.
    p = pattern('{"t": [{"numeric": [">", 0, "<=", 5]}]}')
    assert [matches(p, {"t": t}) for t in (0, 0.1, 5, 5.01)] == [False, True, True, False]
    assert matches(pattern('{"t": [{"numeric": ["=", 3]}]}'), {"t": 3.0})
    assert not matches(p, {"t": "3"})  # a string is not a number


def test_exists_wildcard_cidr_and_or() -> None:
    # "Exists matching", "Wildcard matching", "IP address matching", "$or matching"
    assert matches(pattern('{"k": [{"exists": true}]}'), {"k": None})
    assert matches(pattern('{"k": [{"exists": false}]}'), {"other": 1})
    assert not matches(pattern('{"k": [{"exists": false}]}'), {"k": 1})
    assert matches(pattern('{"a": {"b": [{"exists": false}]}}'), {})
    assert matches(pattern('{"k": [{"wildcard": "dir/*/file.png"}]}'), {"k": "dir/a/b/file.png"})
    assert not matches(pattern('{"k": [{"wildcard": "dir/*.png"}]}'), {"k": "dir/a.jpg"})
    assert matches(pattern('{"ip": [{"cidr": "10.0.0.0/24"}]}'), {"ip": "10.0.0.7"})
    assert not matches(pattern('{"ip": [{"cidr": "10.0.0.0/24"}]}'), {"ip": "10.0.1.7"})
    either = pattern('{"$or": [{"a": [1]}, {"b": [2]}]}')
    assert matches(either, {"b": 2}) and not matches(either, {"a": 2})


def test_nested_patterns() -> None:
    p = pattern('{"detail": {"state": ["on"], "size": [{"numeric": [">", 9]}]}}')
    assert matches(p, {"detail": {"state": "on", "size": 10}})
    assert not matches(p, {"detail": {"state": "on", "size": 9}})
    assert not matches(p, {"detail": "on"})


def test_sqs_bodies_are_matched_as_json_when_they_are_json() -> None:
    # "Filtering for Amazon SQS": body properties when the body is JSON; a plain body only as a string.
    patterns = parse_filters({"Filters": [{"Pattern": '{"body": {"kind": ["keep"]}}'}]}, "at")
    assert keep(patterns, {"messageId": "1", "body": '{"kind": "keep"}'}, "sqs")
    assert not keep(patterns, {"messageId": "2", "body": '{"kind": "drop"}'}, "sqs")
    assert not keep(patterns, {"messageId": "3", "body": "kind keep"}, "sqs")
    plain = parse_filters({"Filters": [{"Pattern": '{"body": ["hello"]}'}]}, "at")
    assert keep(plain, {"body": "hello"}, "sqs")
    assert keep((), {"body": "anything"}, "sqs")  # no filters: every record


def test_kinesis_data_is_decoded_and_dynamodb_images_are_matched_as_written() -> None:
    data = base64.b64encode(json.dumps({"temperature": 60}).encode()).decode()
    hot = parse_filters({"Filters": [{"Pattern": '{"data": {"temperature": [{"numeric": [">", 50]}]}}'}]}, "at")
    assert keep(hot, {"kinesis": {"data": data, "partitionKey": "p"}}, "kinesis")
    assert not keep(hot, {"kinesis": {"data": base64.b64encode(b"not json").decode()}}, "kinesis")
    key = parse_filters({"Filters": [{"Pattern": '{"kinesis": {"partitionKey": ["p"]}}'}]}, "at")
    assert keep(key, {"kinesis": {"data": data, "partitionKey": "p"}}, "kinesis")
    inserted = parse_filters(
        {"Filters": [{"Pattern": '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["keep"]}}}}'}]},
        "at",
    )
    record = {"eventName": "INSERT", "dynamodb": {"Keys": {"id": {"S": "1"}}, "NewImage": {"kind": {"S": "keep"}}}}
    assert keep(inserted, record, "dynamodb")
    assert not keep(inserted, record | {"eventName": "MODIFY"}, "dynamodb")


def test_what_lambda_refuses_is_a_clear_error() -> None:
    with pytest.raises(FilterError, match="at most 5 filters"):
        parse_filters({"Filters": [{"Pattern": "{}"}] * 6}, "at")
    with pytest.raises(FilterError, match=r"Filters\[0\].Pattern: not JSON"):
        parse_filters({"Filters": [{"Pattern": "{"}]}, "at")
    with pytest.raises(FilterError, match="unknown operator 'regex'"):
        pattern('{"k": [{"regex": "a.*"}]}')
    with pytest.raises(FilterError, match="numeric"):
        pattern('{"k": [{"numeric": ["~", 1]}]}')
    with pytest.raises(FilterError, match="a list of matchers or a nested pattern"):
        pattern('{"k": "a"}')


def test_split_keeps_each_side_in_order():
    assert split([5, 1, 4, 2, 3], lambda n: n % 2 == 1) == ([5, 1, 3], [4, 2])
    assert split([], bool) == ([], [])
