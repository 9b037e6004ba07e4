"""Every parser the outside world feeds, under arbitrary input (Hypothesis): each gives a correct result
or its module's own clear error, never another exception. Trace headers (recursion.py), SNS and S3
envelopes (event_shapes.py, queue_sources.py), API Gateway and function URL requests and answers,
Invoke API names (function_names.py), stream records (streams.py) and template values (providers)."""

import base64
import copy
import dataclasses
import json
import string
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_local.events import recursion
from lambda_local.events.api_gateway import (
    BadResponse,
    HttpRequest,
    HttpResponse,
    http_event,
    http_response,
    rest_event,
    rest_response,
)
from lambda_local.events.function_url import url_event, url_response
from lambda_local.events.malformed import MalformedEvent
from lambda_local.events.s3 import complete_s3_event
from lambda_local.events.sns import sns_event
from lambda_local.events.sqs import sqs_record
from lambda_local.http.api_gateway import METHODS
from lambda_local.invocation.function_names import InvalidName, NotFound, Target, check, parse
from lambda_local.providers import ROOT, ApiRoute, TemplateError, load, load_yaml
from lambda_local.providers import parse as parse_template
from lambda_local.providers.filters import keep, parse_filters
from lambda_local.sources.notifications import QueuePoller
from lambda_local.sources.streams import DynamoDBStream, KinesisStream

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=16,
)
PRINTABLE = set(string.printable) - set("\t\n\r\x0b\x0c")


def deep_text(depth: int) -> str:
    return "[" * depth + "]" * depth


# ------------------------------------------------------------------ trace headers


HASHES = st.sampled_from([recursion.function_hash("loop"), recursion.function_hash("other"), "zz", "ABCDEF12"])
COUNTS = st.integers(min_value=0, max_value=10**12).map(str) | st.sampled_from(["²", "١٢", "", "-1", "9" * 5000])
LINEAGES = st.lists(st.tuples(HASHES, COUNTS).map(":".join) | st.text(max_size=6), max_size=5).map("|".join)
TRACES = (
    st.none()
    | st.text(max_size=60)
    | st.builds(
        lambda root, sampled, lineage, quoted: f"Root={root};Sampled={sampled};Lineage={lineage}".replace(
            "|", "%7C" if quoted else "|"
        ),
        st.text(max_size=20) | st.just("1-5759e988-bd862e3fe1be46a994272793"),
        st.sampled_from(["0", "1", "?", "x", ""]),
        LINEAGES,
        st.booleans(),
    )
)


@settings(max_examples=500, deadline=None)
@given(trace=TRACES, function=st.sampled_from(["loop", "other"]))
def test_any_trace_header_is_read_and_its_chain_goes_on_by_one(trace: str | None, function: str) -> None:
    fields = recursion.fields(trace)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())
    before = recursion.depth(trace, function)
    assert 0 <= before <= 999_999_999
    after = recursion.next_trace(trace, function)
    assert set(after) <= PRINTABLE and ";" not in recursion.fields(after)["Root"]  # fit for an HTTP header
    assert recursion.depth(after, function) == min(before + 1, 999_999_999)
    assert recursion.stopped(after, function) is (recursion.depth(after, function) >= recursion.MAX_DEPTH)
    root = fields.get("Root", "")
    if root and set(root) <= PRINTABLE - {" ", ";"} and len(root) <= 128:
        assert recursion.fields(after)["Root"] == root  # the chain's root is carried on


def test_a_non_ascii_digit_in_a_trace_header_is_no_count() -> None:
    # `'²'.isdigit()` is true and `int('²')` raises: this blocked a whole SQS batch.
    own = recursion.function_hash("loop")
    trace = f"Root=1-abc;Lineage={own}:²|{own}:١٢"
    assert recursion.depth(trace, "loop") == 0
    assert recursion.depth(recursion.next_trace(trace, "loop"), "loop") == 1


@settings(max_examples=300, deadline=None)
@given(target=st.sampled_from(["AmazonSQS.SendMessage", "AmazonSQS.SendMessageBatch", "X"]), body=JSON)
def test_a_functions_sqs_call_keeps_its_trace_whatever_its_body(target: str, body: Any) -> None:
    stamped = recursion.with_trace_attribute(target, body, "Root=1-a")
    json.dumps(stamped)
    if target.endswith("SendMessage") and isinstance(body, dict):
        system = body.get("MessageSystemAttributes")
        if isinstance(system or {}, dict):
            assert "AWSTraceHeader" in stamped["MessageSystemAttributes"]


