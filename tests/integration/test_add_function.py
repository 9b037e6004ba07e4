"""Adding a function is its folder and its template entry: in a project of its own (a temporary
folder with a template.yaml and functions/), `make new-function`'s scaffold plus an entry that
declares a new bucket, table, Kinesis stream and REST and HTTP routes; the bootstrap's provisioning
creates the resources and a plane serving that template delivers every trigger to the function."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_local.providers import load
from lambda_local.sources.provision import create_resources
from stack import moto
from tests.support.probe_plane import NEW_PROJECT_TEMPLATE, ProbePlane, api_request, wait_for
from tools.new_function import insert_before_top_level_key, scaffold

pytestmark = pytest.mark.integration

TEMPLATE = NEW_PROJECT_TEMPLATE

# What a team writes for its function: triggers and the resources they name. No LocalNames, no ports.
EVENTS = """      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref AddedBucket
            Events: s3:ObjectCreated:*
        Change:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt AddedTable.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
        Reading:
          Type: Kinesis
          Properties:
            Stream: !GetAtt AddedStream.Arn
            StartingPosition: TRIM_HORIZON
        Rest:
          Type: Api
          Properties:
            Path: /added/{id}
            Method: GET
        Http:
          Type: HttpApi
          Properties:
            Path: /added
            Method: POST
"""

RESOURCES = """  AddedBucket:
    Type: AWS::S3::Bucket

  AddedTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}

  AddedStream:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("new-project")
    (root / "template.yaml").write_text(TEMPLATE)
    scaffold("added-probe", "Proves a function added in two steps runs.", root)
    text = (root / "template.yaml").read_text()
    text = text.replace(
        "          POWERTOOLS_SERVICE_NAME: added-probe\n", "          POWERTOOLS_SERVICE_NAME: added-probe\n" + EVENTS
    )
    (root / "template.yaml").write_text(insert_before_top_level_key(text, "Resources", RESOURCES))
    return root


@pytest.fixture(scope="module")
def plane(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    template = load(project / "template.yaml")
    create_resources(template, moto.client, fresh=True)
    running = ProbePlane(tmp_path_factory.mktemp("added-plane"), project / "template.yaml")
    running.start()
    yield running
    running.stop()


def test_the_new_functions_template_entry_reads_with_local_names_of_its_own(project: Path):
    template = load(project / "template.yaml")
    (fn,) = template.functions
    assert (fn.lambda_name, fn.directory, fn.port) == ("addedProbe", "added-probe", None)
    assert {template.names[r] for r in ("AddedBucket", "AddedTable", "AddedStream")} == {
        "added-bucket",
        "added-table",
        "added-stream",
    }
    assert sorted(p.name for p in (project / "functions" / "added-probe").glob("*.*")) == [
        "added_probe.py",
        "app.py",
        "requirements.txt",
    ]


def test_every_trigger_reaches_the_new_function(plane: ProbePlane):
    moto.client("s3").put_object(Bucket="added-bucket", Key="hello.txt", Body=b"hi")
    moto.client("dynamodb").put_item(TableName="added-table", Item={"id": {"S": "one"}})
    moto.client("kinesis").put_record(StreamName="added-stream", Data=b'{"n": 1}', PartitionKey="p")

    def sources() -> set[str]:
        return {d["source"] for d in plane.deliveries("addedProbe") if d["outcome"] == "ok"}

    wait_for(lambda: {"s3", "dynamodb", "kinesis"} <= sources(), 60, "an S3, a DynamoDB and a Kinesis delivery")

    rest = api_request("GET", "/added/42")
    assert rest.status == 200
    assert json.loads(rest.read())["received"] == sorted(
        ["body", "headers", "httpMethod", "isBase64Encoded", "multiValueHeaders", "multiValueQueryStringParameters"]
        + ["path", "pathParameters", "queryStringParameters", "requestContext", "resource", "stageVariables"]
    )
    http = api_request("POST", "/added", body=b"{}", headers={"content-type": "application/json"})
    assert http.status == 200 and "routeKey" in json.loads(http.read())["received"]
