"""SQS event source mappings' pure parts: the template's settings, the event's records and what a
ReportBatchItemFailures answer deletes (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)."""

import json

import pytest

from lambda_local.environments.instance import InvokeResult
from lambda_local.events.sqs import sqs_record
from lambda_local.providers import EventSpec, SqsSettings, TemplateError
from lambda_local.sources.sqs import failed_ids


def settings(fifo: bool = False, **props: object) -> SqsSettings:
    return SqsSettings.of(EventSpec("Jobs", "SQS", dict(props)), "at", fifo)


def test_settings_take_lambdas_defaults_and_refuse_what_lambda_refuses() -> None:
    assert settings() == SqsSettings(batch_size=10, window_s=0.0)
    big = settings(BatchSize=1000, MaximumBatchingWindowInSeconds=5, ScalingConfig={"MaximumConcurrency": 3})
    assert (big.batch_size, big.window_s, big.max_concurrency) == (1000, 5.0, 3)
    assert settings(FunctionResponseTypes=["ReportBatchItemFailures"]).report_item_failures
    # "When BatchSize is set to more than 10, you must set MaximumBatchingWindowInSeconds to at least 1."
    with pytest.raises(TemplateError, match="at least 1 when BatchSize is over 10"):
        settings(BatchSize=11)
    with pytest.raises(TemplateError, match=r"BatchSize: must be an integer in 1..10, got 11"):
        settings(True, BatchSize=11)  # FIFO queues: at most 10
    with pytest.raises(TemplateError, match=r"MaximumConcurrency: must be an integer in 2..1000"):
        settings(ScalingConfig={"MaximumConcurrency": 1})
    with pytest.raises(TemplateError, match="at most 5 filters"):
        settings(FilterCriteria={"Filters": [{"Pattern": "{}"}] * 6})
    with pytest.raises(TemplateError, match=r"Filters\[0\].Pattern: not JSON"):
        settings(FilterCriteria={"Filters": [{"Pattern": "{nope"}]})
    with pytest.raises(TemplateError, match="at.FilterCriteria: Filters\\[0\\].Pattern.k: unknown operator 'regex'"):
        settings(FilterCriteria={"Filters": [{"Pattern": '{"k": [{"regex": "a"}]}'}]})


def test_a_record_has_the_fields_lambda_documents() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "MD5OfBody": "abc",
        "Body": '{"id": 1}',
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
        "MessageAttributes": {"kind": {"StringValue": "order", "DataType": "String"}},
        "MD5OfMessageAttributes": "def",
    }
    record = sqs_record(message, "arn:aws:sqs:us-east-1:000000000000:jobs", "us-east-1")
    assert record == {
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": '{"id": 1}',
        "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
        "messageAttributes": {
            "kind": {"stringValue": "order", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
        },
        "md5OfMessageAttributes": "def",
        "md5OfBody": "abc",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:jobs",
        "awsRegion": "us-east-1",
    }


def answer(body: object) -> InvokeResult:
    return InvokeResult(json.dumps(body).encode(), None, "req", "", 1.0)


def test_report_batch_item_failures_names_what_stays_or_fails_the_whole_batch() -> None:
    ids = ["a", "b", "c"]
    assert failed_ids(answer({"batchItemFailures": [{"itemIdentifier": "b"}]}), ids) == {"b"}
    assert failed_ids(answer({"batchItemFailures": []}), ids) == set()
    assert failed_ids(answer(None), ids) == set()
    # "If ... itemIdentifier ... is an empty string, null, or an invalid ID, Lambda treats the whole batch as failed"
    assert failed_ids(answer({"batchItemFailures": [{"itemIdentifier": ""}]}), ids) is None
    assert failed_ids(answer({"batchItemFailures": [{"itemIdentifier": "zzz"}]}), ids) is None
    assert failed_ids(answer({"batchItemFailures": [{}]}), ids) is None