@settings(max_examples=200, deadline=None)
@given(policy=st.none() | st.text(max_size=30) | JSON.map(json.dumps) | st.just(deep_text(5000)))
def test_any_redrive_policy_names_a_queue_or_none(policy: str | None) -> None:
    name = recursion.dead_letter_queue(policy)
    assert name is None or (isinstance(name, str) and ":" not in name and name)


# ------------------------------------------------------------------ SNS and S3 envelopes

S3_RECORDS = st.lists(
    st.fixed_dictionaries(
        {"eventSource": st.just("aws:s3")},
        optional={
            "s3": JSON
            | st.fixed_dictionaries(
                {}, optional={"bucket": JSON, "object": JSON | st.fixed_dictionaries({"key": JSON})}
            ),
            "userIdentity": JSON,
            "requestParameters": JSON,
            "responseElements": JSON,
        },
    )
    | JSON,
    max_size=3,
)
S3_EVENTS = st.fixed_dictionaries({}, optional={"Records": S3_RECORDS | JSON, "Event": st.just("s3:TestEvent")}) | JSON
SNS_NOTIFICATIONS = (
    st.fixed_dictionaries(
        {},
        optional={
            "Type": JSON,
            "MessageId": JSON,
            "TopicArn": JSON,
            "Subject": JSON,
            "Message": S3_EVENTS.map(json.dumps) | JSON | st.just(deep_text(5000)),
            "Timestamp": JSON,
            "MessageAttributes": JSON
            | st.dictionaries(st.text(max_size=4), JSON | st.fixed_dictionaries({"Type": JSON})),
        },
    )
    | JSON
)


@settings(max_examples=400, deadline=None)
@given(event=S3_EVENTS)
def test_an_s3_notification_is_completed_or_refused_as_malformed(event: Any) -> None:
    try:
        completed = complete_s3_event(copy.deepcopy(event))
    except MalformedEvent:
        return
    if completed is not None:
        json.dumps(completed)
        for record in completed.get("Records", []):
            assert isinstance(record["s3"]["object"].get("sequencer"), str)


@settings(max_examples=400, deadline=None)
@given(notification=SNS_NOTIFICATIONS)
def test_an_sns_notification_is_an_event_or_refused_as_malformed(notification: Any) -> None:
    try:
        event = sns_event(copy.deepcopy(notification), "arn:sub")
    except MalformedEvent:
        return
    if event is not None:
        json.dumps(event)
        (record,) = event["Records"]
        assert record["EventSource"] == "aws:sns" and record["EventSubscriptionArn"] == "arn:sub"


TRIGGER = load().queue_triggers[0]
QUEUE_TRIGGERS = {
    kind: dataclasses.replace(TRIGGER, event=dataclasses.replace(TRIGGER.event, type=kind)) for kind in ("SNS", "S3")
}


@settings(max_examples=300, deadline=None)
@given(
    body=st.text(max_size=40)
    | SNS_NOTIFICATIONS.map(json.dumps)
    | S3_EVENTS.map(json.dumps)
    | st.just(deep_text(5000)),
    sns=st.booleans(),
)
def test_a_trigger_queues_message_is_an_event_or_malformed(body: str, sns: bool) -> None:
    poller = QueuePoller(QUEUE_TRIGGERS["SNS" if sns else "S3"], None, "url", "arn:sub", lambda *a: "id")
    try:
        event = poller.event_for(body)
    except MalformedEvent:
        return
    if event is not None:
        json.dumps(event)


# ------------------------------------------------------------------ SQS records


ATTRIBUTE = st.fixed_dictionaries(
    {"DataType": st.sampled_from(["String", "Number", "Binary"])},
    optional={"StringValue": st.text(max_size=8), "BinaryValue": st.binary(max_size=8)},
)


