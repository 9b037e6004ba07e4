"""SQS event source mappings (part of `make bench-events`), on a probe plane serving
tests/support/probe/mappings.yaml against the stack's AWS endpoint:

1. throughput: 500 messages sent (8 threads, batches of 10) into a queue the plane polls, through a
   no-op consumer at BatchSize 10 (no window) and 100 (1 s window), up to five pollers: messages/s from
   the first send until the queue is empty; beside it, the local endpoint alone: one client receiving and
   deleting batches of 10 from the same backlog (moto's receive scans the queue: it bounds the rest);
2. latency: one message at a time into the idle batch-10 queue; enqueue -> handler start, p50 of 20.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from stack import moto
from tests.support.probe_plane import TEMPLATE, ProbePlane, wait_for

MESSAGES = 500
SAMPLES = 20


def fill(sqs: Any, url: str, count: int) -> None:
    def batch(start: int) -> None:
        entries = [{"Id": str(i), "MessageBody": json.dumps({"id": f"t{start + i}"})} for i in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(batch, range(0, count, 10)))


def left(sqs: Any, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[n]) for n in names)


def drain_directly(sqs: Any, url: str) -> None:
    while left(sqs, url):
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = answer.get("Messages", [])
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        if entries:
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)


def main() -> None:
    sqs = moto.client("sqs")
    rows = []
    with tempfile.TemporaryDirectory(prefix="sqs-bench-") as tmp:
        plane = ProbePlane(Path(tmp), template=TEMPLATE.parent / "mappings.yaml")
        plane.create_resources()
        urls = {n: sqs.get_queue_url(QueueName=plane.names[n])["QueueUrl"] for n in ("BenchQueueTen", "BenchQueue")}
        direct = sqs.create_queue(QueueName="sqs-bench-direct")["QueueUrl"]
        started = time.perf_counter()
        fill(sqs, direct, MESSAGES)
        drain_directly(sqs, direct)
        rows.append(("the local endpoint alone (receive + delete)", MESSAGES / (time.perf_counter() - started)))
        sqs.delete_queue(QueueUrl=direct)
        plane.start()
        try:
            for name, batch in (("BenchQueueTen", 10), ("BenchQueue", 100)):
                started = time.perf_counter()
                fill(sqs, urls[name], MESSAGES)
                while left(sqs, urls[name]):
                    time.sleep(0.05)
                rows.append((f"mapping, batch {batch}", MESSAGES / (time.perf_counter() - started)))
            latencies = []
            table = moto.client("dynamodb")
            for i in range(SAMPLES):
                key = f"lat-{time.time_ns()}"
                body = json.dumps({"id": key, "sent": time.time()})
                sqs.send_message(QueueUrl=urls["BenchQueueTen"], MessageBody=body)

                def item(key: str = key) -> dict[str, Any] | None:
                    found = table.get_item(TableName=plane.names["SeenTable"], Key={"id": {"S": key}}).get("Item")
                    return dict(found) if found else None

                got = wait_for(item, 30, "the latency probe")
                latencies.append((float(got["started"]["S"]) - float(got["sent"]["S"])) * 1000)
                time.sleep(0.2 if i % 2 else 1.3)  # arriving during a long poll and between two
        finally:
            plane.stop()
    print()
    print(f"SQS, {MESSAGES} messages, no-op consumer                        messages/s")
    for label, rate in rows:
        print(f"  {label:<58} {rate:>6.0f}")
    print(
        f"enqueue -> handler start, batch 10, p50 of {SAMPLES}: {statistics.median(latencies):.0f} ms "
        f"(min {min(latencies):.0f}, max {max(latencies):.0f})"
    )


if __name__ == "__main__":
    main()
