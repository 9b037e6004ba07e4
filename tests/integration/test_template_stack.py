"""template.yaml, translated by the SAM transform's library, created as a stack in moto's CloudFormation
and read back resource by resource.

The stack lives in a moto server of its own, in its own account: moto's `/moto-api/data.json`, which
the suite reads, fails for good once a Lambda function exists there without a Docker engine. What
moto's CloudFormation does not keep (bucket notifications, SNS subscriptions to Lambda,
EventInvokeConfig, topic policies; moto also reports PackageType Zip) is checked on the translated
template in tests/unit/test_template.py. Resource types moto's CloudFormation cannot create (the
Cognito user pool, HTTP APIs, API stages and authorizers) are left out, with what references them.
"""

import ast
import json
import re
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from lambda_local.providers import load
from stack import VENV_BIN, port_open
from tests.integration.conftest import LOCAL_ENV
from tests.support.sam import REGION, translated

pytestmark = pytest.mark.integration
ACCOUNT = "000000000042"
IMAGE_URIS = {
    fn.logical_id.removesuffix("Function") + "ImageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{fn.directory}:t1"
    for fn in load().functions
}


_endpoint: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def private_moto() -> Iterator[None]:
    """A moto server for this module alone, on a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not port_open(port):
        assert process.poll() is None and time.monotonic() < deadline, "the private moto server did not start"
        time.sleep(0.1)
    _endpoint[:] = [f"http://127.0.0.1:{port}"]
    yield
    process.terminate()
    process.wait(timeout=10)


def client(service: str) -> Any:
    c = boto3.client(
        service,
        endpoint_url=_endpoint[0],
        region_name=REGION,
        aws_access_key_id=LOCAL_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    c.meta.events.register(
        "before-sign.*.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", ACCOUNT)
    )
    return c


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, dict[str, Any]]]:
    """The created stack's resources by logical id (PhysicalResourceId, ResourceType)."""
    cfn = client("cloudformation")
    name = f"cafe-{uuid.uuid4().hex[:8]}"
    parameters = {"AdminEmail": "admin@example.com"} | IMAGE_URIS
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(supported_by_moto(translated())),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    status = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert status["StackStatus"] == "CREATE_COMPLETE", status.get("StackStatusReason")
    resources = {
        r["LogicalResourceId"]: r
        for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
        if "LogicalResourceId" in r
    }
    yield resources
    cfn.delete_stack(StackName=name)


UNSUPPORTED = ("AWS::Cognito::", "AWS::ApiGatewayV2::", "AWS::ApiGateway::Stage", "AWS::ApiGateway::Authorizer")


