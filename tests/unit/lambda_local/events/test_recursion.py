"""Recursive loop detection's pure parts: the lineage in the trace header, and the trace kept on the
messages a function sends (https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html)."""

import json

from lambda_local.events import recursion


def test_the_lineage_grows_by_one_per_round_of_the_same_function() -> None:
    first = recursion.next_trace(None, "loop")
    assert recursion.depth(first, "loop") == 1 and recursion.fields(first)["Root"].startswith("1-")
    second = recursion.next_trace(first, "loop")
    assert recursion.depth(second, "loop") == 2
    assert recursion.fields(second)["Root"] == recursion.fields(first)["Root"]  # one chain, one root
    assert recursion.fields(second)["Parent"] != recursion.fields(first)["Parent"]
    assert recursion.depth(second, "other") == 0  # another function's chain starts at one
    assert recursion.depth(recursion.next_trace(second, "other"), "other") == 1
    assert recursion.depth("Root=1-abc;Lineage=garbage", "loop") == 0


def test_a_loop_through_two_functions_counts_each_and_stops_at_16() -> None:
    trace = None
    for _ in range(recursion.MAX_DEPTH):  # a -> b -> a -> b ...
        trace = recursion.next_trace(trace, "a")
        assert not recursion.stopped(trace, "b")
        trace = recursion.next_trace(trace, "b")
    assert recursion.depth(trace, "a") == recursion.depth(trace, "b") == recursion.MAX_DEPTH
    assert recursion.stopped(trace, "a") and recursion.stopped(trace, "b")
    assert not recursion.stopped(trace, "c")  # a third function is not part of the loop


def test_the_header_botocore_sends_is_read_percent_decoded() -> None:
    from urllib.parse import quote

    trace = recursion.next_trace(recursion.next_trace(None, "b"), "a")
    sent = quote(trace, safe="-=;:+&[]{}\"',")  # botocore's add_recursion_detection_header
    assert "%7C" in sent
    assert recursion.depth(sent, "a") == 1 and recursion.depth(sent, "b") == 1


def test_a_sent_message_keeps_the_callers_trace_as_its_aws_trace_header() -> None:
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
    one = recursion.with_trace_attribute("AmazonSQS.SendMessage", {"QueueUrl": "q", "MessageBody": "b"}, trace)
    assert one["MessageSystemAttributes"]["AWSTraceHeader"] == {"DataType": "String", "StringValue": trace}
    batch = recursion.with_trace_attribute(
        "AmazonSQS.SendMessageBatch", {"QueueUrl": "q", "Entries": [{"Id": "1", "MessageBody": "b"}]}, trace
    )
    assert batch["Entries"][0]["MessageSystemAttributes"]["AWSTraceHeader"]["StringValue"] == trace
    own = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=mine"}}
    kept = recursion.with_trace_attribute("AmazonSQS.SendMessage", {"MessageSystemAttributes": own}, trace)
    assert kept["MessageSystemAttributes"] == own  # one the caller set is left alone
    assert recursion.with_trace_attribute("AmazonSQS.ListQueues", {}, trace) == {}


def test_the_dead_letter_queue_is_read_from_the_redrive_policy() -> None:
    policy = json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:jobs-dead", "maxReceiveCount": 3})
    assert recursion.dead_letter_queue(policy) == "jobs-dead"
    assert recursion.dead_letter_queue(None) is None and recursion.dead_letter_queue("nope") is None