@settings(max_examples=300, deadline=None)
@given(
    body=st.text(max_size=50) | JSON.map(json.dumps) | st.just('{"a":' * 3000 + "1" + "}" * 3000),
    attributes=st.dictionaries(
        st.sampled_from(["AWSTraceHeader", "ApproximateReceiveCount", "X"]), st.text(max_size=20)
    ),
    message_attributes=st.dictionaries(st.text(min_size=1, max_size=6), ATTRIBUTE, max_size=3),
)
def test_an_sqs_message_is_a_record_any_filter_can_read(body: str, attributes: Any, message_attributes: Any) -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "Body": body,
        "Attributes": attributes,
        "MessageAttributes": message_attributes,
    }
    record = sqs_record(message, "arn:aws:sqs:us-east-1:1:q", "us-east-1")
    json.dumps(record)
    patterns = parse_filters({"Filters": [{"Pattern": '{"body": {"a": [{"exists": true}]}}'}]}, "at")
    assert keep(patterns, record, "sqs") in (True, False)
    recursion.next_trace(record["attributes"].get("AWSTraceHeader"), "fn")


# ------------------------------------------------------------------ stream records


class _Client:
    def __init__(self, records: list[Any]) -> None:
        self.records = records

    def get_records(self, **_: Any) -> dict[str, Any]:
        return {"Records": self.records, "NextShardIterator": "next"}

    def describe_stream_summary(self, **_: Any) -> dict[str, Any]:
        created = datetime(2026, 1, 1, tzinfo=UTC)
        return {"StreamDescriptionSummary": {"StreamARN": "arn:kinesis", "StreamCreationTimestamp": created}}


WHEN = st.datetimes(timezones=st.just(UTC)) | JSON
KINESIS_RAW = st.fixed_dictionaries(
    {},
    optional={
        "SequenceNumber": st.text(min_size=1, max_size=8) | JSON,
        "PartitionKey": st.text(max_size=8) | JSON,
        "Data": st.binary(max_size=30) | JSON.map(lambda v: json.dumps(v).encode()) | JSON,
        "ApproximateArrivalTimestamp": WHEN,
    },
)
VALUE = st.recursive(
    st.fixed_dictionaries({"S": st.text(max_size=5)})
    | st.fixed_dictionaries({"N": st.integers().map(str)})
    | st.fixed_dictionaries({"B": st.binary(max_size=5)}),
    lambda inner: (
        st.fixed_dictionaries({"M": st.dictionaries(st.text(max_size=3), inner, max_size=3)})
        | st.fixed_dictionaries({"L": st.lists(inner, max_size=3)})
    ),
    max_leaves=8,
)
DYNAMODB_RAW = st.fixed_dictionaries(
    {},
    optional={
        "eventID": st.text(max_size=6) | JSON,
        "eventName": st.sampled_from(["INSERT", "MODIFY", "REMOVE"]) | JSON,
        "dynamodb": st.fixed_dictionaries(
            {},
            optional={
                "SequenceNumber": st.text(min_size=1, max_size=8) | JSON,
                "ApproximateCreationDateTime": WHEN,
                "Keys": st.dictionaries(st.text(max_size=3), VALUE, max_size=2),
                "NewImage": st.dictionaries(st.text(max_size=3), VALUE, max_size=3) | JSON,
            },
        )
        | JSON,
    },
)
STREAM_PATTERNS = parse_filters(
    {"Filters": [{"Pattern": '{"data": {"a": [1]}}'}, {"Pattern": '{"dynamodb": {"NewImage": {"a": {"S": ["x"]}}}}'}]},
    "at",
)


def _settled_or_set_aside(records: list[Any], source: str) -> None:
    for record in records:
        assert isinstance(record.sequence, str)
        if record.problem is None:
            json.dumps(record.event_record)
            assert record.key is not None
            assert keep(STREAM_PATTERNS, record.event_record, source) in (True, False)
        else:
            assert isinstance(record.problem, str) and record.problem  # goes to the on-failure destination


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raws=st.lists(KINESIS_RAW | JSON, max_size=4))
def test_any_kinesis_record_is_an_event_record_or_one_that_says_why_not(raws: list[Any]) -> None:
    stream = KinesisStream(_Client(raws), "s", "us-east-1", "arn:role")
    records, following = stream.read("shard-1", "it", 100)
    assert following == "next" and len(records) <= len(raws)
    _settled_or_set_aside(records, "kinesis")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raws=st.lists(DYNAMODB_RAW | JSON, max_size=4))
def test_any_dynamodb_record_is_an_event_record_or_one_that_says_why_not(raws: list[Any]) -> None:
    stream = DynamoDBStream(_Client(raws), "arn:aws:dynamodb:us-east-1:1:table/t/stream/x", "us-east-1")
    records, _ = stream.read("shard-1", "it", 100)
    assert len(records) <= len(raws)
    _settled_or_set_aside(records, "dynamodb")


