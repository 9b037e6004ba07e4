"""SQS event source mappings and FilterCriteria, against tests/support/probe/mappings.yaml on a probe
plane of its own: partial batch failures, whole-batch retries through the queue's visibility timeout
and its dead-letter queue, and filters on SQS, Kinesis and DynamoDB sources."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from lambda_local.events import recursion
from stack import moto
from tests.support.probe_plane import TEMPLATE as PROBE_TEMPLATE
from tests.support.probe_plane import ProbePlane, wait_for

pytestmark = pytest.mark.integration
TEMPLATE = PROBE_TEMPLATE.parent / "mappings.yaml"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    probe = ProbePlane(tmp_path_factory.mktemp("mappings"), template=TEMPLATE)
    probe.create_resources()
    probe.start()
    yield probe
    probe.stop()


def queue_url(plane: ProbePlane, logical_id: str) -> str:
    return str(moto.client("sqs").get_queue_url(QueueName=plane.names[logical_id])["QueueUrl"])


def bodies_in(plane: ProbePlane, logical_id: str) -> list[str]:
    """What sits in a queue now (received with no visibility timeout, so left there)."""
    sqs = moto.client("sqs")
    answer = sqs.receive_message(
        QueueUrl=queue_url(plane, logical_id), MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
    )
    return [m["Body"] for m in answer.get("Messages", [])]


def send(plane: ProbePlane, logical_id: str, bodies: list[str]) -> None:
    entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
    moto.client("sqs").send_message_batch(QueueUrl=queue_url(plane, logical_id), Entries=entries)


def test_a_poison_message_is_redelivered_then_dead_lettered_while_the_rest_are_deleted_once(plane):
    tag = f"p{time.time_ns()}"
    good = [f"{tag}-{i}" for i in range(4)]
    send(plane, "JobsQueue", [json.dumps({"id": g}) for g in good] + [json.dumps({"id": f"{tag}-x", "poison": 1})])
    # maxReceiveCount 2: the poison message runs twice, then the queue moves it to its dead-letter queue.
    wait_for(lambda: any(f"{tag}-x" in b for b in bodies_in(plane, "JobsDeadLetters")), 30, "the dead letter")
    seen = plane.seen()
    assert [seen.get(g) for g in good] == [1, 1, 1, 1]  # deleted after their one successful batch
    assert seen[f"{tag}-x"] == 2
    assert not any(tag in b for b in bodies_in(plane, "JobsQueue"))
    lines = [d for d in plane.deliveries("probeSqsPartial") if d["source"] == "sqs"]
    assert any(d["outcome"] == "partial (4 ok)" and d["records"] == 5 for d in lines), lines


def test_without_partial_answers_a_failed_batch_comes_back_whole_after_the_visibility_timeout(plane):
    tag = f"w{time.time_ns()}"
    good = [f"{tag}-{i}" for i in range(3)]
    send(plane, "WholeQueue", [json.dumps({"id": g}) for g in good] + [json.dumps({"id": f"{tag}-x", "poison": 1})])
    wait_for(lambda: any(f"{tag}-x" in b for b in bodies_in(plane, "WholeDeadLetters")), 40, "the dead letter")
    seen = plane.seen()
    assert seen[f"{tag}-x"] == 3  # maxReceiveCount 3
    assert all(seen.get(g, 0) >= 2 for g in good), seen  # each came back with the batch that failed


def test_filters_drop_what_matches_no_pattern_on_sqs_kinesis_and_dynamodb(plane):
    tag = f"f{time.time_ns()}"
    send(
        plane,
        "FilteredQueue",
        [
            json.dumps({"id": f"{tag}-keep", "kind": "keep"}),
            json.dumps({"id": f"{tag}-drop", "kind": "drop"}),
            json.dumps({"id": f"{tag}-big", "size": 500}),  # the second filter
            f"{tag}-plain text, not JSON",
        ],
    )
    kinesis = moto.client("kinesis")
    for kind in ("keep", "drop"):
        data = json.dumps({"id": f"{tag}-k-{kind}", "kind": kind}).encode()
        kinesis.put_record(StreamName=plane.names["FilteredStream"], Data=data, PartitionKey=kind)
    dynamodb = moto.client("dynamodb")
    for kind in ("keep", "drop"):
        item = {"id": {"S": f"{tag}-d-{kind}"}, "kind": {"S": kind}}
        dynamodb.put_item(TableName=plane.names["FilteredTable"], Item=item)
    kept = [f"{tag}-keep", f"{tag}-big", f"{tag}-k-keep", f"{tag}-d-keep"]
    wait_for(lambda: all(k in plane.seen() for k in kept), 30, "the records that match a filter")
    # A MODIFY of the kept item matches no filter (INSERT only).
    modified = {"id": {"S": f"{tag}-d-keep"}, "kind": {"S": "keep"}, "note": {"S": "changed"}}
    dynamodb.put_item(TableName=plane.names["FilteredTable"], Item=modified)
    time.sleep(3)
    seen = plane.seen()
    assert [seen[k] for k in kept] == [1, 1, 1, 1]
    assert not any(k in seen for k in (f"{tag}-drop", f"{tag}-k-drop", f"{tag}-d-drop"))
    assert not any(tag in key for key in seen if "plain" in key)
    assert not any(tag in b for b in bodies_in(plane, "FilteredQueue"))  # filtered messages are deleted
    filtered = [d for d in plane.deliveries("probeFiltered") if d["outcome"] == "filtered out"]
    assert {d["source"] for d in filtered} >= {"sqs", "kinesis", "dynamodb"}


def invoke(function: str, payload: bytes, **headers: str) -> tuple[int, dict[str, str], bytes]:
    import urllib.request

    from tests.support.probe_plane import INVOKE_PORT

    request = urllib.request.Request(
        f"http://127.0.0.1:{INVOKE_PORT}/2015-03-31/functions/{function}/invocations",
        data=payload,
        method="POST",
        headers=headers,
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def test_an_asynchronous_success_sends_lambdas_on_success_record(plane):
    marker = f"ok-{time.time_ns()}"
    status, headers, _ = invoke(
        "probeSucceeding", json.dumps({"marker": marker}).encode(), **{"X-Amz-Invocation-Type": "Event"}
    )
    assert status == 202
    request_id = headers["x-amzn-requestid"]

    def record() -> dict | None:
        for body in bodies_in(plane, "SuccessQueue"):
            parsed = json.loads(body)
            if parsed["requestPayload"] == {"marker": marker}:
                return parsed
        return None

    found = wait_for(record, 20, "the on-success record")
    context = found["requestContext"]
    assert (context["condition"], context["approximateInvokeCount"], context["requestId"]) == ("Success", 1, request_id)
    assert context["functionArn"].endswith(":function:probeSucceeding:$LATEST")
    assert found["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert found["responsePayload"] == {"answered": {"marker": marker}}


def test_a_json_format_function_logs_platform_events_and_its_lines_as_json_by_level(plane):
    import base64

    status, headers, body = invoke("probeJsonLogs", b"{}", **{"X-Amz-Log-Type": "Tail"})
    assert status == 200 and json.loads(body) == "logged"
    lines = base64.b64decode(headers["x-amz-log-result"]).decode().splitlines()
    parsed = [json.loads(line) for line in lines if line.startswith("{")]
    kinds = [p.get("type") for p in parsed]
    assert "platform.start" in kinds and "platform.report" in kinds, lines
    report = next(p for p in parsed if p.get("type") == "platform.report")
    assert report["record"]["requestId"] == headers["x-amzn-requestid"]
    assert report["record"]["metrics"]["durationMs"] > 0
    messages = {p.get("message"): p.get("level") for p in parsed if "message" in p}
    assert messages.get("an info line") == "INFO" and messages.get("a warning line") == "WARNING"
    assert "a debug line" not in messages  # ApplicationLogLevel INFO
    assert not any(line.startswith(("START RequestId", "END RequestId", "REPORT RequestId")) for line in lines)


def test_a_function_feeding_its_own_queue_is_stopped_after_sixteen_rounds(plane):
    tag = f"loop-{time.time_ns()}"
    send(plane, "LoopQueue", [json.dumps({"id": tag})])
    wait_for(lambda: any(tag in b for b in bodies_in(plane, "LoopDeadLetters")), 60, "the stopped loop's message")
    assert plane.seen()[tag] == 16  # Lambda stops the chain after about 16 invocations
    stopped = [d for d in plane.deliveries("probeLoop") if d["outcome"].startswith("RecursiveInvocationException")]
    assert len(stopped) == 1 and stopped[0]["records"] == 1
    time.sleep(2)
    assert plane.seen()[tag] == 16 and not any(tag in b for b in bodies_in(plane, "LoopQueue"))


def test_a_function_that_invokes_itself_asynchronously_is_stopped_after_16_rounds(plane):
    tag = f"self{time.time_ns()}"
    status, _, _ = invoke("probeSelfInvoke", json.dumps({"id": tag}).encode(), **{"X-Amz-Invocation-Type": "Event"})
    assert status == 202

    def record() -> dict | None:
        found = [json.loads(b) for b in bodies_in(plane, "LoopFailures") if tag in b]
        return found[0] if found else None

    stopped = wait_for(record, 60, "the on-failure record of the stopped loop")
    assert stopped["requestContext"]["condition"] == "RecursiveInvocationException"
    assert stopped["requestPayload"] == {"id": tag}
    assert plane.seen()[tag] == recursion.MAX_DEPTH  # Lambda stops the chain after about 16 invocations
    time.sleep(2)
    assert plane.seen()[tag] == recursion.MAX_DEPTH


def test_a_synchronous_invoke_of_a_chain_that_ran_the_function_16_times_is_refused(plane):
    import urllib.error

    chain = None
    for _ in range(recursion.MAX_DEPTH - 1):
        chain = recursion.next_trace(chain, "probeSucceeding")
    status, _, body = invoke("probeSucceeding", b'{"round": 16}', **{"X-Amzn-Trace-Id": chain})
    assert status == 200 and json.loads(body) == {"answered": {"round": 16}}
    with pytest.raises(urllib.error.HTTPError) as refused:
        invoke(
            "probeSucceeding", b'{"round": 17}', **{"X-Amzn-Trace-Id": recursion.next_trace(chain, "probeSucceeding")}
        )
    assert refused.value.code == 400
    assert refused.value.headers["x-amzn-ErrorType"] == "RecursiveInvocationException"
    other = recursion.next_trace(chain, "probeSucceeding")  # the chain's count is per function:
    status, _, _ = invoke("probeJsonLogs", b"{}", **{"X-Amzn-Trace-Id": other})  # another one still runs
    assert status == 200
