"""The local Lambda Invoke API and the queue in front of every function's runtime."""

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

import stack
from lambda_local.providers import load
from stack import ROOT, moto
from stack.functions import by_name
from tests.integration.conftest import LOCAL_ENV, TEMPLATE
from tests.support.runtimes import account_limit, kill_runtime, plane_state, restarts

pytestmark = pytest.mark.integration
# A durable function's Invoke starts an execution (test_durable.py; 200 at once: make bench-durable).
FUNCTIONS = [fn for fn in load().functions if fn.durable is None]
QUICK_EVENTS = {
    "salesAnalysisReportDataExtractor": {"date": "2031-06-01"},
    "salesAnalysisReport": {"date": "2031-06-01"},
    "imageResize": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": '{"Event": "s3:TestEvent"}'}}]},
    "imageLabels": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": '{"Event": "s3:TestEvent"}'}}]},
    "orderEtl": {"Records": []},
    # A malformed reading: reported in batchItemFailures, nothing written.
    "tractorSensorAnomaly": {
        "Records": [
            {
                "eventSource": "aws:kinesis",
                "eventID": "shardId-000000000000:1",
                "kinesis": {"sequenceNumber": "1", "partitionKey": "x", "data": "bm90IGpzb24="},
            }
        ]
    },
    # No authorizer claims: the function answers 401 (a response, not a function error).
    "statusFanout": {"resource": "/status", "path": "/status", "httpMethod": "POST", "requestContext": {}},
    "weatherApi": json.loads((ROOT / "events" / "weather-api" / "http-api-city.json").read_text()),
}


def lambda_client() -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=stack.LAMBDA_ENDPOINT,
        region_name=LOCAL_ENV["AWS_REGION"],
        aws_access_key_id=LOCAL_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_ENV["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.directory)
def test_32_concurrent_invokes_through_the_api_and_the_function_port_all_succeed(fn):
    """The default account limit holds a 32-call burst of every function of this template (each report
    invokes the extractor too: 64 at once), as this machine's memory easily does; past a limit the user
    sets, calls are throttled (tests/integration/test_concurrency.py)."""
    before = restarts(fn.lambda_name)
    assert account_limit() == 1000  # Lambda's default, with this template's default settings
    clients = 32
    client = lambda_client()
    payload = json.dumps(QUICK_EVENTS[fn.lambda_name]).encode()

    def through_api(_: int) -> str | None:
        """None, or what went wrong (a failure says itself in the assertion)."""
        response = client.invoke(FunctionName=fn.lambda_name, Payload=payload)
        if response["StatusCode"] == 200 and "FunctionError" not in response:
            return None
        return f"{response['StatusCode']} {response.get('FunctionError')}: {response['Payload'].read()[:300]!r}"

    def through_port(_: int) -> str | None:
        status, body = stack.invoke(fn.port, QUICK_EVENTS[fn.lambda_name])
        return None if status == 200 and b"errorType" not in body else f"{status}: {body[:300]!r}"

    with ThreadPoolExecutor(clients) as pool:
        assert [f for f in pool.map(through_api, range(clients)) if f] == []
        assert [f for f in pool.map(through_port, range(clients)) if f] == []
    assert restarts(fn.lambda_name) == before, "an RIE crashed under concurrent requests"


def test_request_response_returns_the_result_and_the_tail_of_its_log():
    response = lambda_client().invoke(
        FunctionName="salesAnalysisReportDataExtractor", Payload=b'{"date": "2031-06-01"}', LogType="Tail"
    )
    assert json.loads(response["Payload"].read()) == {"statusCode": 200, "body": []}
    assert "FunctionError" not in response
    log = base64.b64decode(response["LogResult"]).decode()
    request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert f"START RequestId: {request_id}" in log and f"END RequestId: {request_id}" in log
    assert len(log.encode()) <= 4096


def test_a_raised_error_is_flagged_as_a_function_error_by_arn_too():
    arn = "arn:aws:lambda:us-east-1:123456789012:function:salesAnalysisReport"
    response = lambda_client().invoke(FunctionName=arn, Payload=b'{"date": "2026-02-30"}')
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "InvalidEventError"


def test_dry_run_unknown_function_bad_json_and_oversized_payloads_answer_as_lambda_does():
    client = lambda_client()
    assert client.invoke(FunctionName="salesAnalysisReport", InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="noSuchFunction", Payload=b"{}")
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="salesAnalysisReport", Payload=b"{not json")
    with pytest.raises(client.exceptions.ClientError, match="RequestEntityTooLargeException"):
        client.invoke(FunctionName="salesAnalysisReport", Payload=b'"' + b"x" * (6 * 1024 * 1024) + b'"')


def test_a_failing_event_invoke_is_retried_twice_then_lands_on_the_failure_queue_with_the_event():
    sqs = moto.client("sqs")
    queue = sqs.get_queue_url(QueueName=TEMPLATE.names["FailedInvocationsQueue"])["QueueUrl"]
    event = {"date": "not-a-date", "marker": f"async-{time.time_ns()}"}
    response = lambda_client().invoke(
        FunctionName="salesAnalysisReport", InvocationType="Event", Payload=json.dumps(event).encode()
    )
    assert response["StatusCode"] == 202
    request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    deadline = time.monotonic() + 30
    record = None
    while record is None and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            body = json.loads(message["Body"])
            if body["requestContext"]["requestId"] == request_id:
                record = body
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert record is not None, "the failed event never reached the on-failure queue"
    assert record["requestPayload"] == event
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "InvalidEventError"
    deliveries = [json.loads(line) for line in stack.read_logs("lambda").splitlines() if request_id in line]
    assert [d["attempt"] for d in deliveries if d["outcome"] == "error"] == [1, 2, 3]


