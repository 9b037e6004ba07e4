"""`make bench-etl`: orders through the DynamoDB stream into the warehouse, for batch sizes 100 and
1,000, with the batched load (three multi-row upserts per batch) against a row-by-row load, in one run.

Each configuration is the order ETL's code behind its own stream mapping (bench/etl/template.yaml),
served by a second local plane: its table is filled with INSERTs first, then the plane starts and the
clock runs until the mapping's checkpoint reaches the last record. `function` counts only the time
inside the function (the sum of its invocations); `end to end` adds reading the stream from the local
endpoint (moto), building the events and checkpointing.
"""

import json
import tempfile
import time
from datetime import date
from pathlib import Path

from botocore.config import Config

import stack
from lambda_local.events.streams import dynamodb_record
from lambda_local.sources.provision import create_resources
from stack import moto
from tests.support.probe_plane import INVOKE_PORT, ProbePlane
from tools import place_orders

TEMPLATE = Path(__file__).resolve().parent / "etl" / "template.yaml"
ORDERS = 4_000
CONFIGS = (("Batch100", "etlBatch100", "Orders100"), ("Batch1000", "etlBatch1000", "Orders1000"))
CONFIGS += (("Rows100", "etlRows100", "Orders100Rows"), ("Rows1000", "etlRows1000", "Orders1000Rows"))
BATCHES = {"Batch100": 100, "Batch1000": 1000, "Rows100": 100, "Rows1000": 1000}


def stream_records(table: str) -> list[dict]:
    """The table's stream records, as a mapping would hand them to the function."""
    streams = moto.client("dynamodbstreams")
    arn = moto.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    next_iterator, records = iterator["ShardIterator"], []
    while next_iterator:
        answer = streams.get_records(ShardIterator=next_iterator, Limit=1000)
        if not answer["Records"]:
            break
        records += [dynamodb_record(raw, arn, "us-east-1") for raw in answer["Records"]]
        next_iterator = answer.get("NextShardIterator")
    return records


def invoke_directly(function: str, records: list[dict], batch: int) -> float:
    """Seconds the function spends on `records` in batches of `batch`, invoked one batch after the other
    through the plane's Invoke API with nothing else running (its capacity as one instance)."""
    config = Config(read_timeout=300, retries={"max_attempts": 1})
    client = moto.client("lambda", config, endpoint=f"http://127.0.0.1:{INVOKE_PORT}")
    started = time.perf_counter()
    for start in range(0, len(records), batch):
        payload = json.dumps({"Records": records[start : start + batch]}).encode()
        answer = client.invoke(FunctionName=function, Payload=payload)
        assert "FunctionError" not in answer, answer["Payload"].read()[:500]
    return time.perf_counter() - started


def main() -> None:
    if not stack.stack_is_up():
        raise SystemExit("the stack is not up: run `make up`")
    products = place_orders.catalog()
    print(f"order ETL: {ORDERS:,} orders per configuration through the DynamoDB stream into cafe_dw", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as state:
        plane = ProbePlane(Path(state), TEMPLATE)
        create_resources(plane.template, moto.client, fresh=True)
        for logical_id, function, table_id in CONFIGS:
            table = moto.resource("dynamodb").Table(plane.names[table_id])
            orders = place_orders.orders(ORDERS, products, date(2001, 1, 1), 28, seed=len(results))
            stamp = time.time_ns()
            with table.batch_writer() as batch:
                for order in orders:
                    batch.put_item(Item=order | {"order_id": f"bench-{stamp}-{order['order_id']}"})
            lines = sum(len(order["lines"]) for order in orders)
            records = stream_records(plane.names[table_id])
            last = records[-1]["dynamodb"]["SequenceNumber"]
            plane.start()
            started = time.perf_counter()
            try:
                while last not in plane.checkpoint(f"{function}-Orders").values():
                    if time.perf_counter() - started > 600:
                        raise SystemExit(f"{function}: not consumed in 600 s\n{plane.log()[-2000:]}")
                    time.sleep(0.01)
                elapsed = time.perf_counter() - started
                inside = sum(d["duration_ms"] for d in plane.deliveries(function)) / 1000
                # The same records again (idempotent upserts), invoked with the stream idle.
                alone = invoke_directly(function, records, BATCHES[logical_id])
            finally:
                plane.stop()
            print(f"  {logical_id:<10} {elapsed:6.2f} s end to end, {inside:6.2f} s in the function", flush=True)
            results.append((logical_id, elapsed, inside, alone, lines))
    header = f"{'configuration':<12} {'end to end':>11} {'in function':>12} {'one instance alone':>19} {'rows/s':>8}"
    print(f"\nrecords/s\n{header}")
    for logical_id, elapsed, inside, alone, lines in results:
        row = f"{ORDERS / elapsed:>11,.0f} {ORDERS / inside:>12,.0f} {ORDERS / alone:>19,.0f} {lines / alone:>8,.0f}"
        print(f"{logical_id:<12} {row}")
    print(
        "\nend to end is bound by the local endpoint: moto's DynamoDB Streams GetRecords serves these order\n"
        "images at a few hundred records/s; `in function` is the time inside the function during that run\n"
        "(sharing the cores with moto reading ahead); `one instance alone` invokes the same records in the\n"
        "same batches through the Invoke API with the stream idle: what one function instance sustains."
    )


if __name__ == "__main__":
    main()
