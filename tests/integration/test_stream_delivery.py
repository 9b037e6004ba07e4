"""Stream and HTTP triggers through a second local plane serving the probe template
(tests/support/probe): the event source mapping's semantics (partial batch failures, bisect, retries,
on-failure destination, order, checkpoints across a kill) and API Gateway's two payload formats."""

import json
from collections.abc import Callable, Iterator

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from stack import moto
from tests.support.probe_plane import INVOKE_PORT, ProbePlane, api_request, wait_for
from tests.support.tokens import plane_token

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    plane = ProbePlane(tmp_path_factory.mktemp("probe-plane"))
    plane.create_resources()
    kinesis = moto.client("kinesis")
    # Before the plane starts: a LATEST mapping must never deliver it.
    kinesis.put_record(StreamName=plane.names["TelemetryStream"], Data=b'{"id": "before-start"}', PartitionKey="t0")
    plane.start()
    yield plane
    plane.stop()


def failures(plane: ProbePlane) -> list[dict]:
    sqs = moto.client("sqs")
    url = sqs.get_queue_url(QueueName=plane.names["FailuresQueue"])["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]


def seen_when(probe: ProbePlane, condition: Callable[[dict], bool], timeout: float, what: str) -> dict:
    """What the probes processed, once `condition` holds for it."""

    def check() -> dict | None:
        seen = probe.seen()
        return seen if condition(seen) else None

    return wait_for(check, timeout, what)


def stream_sequences(table: str) -> dict[str, str]:
    """id -> sequence number of its INSERT, read back from the table's stream."""
    streams = moto.client("dynamodbstreams")
    arn = moto.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return {r["dynamodb"]["Keys"]["id"]["S"]: r["dynamodb"]["SequenceNumber"] for r in records}


def test_a_poison_record_is_reported_retried_and_sent_to_the_failure_queue_while_the_rest_load_once(
    probe: ProbePlane,
) -> None:
    dynamodb = moto.client("dynamodb")
    table = probe.names["OrdersTable"]
    ids = [f"order-{i}" for i in range(10)]
    for order_id in ids:
        item = {"id": {"S": order_id}}
        if order_id == "order-4":
            item["poison"] = {"BOOL": True}
        dynamodb.put_item(TableName=table, Item=item)

    landed = wait_for(lambda: failures(probe), 30, "the poison record's failure record")
    seen = seen_when(probe, lambda seen: "order-9" in seen, 15, "the records after the poison")

    good = [i for i in ids if i != "order-4"]
    assert {i: seen.get(i) for i in ids} == {i: (None if i == "order-4" else 1) for i in ids}
    assert seen["order#dynamodb"] == good  # in stream order, each once
    [failure] = landed
    info = failure["DDBStreamBatchInfo"]
    poison_sequence = stream_sequences(table)["order-4"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        poison_sequence,
        poison_sequence,
        1,
    )
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3  # the first attempt and MaximumRetryAttempts: 2
    assert failure["requestContext"]["functionArn"].endswith(":function:probeOrders")
    assert info["streamArn"] == dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    # The shard moved past everything: the checkpoint is the last record.
    checkpoint = wait_for(lambda: probe.checkpoint("probeOrders-Orders"), 5, "the checkpoint")
    assert list(checkpoint.values()) == [stream_sequences(table)["order-9"]]
    outcomes = [d["outcome"] for d in probe.deliveries("probeOrders")]
    assert "partial (4 ok)" in outcomes  # the first batch: four loaded, retried from the poison on
    assert outcomes.count("on-failure destination (RetryAttemptsExhausted)") == 1


def test_kinesis_delivers_in_order_per_shard_from_latest_with_the_event_aws_sends(probe: ProbePlane) -> None:
    kinesis = moto.client("kinesis")
    stream = probe.names["TelemetryStream"]
    put: dict[str, list[str]] = {}
    for i in range(60):
        key = f"tractor-{i % 4}"
        answer = kinesis.put_record(StreamName=stream, Data=json.dumps({"id": f"t{i}"}).encode(), PartitionKey=key)
        put.setdefault(answer["ShardId"], []).append(f"t{i}")

    seen = seen_when(probe, lambda seen: all(f"t{i}" in seen for i in range(60)), 20, "60 telemetry records")
    assert "before-start" not in seen  # StartingPosition LATEST
    assert all(seen[f"t{i}"] == 1 for i in range(60))
    assert len(put) == 2, "both shards were written"
    for shard, ids in put.items():
        assert seen[f"order#{stream}/{shard}"] == ids
    batches = [d for d in probe.deliveries("probeTelemetry") if d["outcome"] == "ok"]
    assert sum(d["records"] for d in batches) == 60
    assert len(batches) <= 4, "batched (window 1 s, batch size 100), not one invoke per record"


def test_the_plane_killed_mid_stream_loses_nothing_and_replays_at_most_the_batch_in_flight(
    probe: ProbePlane,
) -> None:
    kinesis = moto.client("kinesis")
    stream = probe.names["RestartStream"]
    count = 200
    records = [{"Data": json.dumps({"id": f"r{i}"}).encode(), "PartitionKey": "one"} for i in range(count)]
    kinesis.put_records(StreamName=stream, Records=records)

    def processed() -> int:
        return sum(1 for key in probe.seen() if key.startswith("r"))

    wait_for(lambda: processed() >= 40, 30, "the first batches")
    probe.kill()  # SIGKILL: no chance to save anything
    stopped_at = processed()
    assert stopped_at < count, "the kill came in the middle of the stream"
    probe.start()
    seen = seen_when(probe, lambda seen: sum(k.startswith("r") for k in seen) == count, 60, "every record")
    times = [seen[f"r{i}"] for i in range(count)]
    assert all(t >= 1 for t in times)  # nothing lost
    assert sum(t - 1 for t in times) <= 10, "only the batch in flight (BatchSize 10) may be delivered again"
    shard_order = next(v for k, v in seen.items() if k.startswith(f"order#{stream}/"))
    restart_ids = [i for i in shard_order if i.startswith("r")]
    assert sorted(set(restart_ids), key=lambda i: int(i[1:])) == [f"r{i}" for i in range(count)]


# ------------------------------------------------------------------ API Gateway


def token(probe: ProbePlane, kind: str, **claims: object) -> str:
    authorizer = next(r.authorizer for r in probe.template.routes if r.kind == kind and r.authorizer)
    return "Bearer " + plane_token({"sub": "alice"} | claims, authorizer.name, port=INVOKE_PORT)


def test_rest_api_payload_1_0_round_trip(probe: ProbePlane) -> None:
    response = api_request(
        "PUT",
        "/rest/photos/a%20b?tag=x&tag=y&status=418",
        body=b'{"caption": "caf\xc3\xa9"}',
        headers={
            "Authorization": token(probe, "rest", email="alice@example.com"),
            "Content-Type": "application/json",
            "Cookie": "session=s1; theme=light",
            "X-Trace": "t-1",
        },
    )
    assert response.status == 418
    assert response.headers.get_all("set-cookie") == ["session=abc123; Path=/; HttpOnly", "theme=dark"]
    assert response.headers["x-probe"] == "yes"
    assert response.headers["x-amzn-requestid"]
    event = json.loads(response.read())
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/rest/{proxy+}", "/rest/photos/a b", "PUT")
    assert event["pathParameters"] == {"proxy": "photos/a b"}
    assert event["multiValueQueryStringParameters"]["tag"] == ["x", "y"]
    assert event["queryStringParameters"]["tag"] == "y"
    proxy = APIGatewayProxyEvent(event)  # header names are case-insensitive: 1.0 keeps the client's case
    assert proxy.headers["x-trace"] == "t-1"
    assert proxy.multi_value_headers["cookie"] == ["session=s1; theme=light"]
    assert json.loads(event["body"]) == {"caption": "café"} and event["isBase64Encoded"] is False
    claims = event["requestContext"]["authorizer"]["claims"]
    assert (claims["sub"], claims["email"]) == ("alice", "alice@example.com")
    assert event["requestContext"]["resourcePath"] == "/rest/{proxy+}"
    assert event["requestContext"]["stage"] == "Prod"


def test_http_api_payload_2_0_round_trip_with_a_binary_body(probe: ProbePlane) -> None:
    body = bytes(range(256)) * 4
    response = api_request(
        "POST",
        "/http/item-7?q=1&q=2",
        body=body,
        headers={"Authorization": token(probe, "http", scope="read write"), "Content-Type": "image/png"},
    )
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
    assert response.read() == body  # base64 both ways, bytes unchanged

    response = api_request(
        "GET",
        "/http/item-7?q=1&q=2&status=201",
        headers={"Authorization": token(probe, "http", scope="read write"), "Cookie": "a=1; b=2"},
    )
    assert response.status == 201
    assert response.headers.get_all("set-cookie") == ["session=abc123; Path=/; HttpOnly", "theme=dark"]
    event = json.loads(response.read())
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "ANY /http/{item}", "/http/item-7")
    assert event["rawQueryString"] == "q=1&q=2&status=201"
    assert event["queryStringParameters"] == {"q": "1,2", "status": "201"}
    assert event["cookies"] == ["a=1", "b=2"] and "cookie" not in event["headers"]
    assert event["pathParameters"] == {"item": "item-7"}
    assert event["requestContext"]["http"]["method"] == "GET"
    jwt_context = event["requestContext"]["authorizer"]["jwt"]
    assert jwt_context["claims"]["sub"] == "alice" and jwt_context["scopes"] == ["read", "write"]


