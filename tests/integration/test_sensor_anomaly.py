"""tractorSensorAnomaly through its real trigger: a simulated fleet's telemetry on the Kinesis stream
orders exactly one spare part for each faulty tractor (an execution of tractorPartsOrder, the durable
workflow, which records the order and tells the dealer: tests/integration/test_parts_order.py answers as
the supplier), and the whole stream replayed orders nothing new."""

import json
import time

import pytest

from lambda_local.providers import load
from lambda_local.settings import LAMBDA_ENDPOINT
from stack import moto
from tests.support.sns_tap import TopicTap, tap
from tools.simulate_tractors import fleet_readings

pytestmark = pytest.mark.integration
NAMES = load().names


def put_readings(readings: list[dict]) -> dict[str, int]:
    """Put the readings (one record each, partition key = tractor) and return the last sequence per shard."""
    kinesis = moto.client("kinesis")
    stream = NAMES["TelemetryStream"]
    last: dict[str, int] = {}
    for start in range(0, len(readings), 500):
        chunk = readings[start : start + 500]
        answer = kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": json.dumps(r).encode(), "PartitionKey": r["tractor_id"]} for r in chunk],
        )
        assert answer["FailedRecordCount"] == 0
        for entry in answer["Records"]:
            last[entry["ShardId"]] = max(last.get(entry["ShardId"], 0), int(entry["SequenceNumber"]))
    return last


def settled(prefix: str, last: dict[str, int], timeout: float = 60) -> None:
    """Until every shard's last record is folded into some series of this fleet."""
    dynamodb = moto.client("dynamodb")
    deadline = time.monotonic() + timeout
    while True:
        reached: dict[str, int] = {}
        for page in dynamodb.get_paginator("scan").paginate(TableName=NAMES["SensorStatsTable"]):
            for item in page["Items"]:
                if not item["pk"]["S"].startswith(prefix):
                    continue
                for shard, position in item.get("positions", {}).get("M", {}).items():
                    reached[shard] = max(reached.get(shard, 0), int(position["S"]))
        if all(reached.get(shard, 0) >= sequence for shard, sequence in last.items()):
            return
        assert time.monotonic() < deadline, f"the stream was not consumed: {reached} < {last}"
        time.sleep(0.5)


def orders_of(prefix: str) -> list[dict]:
    dynamodb = moto.client("dynamodb")
    items = dynamodb.scan(TableName=NAMES["PartsOrdersTable"])["Items"]
    return sorted(
        (
            {k: next(iter(v.values())) for k, v in item.items()}
            for item in items
            if item["order_id"]["S"].startswith(prefix)
        ),
        key=lambda order: order["tractor_id"],
    )


DEALER = f"arn:aws:sns:us-east-1:123456789012:{NAMES['DealerTopic']}"


def notices(topic: TopicTap, prefix: str, expect: int | None = None) -> list[dict]:
    """The dealer's notices about this fleet, as a queue subscribed to the dealer topic receives them."""
    received = [json.loads(n["message"]) for n in topic.messages(wait=10 if expect else 1, expect=expect)]
    return [n for n in received if n["tractor"].startswith(prefix)]


def notified_orders(prefix: str, count: int, timeout: float = 30) -> list[dict]:
    """The fleet's orders once `count` of them are recorded as told to the dealer (the workflow records
    the notice right after publishing it)."""
    deadline = time.monotonic() + timeout
    while True:
        orders = orders_of(prefix)
        if len(orders) >= count and all(order["notified"] is True for order in orders):
            return orders
        assert time.monotonic() < deadline, f"the orders were not recorded as notified: {orders}"
        time.sleep(0.3)


def stop_waiting_orders(prefix: str) -> int:
    """Stop the fleet's order workflows still waiting for the supplier (48 hours): they would outlive the
    test in the plane's durable store. How many."""
    lam = moto.client("lambda", endpoint=LAMBDA_ENDPOINT)
    pages = lam.get_paginator("list_durable_executions_by_function").paginate(
        FunctionName="tractorPartsOrder", Statuses=["RUNNING"]
    )
    waiting = [
        e["DurableExecutionArn"]
        for page in pages
        for e in page["DurableExecutions"]
        if e["DurableExecutionName"].startswith(prefix)
    ]
    for arn in waiting:
        lam.stop_durable_execution(DurableExecutionArn=arn)
    return len(waiting)


def test_exactly_the_faulty_tractors_get_one_order_each_and_a_replay_orders_nothing() -> None:
    prefix = f"R{time.time_ns() % 10**9}-"
    readings = fleet_readings(10, 30, seed=4)
    for reading in readings:
        reading["tractor_id"] = prefix + reading["tractor_id"]
    with tap(DEALER) as dealer:
        settled(prefix, put_readings(readings))
        told = notices(dealer, prefix, expect=2)
        orders = notified_orders(prefix, 2)
        # The whole fleet's telemetry again (new records, same readings): no new order, no new notice.
        settled(prefix, put_readings(readings))
        told_again = notices(dealer, prefix)
    assert stop_waiting_orders(prefix) == 2  # one workflow per order, each waiting for the supplier

    assert [(o["tractor_id"], o["part"]) for o in orders] == [
        (f"{prefix}T-003", "wheel-bearing"),
        (f"{prefix}T-007", "hydraulic-pump"),
    ]
    assert all(order["notified"] is True for order in orders)
    assert sorted((n["tractor"], n["part"]) for n in told) == [
        (f"{prefix}T-003", "wheel-bearing"),
        (f"{prefix}T-007", "hydraulic-pump"),
    ]

    assert orders_of(prefix) == orders
    assert told_again == []


def test_a_malformed_reading_is_reported_and_the_rest_of_its_batch_goes_on() -> None:
    prefix = f"M{time.time_ns() % 10**9}-"
    readings = fleet_readings(2, 5, seed=1, faults={})
    for reading in readings:
        reading["tractor_id"] = prefix + reading["tractor_id"]
    kinesis = moto.client("kinesis")
    bad = kinesis.put_record(
        StreamName=NAMES["TelemetryStream"],
        Data=b'{"tractor_id": "x", "sensor": "oil", "value": "hot"}',
        PartitionKey="x",
    )
    settled(prefix, put_readings(readings))
    sqs = moto.client("sqs")
    queue = sqs.get_queue_url(QueueName=NAMES.get("FailedInvocationsQueue", "lambda-failed-invocations"))["QueueUrl"]
    deadline, found = time.monotonic() + 30, []
    while not found and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            record = json.loads(message["Body"])
            info = record.get("KinesisBatchInfo", {})
            if info.get("startSequenceNumber") == bad["SequenceNumber"]:
                found.append(record)
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    [failure] = found
    assert failure["KinesisBatchInfo"]["batchSize"] == 1 and failure["KinesisBatchInfo"]["shardId"] == bad["ShardId"]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