def test_a_killed_runtime_comes_back_by_itself():
    name = "salesAnalysisReportDataExtractor"
    lambda_client().invoke(FunctionName=name, Payload=b'{"date": "2031-06-01"}')  # at least one environment
    before = restarts(name)
    killed = kill_runtime(name)
    deadline = time.monotonic() + 30
    while True:
        response = lambda_client().invoke(FunctionName=name, Payload=b'{"date": "2031-06-01"}')
        payload = json.loads(response["Payload"].read())
        if "FunctionError" not in response or time.monotonic() > deadline:
            break
        # Invocations that race the crash get a Lambda-shaped error until the runtime is back.
        assert payload["errorType"] == "Runtime.ExitError"
        time.sleep(0.5)
    assert payload == {"statusCode": 200, "body": []}
    assert restarts(name) == before + (killed if stack.mode() == "host" else 1)


def test_a_restart_returns_once_a_fresh_runtime_is_up_and_the_next_invocation_is_its_cold_start():
    name = "salesAnalysisReportDataExtractor"
    if stack.mode() == "host":
        before = {i["pid"] for i in plane_state()[name]["instances"]}
    stack.restart_function(by_name(name))
    if stack.mode() == "host":
        # Not an old process still being reaped, nor none yet: the new one is already listening.
        (after,) = plane_state()[name]["instances"]
        assert after["pid"] is not None and after["pid"] not in before
    response = lambda_client().invoke(FunctionName=name, Payload=b'{"date": "2031-06-01"}', LogType="Tail")
    assert "FunctionError" not in response
    log = base64.b64decode(response["LogResult"]).decode()
    assert "Init Duration" in log  # a cold start (the emulator's own INIT lines are not Lambda's tail)


def test_a_100_mb_body_is_refused_before_it_is_read():
    """413 as soon as the declared length is over Lambda's limit: the plane answers after the first MB
    of a 100 MB upload, holding none of the rest."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", stack.LAMBDA_PORT, timeout=30)
    connection.putrequest("POST", "/2015-03-31/functions/weatherApi/invocations")
    connection.putheader("Content-Length", str(100 * 1024 * 1024))
    connection.endheaders()
    connection.send(b"x" * (1024 * 1024))
    response = connection.getresponse()
    assert response.status == 413
    assert response.getheader("x-amzn-ErrorType") == "RequestEntityTooLargeException"
    connection.close()


@pytest.mark.parametrize(
    ("port", "path", "headers"),
    [
        (
            3001,
            "/2015-03-31/functions/salesAnalysisReportDataExtractor/invocations",
            {"Host": "evil.example", "Origin": "https://evil.example"},
        ),
        (
            3001,
            "/2015-03-31/functions/salesAnalysisReportDataExtractor/invocations",
            {"Origin": "https://evil.example"},
        ),
        (9001, "/2015-03-31/functions/function/invocations", {"Sec-Fetch-Site": "cross-site"}),
        (3001, "/_local/functions/salesAnalysisReportDataExtractor/restart", {"Origin": "https://evil.example"}),
        (3000, "/weather?lat=1&lon=1", {"Host": "rebound.evil.example:3000"}),
        # A page on another loopback port is another origin: the AWS endpoint serves any stored object as
        # a page, API Gateway whatever a function returns.
        (3001, "/_local/token", {"Origin": "http://127.0.0.1:5000", "Sec-Fetch-Site": "same-site"}),
        (3001, "/_local/functions/salesAnalysisReport/debug", {"Origin": "http://localhost:3000"}),
        (9001, "/2015-03-31/functions/function/invocations", {"Origin": "http://127.0.0.1:5000"}),
    ],
)
def test_a_web_page_cannot_drive_the_plane(port: int, path: str, headers: dict[str, str]) -> None:
    """A "simple" cross-site POST (text/plain, no preflight), or DNS rebinding (a foreign Host)."""
    import urllib.error
    import urllib.request

    method = "GET" if port == 3000 else "POST"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=b'{"date": "2026-11-20"}' if method == "POST" else None,
        headers={"Content-Type": "text/plain", **headers},
        method=method,
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert refused.value.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    message = json.loads(refused.value.read())["message"]
    assert "refused" in message or "not served here" in message


@pytest.mark.parametrize(
    ("function_name", "status", "error_type"),
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:weatherApi", 200, None),
        ("123456789012:function:weatherApi:$LATEST", 200, None),
        ("salesAnalysisReportDataExtractor:nope", 404, "ResourceNotFoundException"),
        ("arn:aws:lambda:eu-west-1:999999999999:function:weatherApi", 404, "ResourceNotFoundException"),
        ("weather%2FApi", 400, "ValidationException"),
    ],
)
def test_function_names_are_read_as_lambda_reads_them(function_name: str, status: int, error_type: str | None) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:3001/2015-03-31/functions/{function_name}/invocations",
        data=json.dumps({"rawPath": "/nowhere"}).encode(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            got, kind = response.status, None
    except urllib.error.HTTPError as error:
        got, kind = error.code, error.headers["x-amzn-ErrorType"]
        assert json.loads(error.read())["message"]
    assert (got, kind) == (status, error_type)


def test_a_payload_nested_too_deeply_is_invalid_request_content() -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        "http://127.0.0.1:3001/2015-03-31/functions/weatherApi/invocations",
        data=b"[" * 100_000 + b"]" * 100_000,
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400 and refused.value.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
