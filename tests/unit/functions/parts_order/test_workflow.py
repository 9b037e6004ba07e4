"""tractorPartsOrder's workflow on AWS's in-memory durable runner (`DurableFunctionTestRunner` of
aws-durable-execution-sdk-python-testing): the real handler, invoked and replayed by the runner as Lambda
would, its AWS calls to moto's in-process mock. The runner skips waits and step back-offs; a callback's
timeout is real time, so the timeout cases set a 1-second supplier window."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_durable_execution_sdk_python.lambda_service import ErrorObject, InvocationStatus
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestResult, DurableFunctionTestRunner
from moto import mock_aws

from lambda_local.providers import load
from lambda_local.sources.provision import create_resources
from stack import ROOT
from tests.support.handlers import LoadedFunction, reset_caches
from tests.support.handlers import load as load_handler

NAMES = load().names
REGION = "us-east-1"
ACCOUNT = "123456789012"
ORDERS = NAMES["PartsOrdersTable"]
CONFIRMATION = "supplier confirmation"


def sample() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "events" / "parts-order" / "order.json").read_text())
    return loaded


class Stack:
    """moto's in-process AWS with the template's resources, a queue on each topic, and the handler."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        create_resources(load(), lambda service: boto3.client(service, region_name=REGION))
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.queues = {name: self._tap(name) for name in ("DealerTopic", "PartsEscalationTopic")}
        self.monkeypatch = monkeypatch

    def _tap(self, topic: str) -> str:
        queue = self.sqs.create_queue(QueueName=f"tap-{topic}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        boto3.client("sns", region_name=REGION).subscribe(
            TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:{NAMES[topic]}", Protocol="sqs", Endpoint=arn
        )
        return queue

    def handler(self, **overrides: str) -> LoadedFunction:
        # Logging the event would log the runner's invocation input (it carries the in-memory service client).
        env = {"POWERTOOLS_LOGGER_LOG_EVENT": "false"} | overrides
        return load_handler("parts-order", self.monkeypatch, env, unset=("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"))

    def received(self, topic: str) -> list[dict[str, Any]]:
        """The SNS notifications the topic's queue holds (consumed)."""
        found = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queues[topic], MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queues[topic], ReceiptHandle=message["ReceiptHandle"])

    def order(self, order_id: str) -> dict[str, Any]:
        item = self.dynamodb.get_item(TableName=ORDERS, Key={"order_id": {"S": order_id}})["Item"]
        return {name: next(iter(value.values())) for name, value in item.items()}


def durable_runner(function: LoadedFunction) -> DurableFunctionTestRunner:
    """AWS's in-memory runner around the function's handler (polling for callbacks every 0.1 s)."""
    return DurableFunctionTestRunner(handler=function.module.handler, region=REGION, poll_interval=0.1)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with mock_aws():
        yield Stack(monkeypatch)
    reset_caches()


@pytest.fixture
def runner(aws: Stack) -> Iterator[DurableFunctionTestRunner]:
    with durable_runner(aws.handler()) as started:
        yield started


def start(runner: DurableFunctionTestRunner, request: dict[str, Any], name: str = "order-1") -> str:
    return runner.run_async(input=json.dumps(request), execution_timeout=60, execution_name=name)


def events(runner: DurableFunctionTestRunner, arn: str) -> list[tuple[str, str | None]]:
    history = runner.get_execution_history(arn)
    return [(event.event_type, event.name) for event in history.events]


def result(outcome: DurableFunctionTestResult) -> Any:
    assert outcome.result is not None, outcome.error
    return json.loads(outcome.result)


def test_a_confirmed_order_is_recorded_with_the_suppliers_delivery_date(
    aws: Stack, runner: DurableFunctionTestRunner
) -> None:
    request = sample()
    arn = start(runner, request)
    callback_id = runner.wait_for_callback(arn, timeout=30)
    [notice] = aws.received("DealerTopic")
    told = json.loads(notice["Message"])
    assert (told["order_id"], told["callback_id"]) == (request["order_id"], callback_id)
    assert notice["Subject"] == "Spare part order: wheel-bearing for tractor T-003"
    waiting = aws.order(request["order_id"])
    assert (waiting["status"], waiting["notified"], waiting["callback_id"]) == ("ORDERED", True, callback_id)
    assert waiting["execution"] == arn

    runner.send_callback_success(callback_id, json.dumps({"delivery_date": "2026-06-01", "reference": "SO-7"}).encode())
    outcome = runner.wait_for_result(arn, timeout=30)

    assert outcome.status is InvocationStatus.SUCCEEDED
    assert result(outcome) == {
        "order_id": request["order_id"],
        "status": "CONFIRMED",
        "delivery_date": "2026-06-01",
        "reference": "SO-7",
    }
    order = aws.order(request["order_id"])
    assert (order["status"], order["delivery_date"], order["supplier_reference"]) == ("CONFIRMED", "2026-06-01", "SO-7")
    assert outcome.get_step("order").status.value == "SUCCEEDED"
    assert outcome.get_step("record").status.value == "SUCCEEDED"
    assert aws.received("PartsEscalationTopic") == []
    assert [name for kind, name in events(runner, arn) if kind == "StepSucceeded"] == [
        "order",
        f"{CONFIRMATION} submitter",
        "record",
    ]