# ------------------------------------------------------------------ API Gateway and function URLs


HEADERS = st.lists(
    st.tuples(
        st.sampled_from(["content-type", "cookie", "host", "x-forwarded-for", "user-agent"])
        | st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=10),
        st.text(max_size=20),
    ),
    max_size=6,
)
REQUESTS = st.builds(
    HttpRequest,
    method=st.sampled_from(METHODS),
    path=st.text(max_size=30).map(lambda p: "/" + p),
    raw_path=st.text(max_size=30).map(lambda p: "/" + p),
    raw_query=st.text(max_size=30)
    | st.lists(st.tuples(st.text(max_size=4), st.text(max_size=4))).map(
        lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)
    ),
    headers=HEADERS,
    body=st.binary(max_size=40) | st.text(max_size=40).map(str.encode),
    source_ip=st.sampled_from(["127.0.0.1", "::1", "x"]),
    port=st.integers(min_value=1, max_value=65535),
)
ROUTES = st.builds(
    ApiRoute,
    kind=st.sampled_from(["rest", "http"]),
    api_id=st.text(min_size=1, max_size=12),
    path=st.sampled_from(["/items/{id}", "/files/{proxy+}", "$default", "/"]),
    method=st.sampled_from(["ANY", "GET", "POST"]),
    function=st.just("fn"),
    payload_version=st.sampled_from(["1.0", "2.0"]),
    authorizer=st.none(),
    binary_media_types=st.lists(st.sampled_from(["image/*", "*/*", "application/octet-stream", "text/plain"])).map(
        tuple
    ),
)
CLAIMS = st.none() | st.dictionaries(st.text(max_size=5), JSON, max_size=3)


@settings(max_examples=400, deadline=None)
@given(
    route=ROUTES, request=REQUESTS, parameters=st.dictionaries(st.text(max_size=4), st.text(max_size=6)), claims=CLAIMS
)
def test_any_request_becomes_an_api_gateway_event_that_carries_its_body(
    route: ApiRoute, request: HttpRequest, parameters: dict[str, str], claims: dict[str, Any] | None
) -> None:
    rest = rest_event(route, request, parameters, claims)
    json.dumps(rest)
    if rest["isBase64Encoded"]:
        assert base64.b64decode(rest["body"]) == request.body
    else:
        assert (rest["body"] or "") == request.body.decode(errors="replace")
    http = http_event(route, request, parameters, claims)
    json.dumps(http)
    assert http["rawQueryString"] == request.raw_query and http["rawPath"] == request.raw_path
    if http["isBase64Encoded"]:
        assert base64.b64decode(http["body"]) == request.body
    else:
        assert http.get("body", "").encode() == request.body
    url = url_event("fn", "us-east-1", request, None)
    json.dumps(url)
    assert url["requestContext"]["accountId"] == "anonymous"


ANSWERS = (
    st.binary(max_size=30)
    | JSON.map(lambda v: json.dumps(v).encode())
    | st.fixed_dictionaries(
        {},
        optional={
            "statusCode": st.integers(min_value=-5, max_value=1000)
            | st.text(alphabet="0123456789x", max_size=4)
            | JSON,
            "headers": JSON | st.dictionaries(st.text(max_size=5), JSON, max_size=3),
            "multiValueHeaders": JSON | st.dictionaries(st.text(max_size=5), JSON, max_size=3),
            "cookies": JSON,
            "body": JSON | st.binary(max_size=10).map(lambda b: base64.b64encode(b).decode()),
            "isBase64Encoded": st.booleans() | JSON,
        },
    ).map(lambda v: json.dumps(v).encode())
)


@settings(max_examples=500, deadline=None)
@given(payload=ANSWERS)
def test_any_function_answer_is_a_response_or_a_bad_response(payload: bytes) -> None:
    for read in (rest_response, http_response, url_response):
        try:
            response = read(payload)
        except BadResponse:
            continue
        assert isinstance(response, HttpResponse) and 100 <= response.status <= 599
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in response.headers)
        assert isinstance(response.body, bytes)


def test_a_status_code_of_non_ascii_digits_is_a_bad_response() -> None:
    # A ValueError that is no BadResponse would escape the handler's `except BadResponse`.
    with pytest.raises(BadResponse):
        rest_response(b'{"statusCode": "\\u00b2"}')