def references(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = set()
        if isinstance(value.get("Ref"), str):
            found.add(value["Ref"])
        if isinstance(value.get("Fn::GetAtt"), list):
            found.add(value["Fn::GetAtt"][0])
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            found |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text)}
        return found.union(*(references(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(references(v) for v in value))
    return set()


def supported_by_moto(template: dict[str, Any]) -> dict[str, Any]:
    """The template without the resources moto cannot create and whatever refers to them."""
    template = json.loads(json.dumps(template))
    dropped = {k for k, v in template["Resources"].items() if v["Type"].startswith(UNSUPPORTED)}
    while True:
        more = {
            k
            for k, v in template["Resources"].items()
            if k not in dropped and (references(v) & dropped or set(v.get("DependsOn", [])) & dropped)
        }
        if not more:
            break
        dropped |= more
    template["Resources"] = {k: v for k, v in template["Resources"].items() if k not in dropped}
    template["Outputs"] = {k: v for k, v in template.get("Outputs", {}).items() if not references(v) & dropped}
    return template


def physical(stack: dict[str, dict[str, Any]], logical_id: str) -> str:
    return stack[logical_id]["PhysicalResourceId"]


def test_created_stack_has_every_resource_moto_supports(stack):
    counts = Counter(r["ResourceType"] for r in stack.values())
    functions = len(load().functions)
    assert counts["AWS::Lambda::Function"] == functions == 9
    assert counts["AWS::IAM::Role"] == functions
    assert counts["AWS::Logs::LogGroup"] == functions
    assert counts["AWS::S3::Bucket"] == 5
    assert counts["AWS::SNS::Topic"] == 4
    assert counts["AWS::SQS::Queue"] == 1
    assert counts["AWS::Events::Rule"] == 1
    assert counts["AWS::DynamoDB::Table"] == 6
    assert counts["AWS::Kinesis::Stream"] == 1
    assert counts["AWS::Lambda::EventSourceMapping"] == 2


def test_every_function_has_its_image_role_settings_and_resolved_environment(stack):
    lam = client("lambda")
    iam = client("iam")
    for fn in load().functions:
        config = lam.get_function(FunctionName=fn.lambda_name)
        assert physical(stack, fn.logical_id) == fn.lambda_name
        conf = config["Configuration"]
        assert config["Code"]["ImageUri"] == IMAGE_URIS[fn.logical_id.removesuffix("Function") + "ImageUri"]
        role = iam.get_role(RoleName=physical(stack, f"{fn.logical_id}Role"))["Role"]
        assert conf["Role"] == role["Arn"]
        assert conf["MemorySize"] == fn.memory_mb
        assert conf["Timeout"] == fn.timeout_s
        env = conf["Environment"]["Variables"]
        assert env.keys() == fn.environment.keys()
        for key, value in fn.environment.items():
            if isinstance(value, dict) and "Ref" in value and value["Ref"] in stack:
                assert env[key] == physical(stack, value["Ref"]), key
    report_env = lam.get_function(FunctionName="salesAnalysisReport")["Configuration"]["Environment"]["Variables"]
    assert report_env["TOPIC_ARN"].startswith(f"arn:aws:sns:{REGION}:{ACCOUNT}:")
    assert report_env["EXTRACTOR_FUNCTION_NAME"] == "salesAnalysisReportDataExtractor"
    resize_env = lam.get_function(FunctionName="imageResize")["Configuration"]["Environment"]["Variables"]
    assert resize_env["IMAGE_DESTINATION_BUCKET"] == physical(stack, "RenditionsBucket")
    assert physical(stack, "RenditionsBucket") != physical(stack, "UploadsBucket")


def test_roles_carry_the_inline_statements(stack):
    iam = client("iam")
    role = physical(stack, "SalesReportFunctionRole")
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    documents = [iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in names]
    # moto keeps a CloudFormation role's inline policy as the text of a Python dict
    documents = [d if isinstance(d, dict) else ast.literal_eval(d) for d in documents]
    actions = {s["Action"] for d in documents for s in d["Statement"]}
    assert actions == {"lambda:InvokeFunction", "sns:Publish", "sqs:SendMessage"}
    invoke = next(s for d in documents for s in d["Statement"] if s["Action"] == "lambda:InvokeFunction")
    assert invoke["Resource"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:salesAnalysisReportDataExtractor"


def test_the_schedule_targets_the_report_which_lets_eventbridge_invoke_it(stack):
    events = client("events")
    rule = events.describe_rule(Name="salesAnalysisReportDailySchedule")
    assert rule["ScheduleExpression"] == "cron(0 20 ? * MON-SAT *)"
    (target,) = events.list_targets_by_rule(Rule="salesAnalysisReportDailySchedule")["Targets"]
    assert target["Arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:salesAnalysisReport"
    policy = json.loads(client("lambda").get_policy(FunctionName="salesAnalysisReport")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]


def test_uploads_topic_may_invoke_both_image_functions(stack):
    topic = physical(stack, "UploadsTopic")
    for name in ("imageResize", "imageLabels"):
        (statement,) = json.loads(client("lambda").get_policy(FunctionName=name)["Policy"])["Statement"]
        assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
        assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == topic


def test_the_report_topic_mails_the_admin_and_the_failure_queue_exists(stack):
    subscriptions = client("sns").list_subscriptions_by_topic(TopicArn=physical(stack, "ReportTopic"))["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "admin@example.com")]
    queue_url = physical(stack, "FailedInvocationsQueue")
    attributes = client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["MessageRetentionPeriod"])
    assert attributes["Attributes"]["MessageRetentionPeriod"] == "1209600"
    encryption = client("s3").get_bucket_encryption(Bucket=physical(stack, "UploadsBucket"))
    assert encryption["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
