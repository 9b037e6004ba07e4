"""orderEtl through its real trigger: orders written to DynamoDB reach the warehouse through the
stream, a malformed one ends on the failure queue, and replays change nothing."""

import json
import time
from datetime import date
from decimal import Decimal

import pytest

import stack
from lambda_local.events.streams import dynamodb_record
from stack import moto
from tests.integration.conftest import TEMPLATE
from tools import place_orders

pytestmark = pytest.mark.integration


def warehouse_lines(order_ids: list[str]) -> dict[tuple[str, int], tuple[int, Decimal, int]]:
    """(order_id, line) -> (quantity, amount, deleted) for the given orders."""
    conn = stack.db_connection(autocommit=True)
    try:
        with conn.cursor() as cur:
            marks = ", ".join(["%s"] * len(order_ids))
            cur.execute(
                f"SELECT order_id, line_number, quantity, amount, deleted FROM cafe_dw.fact_order_line "  # noqa: S608
                f"WHERE order_id IN ({marks})",
                order_ids,
            )
            return {(r[0], r[1]): (r[2], r[3], r[4]) for r in cur.fetchall()}
    finally:
        conn.close()


def expected_lines(final: dict[str, dict], cancelled: set[str], placed: list[dict]) -> dict:
    expected = {}
    for order in placed:
        current = final.get(order["order_id"], order)
        for number, line in enumerate(order["lines"], start=1):
            # A cancelled line keeps the values of the last image that had it.
            source = current["lines"][number - 1] if number <= len(current["lines"]) else line
            kept = number <= len(current["lines"]) and order["order_id"] not in cancelled
            amount = (Decimal(str(source["unit_price"])) * source["quantity"]).quantize(Decimal("0.01"))
            expected[(order["order_id"], number)] = (source["quantity"], amount, 0 if kept else 1)
    return expected


def wait_for_lines(order_ids: list[str], expected: dict, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = warehouse_lines(order_ids)
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def etl_failures(timeout: float = 30) -> list[dict]:
    sqs = moto.client("sqs")
    queue = sqs.get_queue_url(QueueName=TEMPLATE.names["FailedInvocationsQueue"])["QueueUrl"]
    found, deadline = [], time.monotonic() + timeout
    while not found and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            record = json.loads(message["Body"])
            if record.get("requestContext", {}).get("functionArn", "").endswith(":function:orderEtl"):
                found.append(record)
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_orders_reach_the_warehouse_and_a_malformed_one_is_set_aside() -> None:
    products = place_orders.catalog()
    placed = place_orders.orders(40, products, date(2026, 10, 5), 2, seed=time.time_ns() % 100000)
    modified, cancelled = place_orders.changes(placed, 0.2, seed=11)
    malformed = placed[0] | {"order_id": f"bad-{time.time_ns()}", "lines": [{"product_id": 7, "quantity": 0}]}
    place_orders.write(placed[:20] + [malformed] + placed[20:])
    place_orders.write(modified)
    place_orders.write([], cancelled)
    final = {order["order_id"]: order for order in modified}
    expected = expected_lines(final, set(cancelled), placed)
    ids = [order["order_id"] for order in placed]

    assert wait_for_lines(ids, expected) == expected  # every change loaded, in the end state, once per line

    [failure] = etl_failures()
    info = failure["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["startSequenceNumber"] == info["endSequenceNumber"]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 4  # MaximumRetryAttempts: 3
    assert warehouse_lines([malformed["order_id"]]) == {}


def test_a_replayed_change_leaves_the_warehouse_as_it_is() -> None:
    products = place_orders.catalog()
    [order] = place_orders.orders(1, products, date(2026, 10, 8), 1, seed=time.time_ns() % 100000)
    newer = order | {"lines": [dict(order["lines"][0]) | {"quantity": 9}], "status": "PAID"}
    place_orders.write([order])
    place_orders.write([newer])
    wanted = expected_lines({order["order_id"]: newer}, set(), [order])
    assert wait_for_lines([order["order_id"]], wanted) == wanted
    # The same INSERT again as a stream record would be if redelivered: the older change loses.
    stream = moto.client("dynamodbstreams")
    arn = moto.client("dynamodb").describe_table(TableName=place_orders.table_name())["Table"]["LatestStreamArn"]
    shard = stream.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = stream.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records = []
    while iterator:
        answer = stream.get_records(ShardIterator=iterator, Limit=1000)
        records += answer["Records"]
        if not answer["Records"]:
            break
        iterator = answer.get("NextShardIterator")
    insert = next(
        r for r in records if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["order_id"]["S"] == order["order_id"]
    )
    event = {"Records": [dynamodb_record(insert, arn, "us-east-1")]}
    status, body = stack.invoke(stack.by_name("order-etl").port, event)
    assert status == 200 and json.loads(body) == {"batchItemFailures": []}
    assert warehouse_lines([order["order_id"]]) == wanted