def test_a_deeply_nested_answer_is_a_bad_response() -> None:
    # json.loads raises RecursionError, not ValueError, past ~1000 levels.
    with pytest.raises(BadResponse):
        http_response(deep_text(5000).encode())


# ------------------------------------------------------------------ Invoke API names

NAMES = (
    st.text(max_size=80)
    | st.from_regex(r"[a-zA-Z0-9_.-]{1,20}(:[a-zA-Z0-9_$-]{1,10})?", fullmatch=True)
    | st.builds(
        lambda region, account, name: f"arn:aws:lambda:{region}:{account}:function:{name}",
        st.sampled_from(["us-east-1", "eu-west-1", "x"]),
        st.sampled_from(["000000000000", "123456789012", "١٢٣٤٥٦٧٨٩٠١٢", "1"]),
        st.text(alphabet=string.ascii_letters + "-_:²", min_size=1, max_size=12),
    )
)


@settings(max_examples=500, deadline=None)
@given(name=NAMES, qualifier=st.none() | st.text(max_size=10) | st.sampled_from(["$LATEST", "live"]))
def test_any_function_name_is_a_target_or_lambdas_error(name: str, qualifier: str | None) -> None:
    try:
        target = parse(name, qualifier)
    except InvalidName as exc:
        assert str(exc)
        return
    assert isinstance(target, Target) and name.isascii()  # Lambda's pattern: ASCII only (Java's \d)
    try:
        found, version = check(name, target, {"fn": "live", "probe": None}, "000000000000", "us-east-1")
    except NotFound as exc:
        assert "Function not found" in str(exc)
        return
    assert found in ("fn", "probe") and version in ("$LATEST", "1")


def test_an_account_of_non_ascii_digits_is_no_function_name() -> None:
    with pytest.raises(InvalidName):
        parse("١٢٣٤٥٦٧٨٩٠١٢:function:fn")


# ------------------------------------------------------------------ template values

BASE = load_yaml()
FUNCTION_PROPERTIES = st.sampled_from(
    [
        "Timeout",
        "MemorySize",
        "Environment",
        "ImageConfig",
        "EventInvokeConfig",
        "ReservedConcurrentExecutions",
        "ProvisionedConcurrencyConfig",
        "AutoPublishAlias",
        "FunctionUrlConfig",
        "LoggingConfig",
        "Events",
    ]
)
EVENT_TYPES = st.sampled_from(["SQS", "Kinesis", "DynamoDB", "SNS", "S3", "Schedule", "ScheduleV2", "Api", "HttpApi"])
EVENT_PROPERTIES = st.dictionaries(
    st.sampled_from(
        [
            "Queue",
            "Stream",
            "Topic",
            "Bucket",
            "Events",
            "Schedule",
            "Path",
            "Method",
            "BatchSize",
            "StartingPosition",
            "MaximumBatchingWindowInSeconds",
            "FilterCriteria",
            "FunctionResponseTypes",
            "ScalingConfig",
            "ParallelizationFactor",
            "MaximumRetryAttempts",
            "DestinationConfig",
            "Enabled",
        ]
    ),
    JSON
    | st.fixed_dictionaries({"Filters": st.lists(st.fixed_dictionaries({"Pattern": JSON.map(json.dumps) | JSON}))}),
    max_size=5,
)


def _template(props: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["Resources"]["Probe"] = {
        "Type": "AWS::Serverless::Function",
        "Metadata": {"DockerBuildArgs": {"FUNCTION": "weather-api"}},
        "Properties": {"PackageType": "Image", "FunctionName": "probe"} | props,
    }
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=FUNCTION_PROPERTIES, value=JSON)
def test_any_function_property_is_read_or_refused_with_a_template_error(name: str, value: Any) -> None:
    try:
        parse_template(_template({name: value}), ROOT / "functions")
    except TemplateError as exc:
        assert str(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=EVENT_TYPES, props=EVENT_PROPERTIES | JSON)
def test_any_event_property_is_read_or_refused_with_a_template_error(kind: str, props: Any) -> None:
    try:
        parse_template(_template({"Events": {"Probe": {"Type": kind, "Properties": props}}}), ROOT / "functions")
    except TemplateError as exc:
        assert str(exc)
