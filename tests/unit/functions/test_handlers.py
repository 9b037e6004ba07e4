"""Each AWS-only handler called in the test process under moto's `mock_aws` (no stack needed): the
events of its trigger in, the effects in AWS out. The handlers that need MySQL or another function
(the café report's pair, the order ETL) are run in-process against the stack in tests/integration."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto import mock_aws

from lambda_local.events.streams import kinesis_record
from lambda_local.providers import load
from lambda_local.sources.provision import create_resources
from shared import clients
from stack import ROOT
from tests.support.handlers import LoadedFunction, reset_caches
from tests.support.handlers import load as load_handler
from tools.gen_weather import observations
from tools.imagegen import jpeg, photo, s3_event
from tools.simulate_tractors import fleet_readings

NAMES = load().names
LOCAL_ONLY_ENDPOINTS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield
    reset_caches()  # no client made against the mock outlives it


def handler(directory: str, monkeypatch: pytest.MonkeyPatch) -> LoadedFunction:
    """The function's handler with its local environment, every client going to moto's in-process mock."""
    return load_handler(directory, monkeypatch, unset=LOCAL_ONLY_ENDPOINTS)


def sample(path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "events" / path).read_text())
    return loaded


def emf_metrics(output: str) -> dict[str, float]:
    """The metrics of the embedded-metric-format lines a function printed (what CloudWatch extracts)."""
    found: dict[str, float] = {}
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            for directive in document["_aws"]["CloudWatchMetrics"]:
                assert directive["Namespace"] == "CafeLambda"
                for metric in directive["Metrics"]:
                    value = document[metric["Name"]]
                    found[metric["Name"]] = found.get(metric["Name"], 0) + (
                        value if isinstance(value, float | int) else sum(value)
                    )
    return found


def test_weather_api_answers_from_the_data_set(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=NAMES["WeatherDataBucket"])
    document = observations(7, datetime(2026, 11, 20, 12, tzinfo=UTC))
    s3.put_object(Bucket=NAMES["WeatherDataBucket"], Key="observations/latest.json", Body=json.dumps(document))
    weather = handler("weather-api", monkeypatch)

    answer = weather(sample("weather-api/http-api-city.json"))
    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    zurich = next(s for s in document["stations"] if s["city"] == "Zürich")
    assert body["observation"]["temperature_c"] == zurich["observation"]["temperature_c"]
    assert answer["headers"]["access-control-allow-origin"] == "http://127.0.0.1:5000"
    unknown = sample("weather-api/http-api-city.json") | {"queryStringParameters": {"city": "Atlantis"}}
    assert weather(unknown)["statusCode"] == 404
    assert emf_metrics(capsys.readouterr().out) == {"PlacesFound": 1, "PlacesNotFound": 1}


def test_status_fanout_pushes_to_enabled_devices_and_skips_disabled_ones(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_resources(load(), lambda service: boto3.client(service, region_name="us-east-1"))
    sns = boto3.client("sns", region_name="us-east-1")
    application = sns.create_platform_application(
        Name="status-fanout", Platform="GCM", Attributes={"PlatformCredential": "k"}
    )["PlatformApplicationArn"]
    arns = [
        sns.create_platform_endpoint(PlatformApplicationArn=application, Token=f"t{i}")["EndpointArn"] for i in range(3)
    ]
    sns.set_endpoint_attributes(EndpointArn=arns[2], Attributes={"Enabled": "false"})
    dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
    for friend, endpoints in (("bob", arns[:2]), ("carol", arns[2:])):
        dynamodb.Table(NAMES["FriendsTable"]).put_item(Item={"user_id": "alice", "friend_id": friend})
        dynamodb.Table(NAMES["DevicesTable"]).put_item(Item={"user_id": friend, "endpoints": set(endpoints)})

    answer = handler("status-fanout", monkeypatch)(sample("status-fanout/api-post-status.json"))

    assert answer["statusCode"] == 202
    body = json.loads(answer["body"])
    assert (body["friends"], body["notified"], body["skipped_disabled"], body["failed"]) == (2, 2, 1, 0)
    stored = dynamodb.Table(NAMES["StatusesTable"]).scan()["Items"]
    assert [(s["user_id"], s["text"]) for s in stored] == [("alice", "Fresh croissants at the café!")]
    invalid = handler("status-fanout", monkeypatch)(sample("status-fanout/api-post-status-invalid.json"))
    assert invalid["statusCode"] == 400 and "text must be a string" in invalid["body"]


def kinesis_event(readings: list[dict[str, Any]], start: int) -> dict[str, Any]:
    records = []
    for offset, reading in enumerate(readings):
        raw = {
            "SequenceNumber": str(start + offset),
            "ApproximateArrivalTimestamp": datetime.now(UTC),
            "Data": json.dumps(reading).encode(),
            "PartitionKey": reading["tractor_id"],
        }
        stream = "arn:aws:kinesis:us-east-1:123456789012:stream/tractor-telemetry"
        records.append(kinesis_record(raw, "shardId-000000000000", stream, "us-east-1", "arn:aws:iam::1:role/r"))
    return {"Records": records}


class RawBody:
    """A response body as botocore's HTTP layer hands it over."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@contextmanager