def test_http_api_plain_json_shorthand_and_errors(probe: ProbePlane) -> None:
    response = api_request("GET", "/plain")
    assert (response.status, response.headers["content-type"]) == (200, "application/json")
    assert json.loads(response.read()) == {"shorthand": True, "routeKey": "GET /plain"}
    assert api_request("GET", "/http/x").status == 401  # no token
    wrong_audience = token(probe, "http", aud="someone-else")
    assert api_request("GET", "/http/x", headers={"Authorization": wrong_audience}).status == 401
    expired = token(probe, "http", exp=1)
    assert api_request("GET", "/http/x", headers={"Authorization": expired}).status == 401
    assert api_request("GET", "/rest/x").status == 401
    assert api_request("GET", "/open").status == 200  # Auth: NONE on the REST API
    missing = api_request("GET", "/no/such/route")
    assert (missing.status, json.loads(missing.read())) == (403, {"message": "Missing Authentication Token"})


def test_a_binary_rest_body_arrives_base64(probe: ProbePlane) -> None:
    payload = b"\x89PNG\r\n\x1a\n" + bytes(100)
    response = api_request(
        "POST",
        "/rest/upload",
        body=payload,
        headers={"Authorization": token(probe, "rest"), "Content-Type": "application/octet-stream"},
    )
    assert response.status == 200
    # The echo answers binary only for an event with isBase64Encoded: the bytes made the round trip.
    assert response.read() == payload