def test_no_answer_within_the_window_escalates_by_email_and_records_it(aws: Stack) -> None:
    handler = aws.handler(SUPPLIER_TIMEOUT_SECONDS="1")
    request = sample()
    with durable_runner(handler) as runner:
        arn = start(runner, request)
        outcome = runner.wait_for_result(arn, timeout=30)
        kinds = events(runner, arn)

    assert result(outcome) == {
        "order_id": request["order_id"],
        "status": "ESCALATED",
        "reason": "timeout",
        "detail": "the supplier did not confirm within 1 s",
    }
    assert ("CallbackTimedOut", f"{CONFIRMATION} create callback id") in kinds
    [email] = aws.received("PartsEscalationTopic")
    assert email["Subject"] == "Spare part order not confirmed: wheel-bearing for tractor T-003"
    assert "did not confirm within 1 s" in email["Message"] and request["order_id"] in email["Message"]
    order = aws.order(request["order_id"])
    assert (order["status"], order["escalation_reason"]) == ("ESCALATED", "timeout")
    assert order["escalation_message_id"] == email["MessageId"]
    assert len(aws.received("DealerTopic")) == 1  # the order was sent; nobody answered


def test_an_order_may_ask_for_a_shorter_window_never_a_longer_one(aws: Stack) -> None:
    handler = aws.handler(SUPPLIER_TIMEOUT_SECONDS="1")
    with durable_runner(handler) as runner:
        arn = start(runner, sample() | {"reply_within_s": 3600})
        assert result(runner.wait_for_result(arn, timeout=30))["detail"] == "the supplier did not confirm within 1 s"
    with durable_runner(aws.handler()) as runner:
        arn = start(runner, sample() | {"order_id": "T-003#wheel-bearing#late", "reply_within_s": 1}, "order-2")
        assert result(runner.wait_for_result(arn, timeout=30))["reason"] == "timeout"


def test_a_supplier_that_declines_gets_the_order_escalated_with_its_reason(
    aws: Stack, runner: DurableFunctionTestRunner
) -> None:
    request = sample()
    arn = start(runner, request)
    callback_id = runner.wait_for_callback(arn, timeout=30)
    runner.send_callback_failure(callback_id, ErrorObject("out of stock until July", "Declined", None, None))
    outcome = runner.wait_for_result(arn, timeout=30)

    assert result(outcome)["status"] == "ESCALATED"
    assert result(outcome)["reason"] == "declined"
    [email] = aws.received("PartsEscalationTopic")
    assert "the supplier declined: out of stock until July" in email["Message"]
    assert aws.order(request["order_id"])["status"] == "ESCALATED"
    assert ("CallbackFailed", f"{CONFIRMATION} create callback id") in events(runner, arn)


def test_an_answer_without_a_delivery_date_is_no_confirmation(aws: Stack, runner: DurableFunctionTestRunner) -> None:
    arn = start(runner, sample())
    runner.send_callback_success(runner.wait_for_callback(arn, timeout=30), b'{"delivery": "soon"}')
    outcome = runner.wait_for_result(arn, timeout=30)
    assert (result(outcome)["status"], result(outcome)["reason"]) == ("ESCALATED", "invalid-confirmation")
    assert "delivery_date must be a date" in result(outcome)["detail"]


def test_an_order_the_dealer_cannot_be_told_of_is_escalated(aws: Stack) -> None:
    sns = boto3.client("sns", region_name=REGION)
    sns.delete_topic(TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:{NAMES['DealerTopic']}")  # NotFound: not retried
    request = sample()
    with durable_runner(aws.handler()) as runner:
        outcome = runner.wait_for_result(start(runner, request), timeout=30)
    assert (result(outcome)["status"], result(outcome)["reason"]) == ("ESCALATED", "not-sent")
    assert aws.order(request["order_id"])["notified"] is False
    assert len(aws.received("PartsEscalationTopic")) == 1


def test_replays_run_each_step_once_and_a_second_execution_for_the_same_order_changes_nothing(
    aws: Stack, runner: DurableFunctionTestRunner
) -> None:
    request = sample()
    arn = start(runner, request)
    callback_id = runner.wait_for_callback(arn, timeout=30)
    created = aws.order(request["order_id"])["created_at"]
    runner.send_callback_success(callback_id, b'{"delivery_date": "2026-06-01"}')
    first = runner.wait_for_result(arn, timeout=30)
    kinds = [kind for kind, _ in events(runner, arn)]

    # The handler ran more than once (suspended at the callback, replayed after it), each step once.
    assert kinds.count("InvocationCompleted") >= 2
    assert kinds.count("StepStarted") == kinds.count("StepSucceeded") == 3
    assert len(aws.received("DealerTopic")) == 1
    assert aws.order(request["order_id"])["created_at"] == created
    # The same incident ordered again by another execution (Lambda's retention over, a name changed).
    again = runner.wait_for_result(start(runner, request, name="order-1-again"), timeout=30)
    assert result(again) == {"order_id": request["order_id"], "status": "CONFIRMED", "settled_before": True}
    assert aws.received("DealerTopic") == [] and aws.received("PartsEscalationTopic") == []
    assert result(first)["status"] == "CONFIRMED"


def test_an_invalid_request_fails_the_execution_before_anything_is_recorded(
    aws: Stack, runner: DurableFunctionTestRunner
) -> None:
    outcome = runner.wait_for_result(start(runner, sample() | {"value": "hot"}), timeout=30)
    assert outcome.status is InvocationStatus.FAILED
    assert outcome.error is not None and "value must be a finite number" in (outcome.error.message or "")
    assert aws.dynamodb.scan(TableName=ORDERS)["Items"] == []
    assert aws.received("DealerTopic") == []