def lambda_invokes(client: Any) -> Iterator[list[dict[str, Any]]]:
    """Lambda's 202 to every Invoke `client` sends (moto has no tractorPartsOrder to run); yields each
    call's function path, invocation type, execution name and decoded payload."""
    calls: list[dict[str, Any]] = []

    def accept(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        calls.append(
            {
                "path": request.url.split("/2015-03-31/functions/", 1)[1],
                "type": headers.get("x-amz-invocation-type"),
                "name": headers.get("x-amz-durable-execution-name"),
                "payload": json.loads(request.body or b"{}"),
            }
        )
        return AWSResponse(request.url, 202, {}, RawBody(b""))

    client.meta.events.register("before-send.lambda.Invoke", accept)
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-send.lambda.Invoke", accept)


def test_sensor_anomaly_starts_one_order_workflow_per_incident_and_reports_a_malformed_reading(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_resources(load(), lambda service: boto3.client(service, region_name="us-east-1"))
    readings = fleet_readings(3, 15, seed=2, faults={"T-003": "bearing_heat"})
    anomaly = handler("sensor-anomaly", monkeypatch)

    failures = []
    with lambda_invokes(clients.client("lambda")) as invokes:
        for start in range(0, len(readings), 100):
            answer = anomaly(kinesis_event(readings[start : start + 100], start + 1))
            failures += answer["batchItemFailures"]
        malformed = kinesis_event([{"tractor_id": "T-001", "sensor": "oil", "value": "hot"}], 10_000)
        assert anomaly(malformed)["batchItemFailures"] == [{"itemIdentifier": "10000"}]
        started = list(invokes)
        # The same records again: positions make them replays, no workflow is started twice.
        for start in range(0, len(readings), 100):
            anomaly(kinesis_event(readings[start : start + 100], start + 1))

    assert failures == []
    [order] = started
    # A durable function is invoked by a qualified name, asynchronously, its execution named after the incident.
    assert (order["path"], order["type"]) == ("tractorPartsOrder/invocations?Qualifier=%24LATEST", "Event")
    request = order["payload"]
    assert (request["tractor"], request["part"], request["sensor"]) == ("T-003", "wheel-bearing", "bearing_temp")
    assert request["order_id"] == f"T-003#wheel-bearing#{request['incident']}"
    assert order["name"].startswith("T-003-wheel-bearing-") and len(order["name"]) <= 64
    assert invokes == started
    assert boto3.client("dynamodb", region_name="us-east-1").scan(TableName=NAMES["PartsOrdersTable"])["Items"] == []


def test_image_functions_write_renditions_and_labels(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    create_resources(load(), lambda service: boto3.client(service, region_name="us-east-1"))
    env = {
        "IMAGE_UPLOAD_BUCKET": NAMES["UploadsBucket"],
        "IMAGE_DESTINATION_BUCKET": NAMES["RenditionsBucket"],
        "LABELS_RESULTS_BUCKET": NAMES["LabelsBucket"],
    }
    s3 = boto3.client("s3", region_name="us-east-1")
    key = "in process/café.jpg"
    s3.put_object(
        Bucket=env["IMAGE_UPLOAD_BUCKET"], Key=key, Body=jpeg(photo(1600, 1200, seed=3)), ContentType="image/jpeg"
    )
    event = s3_event(env["IMAGE_UPLOAD_BUCKET"], [key])

    resized = handler("image-resize", monkeypatch)(event)
    labelled = handler("image-labels", monkeypatch)(event)

    assert [(p["key"], len(p["renditions"])) for p in resized["processed"]] == [(key, 3)]
    written = {o["Key"] for o in s3.list_objects_v2(Bucket=env["IMAGE_DESTINATION_BUCKET"])["Contents"]}
    assert written == {f"{name}/{key}" for name in ("web", "tablet", "mobile")}
    document = json.loads(s3.get_object(Bucket=env["LABELS_RESULTS_BUCKET"], Key=f"labels/{key}.json")["Body"].read())
    assert document["key"] == key and document["labels"]
    assert labelled["failed"] == []
    assert emf_metrics(capsys.readouterr().out) == {
        "RenditionsWritten": 3,
        "ObjectsFailed": 0,
        "ImagesLabelled": 1,
    }