def put_keyed(probe: ProbePlane, prefix: str, per_key: int) -> list[str]:
    """`per_key` records for each of 10 partition keys into the parallel stream; their ids, in order."""
    ids = [(f"{prefix}-k{k}-{n:02d}", f"key{k}") for n in range(per_key) for k in range(10)]
    moto.client("kinesis").put_records(
        StreamName=probe.names["ParallelStream"],
        Records=[{"Data": json.dumps({"id": i}).encode(), "PartitionKey": key} for i, key in ids],
    )
    return [i for i, _ in ids]


def assert_each_key_in_order(seen: dict, prefix: str) -> None:
    """Per key, the records were first processed in the order they were put (replays come later)."""
    orders = [ids for key, ids in seen.items() if key.startswith("order#probe-parallel/")]
    for k in range(10):
        for order in orders:
            first_seen = list(dict.fromkeys(i for i in order if i.startswith(f"{prefix}-k{k}-")))
            assert first_seen == sorted(first_seen), f"key{k} out of order"


def test_parallelization_factor_runs_batches_of_a_shard_at_once_and_keeps_each_keys_order(probe: ProbePlane) -> None:
    import time
    import urllib.request

    from tests.support.probe_plane import INVOKE_PORT

    prefix = f"p{time.time_ns()}"
    ids = put_keyed(probe, prefix, 10)
    seen = seen_when(probe, lambda s: all(i in s for i in ids), 120, "every record of the parallel stream")
    assert {seen[i] for i in ids} == {1}  # each once: no failures, no replays
    assert_each_key_in_order(seen, prefix)
    with urllib.request.urlopen(f"http://127.0.0.1:{INVOKE_PORT}/_local/functions", timeout=10) as response:
        listing = {f["function"]: f for f in json.load(response)["functions"]}
    assert len(listing["probeParallel"]["instances"]) > 2  # 2 shards, and lanes of each running at once
    checkpoints = probe.checkpoint("probeParallel-Parallel")
    assert len(checkpoints) == 2  # both shards settled up to what was read


def test_a_plane_killed_mid_parallel_stream_loses_nothing_and_keeps_each_keys_order(probe: ProbePlane) -> None:
    import time

    prefix = f"q{time.time_ns()}"
    ids = put_keyed(probe, prefix, 20)

    def processed() -> int:
        return sum(1 for key in probe.seen() if key.startswith(prefix))

    wait_for(lambda: processed() >= 40, 60, "the first batches")
    probe.kill()  # SIGKILL: lanes ahead of the checkpoint lose their progress, never records
    assert processed() < len(ids), "the kill came in the middle of the stream"
    probe.start()
    seen = seen_when(probe, lambda s: all(i in s for i in ids), 120, "every record")
    assert all(seen[i] >= 1 for i in ids)  # at least once
    assert_each_key_in_order(seen, prefix)


def test_a_body_whose_event_would_pass_6_mb_is_refused_and_the_function_still_answers(probe: ProbePlane) -> None:
    """5 MB of control bytes is under the limit as a body, but each byte is 6 characters once escaped
    in the event's JSON (`\\u0001`): API Gateway's answer is 413, and the function is not touched."""
    response = api_request(
        "POST",
        "/rest/upload",
        body=b"\x01" * 5_000_000,
        headers={"Authorization": token(probe, "rest"), "Content-Type": "text/plain"},
    )
    assert response.status == 413
    after = api_request("POST", "/rest/upload", body=b"ok", headers={"Authorization": token(probe, "rest")})
    assert after.status == 200
