"""The provider layer: template.yaml -> typed functions, triggers, routes, destinations and local
resources; one TemplateError naming the place for what the local stack cannot run."""

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from lambda_local.providers import ROOT, TemplateError, kebab, load, load_yaml, parse

BASE = load_yaml()


def template_with(**resources: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["Resources"].update(resources)
    return data


def function(events: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Metadata": {"DockerBuildArgs": {"FUNCTION": "weather-api"}},
        "Properties": {"PackageType": "Image", "FunctionName": "probe", "Events": events or {}} | props,
    }


def parsed(**resources: Any):  # type: ignore[no-untyped-def]
    return parse(template_with(**resources), ROOT / "functions")


def test_the_project_template_reads_whole():
    template = load()
    assert {fn.directory for fn in template.functions} == {
        p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file()
    }
    assert [s.rule for s in template.schedules] == ["salesAnalysisReportDailySchedule"]
    assert {(t.function, t.source_name) for t in template.queue_triggers} == {
        ("imageResize", "photo-uploads-events"),
        ("imageLabels", "photo-uploads-events"),
    }
    assert {(t.function, t.kind, t.stream_name) for t in template.stream_triggers} == {
        ("orderEtl", "DynamoDB", "orders"),
        ("tractorSensorAnomaly", "Kinesis", "tractor-telemetry"),
    }
    assert all(t.on_failure and t.on_failure.name == "lambda-failed-invocations" for t in template.stream_triggers)
    report = template.function("salesAnalysisReport")
    assert report.async_config.on_failure is not None
    assert report.async_config.on_failure.logical_id == "FailedInvocationsQueue"
    assert {r.function for r in template.routes} == {"statusFanout", "weatherApi"}


def test_local_names_come_from_local_names_then_the_name_property_then_the_logical_id():
    template = parsed(
        NamedTable={"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "literal-name"}},
        PlainQueue={"Type": "AWS::SQS::Queue"},
        OrderedQueue={"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}},
    )
    assert template.names["NamedTable"] == "literal-name"
    assert template.names["PlainQueue"] == "plain-queue"
    assert template.names["OrderedQueue"] == "ordered-queue.fifo"
    assert template.names["UploadsBucket"] == "photo-uploads"  # Metadata.LocalNames: its BucketName is a !Sub
    assert kebab("FIFOQueue") == "fifo-queue" and kebab("S3Bucket2") == "s3-bucket2"


def test_a_computed_name_without_a_local_name_is_refused_by_name():
    data = template_with()
    del data["Metadata"]["LocalNames"]["UploadsBucket"]
    with pytest.raises(TemplateError, match=r"UploadsBucket\.Properties\.BucketName: .*Metadata\.LocalNames"):
        parse(data, ROOT / "functions")


def test_each_trigger_type_becomes_its_typed_object():
    events = {
        "Nightly": {"Type": "Schedule", "Properties": {"Schedule": "rate(5 minutes)"}},
        "Uploaded": {"Type": "S3", "Properties": {"Bucket": {"Ref": "NewBucket"}, "Events": "s3:ObjectCreated:*"}},
        "Told": {"Type": "SNS", "Properties": {"Topic": {"Ref": "NewTopic"}}},
        "Changed": {
            "Type": "DynamoDB",
            "Properties": {"Stream": {"Fn::GetAtt": ["NewTable", "StreamArn"]}, "StartingPosition": "LATEST"},
        },
        "Read": {
            "Type": "Kinesis",
            "Properties": {"Stream": {"Fn::GetAtt": ["NewStream", "Arn"]}, "StartingPosition": "TRIM_HORIZON"},
        },
        "Rest": {"Type": "Api", "Properties": {"Path": "/probe/{id}", "Method": "get"}},
        "Http": {"Type": "HttpApi", "Properties": {"Path": "/probe", "Method": "POST"}},
    }
    template = parsed(
        ProbeFunction=function(events),
        NewBucket={"Type": "AWS::S3::Bucket"},
        NewTopic={"Type": "AWS::SNS::Topic"},
        NewTable={
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"StreamSpecification": {"StreamViewType": "NEW_IMAGE"}},
        },
        NewStream={"Type": "AWS::Kinesis::Stream"},
    )
    (schedule,) = [s for s in template.schedules if s.function == "probe"]
    assert (schedule.rule, schedule.expression) == ("ProbeFunctionNightly", "rate(5 minutes)")
    queues = {t.event.name: t for t in template.queue_triggers if t.function == "probe"}
    assert (queues["Uploaded"].source_name, queues["Told"].source_name) == ("new-bucket", "new-topic")
    assert queues["Uploaded"].queue_name == "lambda-local-probe-Uploaded"
    streams = {t.kind: t for t in template.stream_triggers if t.function == "probe"}
    assert streams["DynamoDB"].stream_name == "new-table" and streams["DynamoDB"].settings.starting_position == "LATEST"
    assert streams["Kinesis"].stream_name == "new-stream" and streams["Kinesis"].on_failure is None
    routes = {(r.kind, r.method, r.path) for r in template.routes if r.function == "probe"}
    assert routes == {("rest", "GET", "/probe/{id}"), ("http", "POST", "/probe")}


@pytest.mark.parametrize(
    ("events", "resources", "message"),
    [
        (
            {"E": {"Type": "SNS", "Properties": {"Topic": {"Ref": "Nope"}}}},
            {},
            r"ProbeFunction\.Properties\.Events\.E\.Properties\.Topic: must be !Ref or !GetAtt",
        ),
        (
            {"E": {"Type": "SNS", "Properties": {"Topic": {"Ref": "OrdersTable"}}}},
            {},
            r"OrdersTable is a AWS::DynamoDB::Table, not a AWS::SNS::Topic",
        ),
        (
            {"E": {"Type": "DynamoDB", "Properties": {"Stream": {"Fn::GetAtt": ["Plain", "StreamArn"]}}}},
            {"Plain": {"Type": "AWS::DynamoDB::Table"}},
            r"Events\.E\.Properties\.Stream: table Plain has no StreamSpecification",
        ),
        (
            {"E": {"Type": "Schedule", "Properties": {"Schedule": "cron(0 20 * * MON *)"}}},
            {},
            r"Events\.E\.Schedule: ",
        ),
        (
            {"E": {"Type": "Api", "Properties": {"Path": "/status", "Method": "POST"}}},
            {},
            r"two events declare POST /status",
        ),
        (
            {
                "E": {
                    "Type": "Kinesis",
                    "Properties": {"Stream": {"Fn::GetAtt": ["TelemetryStream", "Arn"]}, "StartingPosition": "NOW"},
                }
            },
            {},
            r"Events\.E\.Properties\.StartingPosition: must be one of",
        ),
    ],
)
def test_a_bad_trigger_is_one_error_naming_the_resource_and_property(events, resources, message):  # type: ignore[no-untyped-def]
    with pytest.raises(TemplateError, match=message):
        parsed(ProbeFunction=function(events), **resources)


def test_environment_intrinsics_resolve_to_local_values_and_unknown_ones_are_named():
    env = {
        "TABLE": {"Ref": "OrdersTable"},
        "TOPIC": {"Ref": "DealerTopic"},
        "QUEUE_ARN": {"Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]},
        "QUEUE_URL": {"Ref": "FailedInvocationsQueue"},
        "WHERE": {"Fn::Sub": "${AWS::Region}/${OrdersTable}/${OrdersTable.Arn}/${!Literal}"},
        "PREFIX": {"Ref": "DbParameterPrefix"},
        "GONE": {"Ref": "AWS::NoValue"},
    }
    template = parsed(ProbeFunction=function(Environment={"Variables": env}))
    resolved = template.function_env(template.function("probe"), "http://aws:5000")
    table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    expected = {
        "TABLE": "orders",
        "TOPIC": "arn:aws:sns:us-east-1:123456789012:parts-dealer-orders",
        "QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:lambda-failed-invocations",
        "QUEUE_URL": "http://aws:5000/123456789012/lambda-failed-invocations",
        "WHERE": f"us-east-1/orders/{table_arn}/${{Literal}}",
        "PREFIX": "/cafe",
    }
    assert {key: resolved[key] for key in expected} == expected
    assert "GONE" not in resolved and resolved["POWERTOOLS_LOG_LEVEL"] == "INFO"  # Globals apply
    for bad, message in (
        ({"Fn::GetAtt": ["OrdersTable", "StreamArn"]}, r"Variables\.BAD: !GetAtt OrdersTable\.StreamArn has no local"),
        ({"Fn::GetAtt": ["NoSuchThing", "Arn"]}, r"Variables\.BAD: !GetAtt NoSuchThing\.Arn: no such resource"),
        ({"Ref": "Nothing"}, r"Variables\.BAD: !Ref Nothing: no such parameter or resource"),
        ({"Fn::If": ["InDbVpc", "a", "b"]}, r"Variables\.BAD: Fn::If is not evaluated locally"),
    ):
        with pytest.raises(TemplateError, match=message):  # at parse: before anything starts
            parsed(ProbeFunction=function(Environment={"Variables": {"BAD": bad}}))


def test_a_function_needs_its_folder_an_image_and_a_name():
    for props, metadata, message in (
        ({"PackageType": "Zip"}, None, r"ProbeFunction\.Properties\.PackageType: must be Image"),
        ({"FunctionName": {"Ref": "X"}}, None, r"ProbeFunction\.Properties\.FunctionName: "),
        ({}, {"DockerBuildArgs": {"FUNCTION": "nowhere"}}, r"DockerBuildArgs\.FUNCTION: must name a folder"),
        ({}, {"DockerBuildArgs": {"FUNCTION": "weather-api"}, "LocalPort": 3001}, r"LocalPort 3001 is the plane's"),
    ):
        resource = function()
        resource["Properties"] |= props
        if metadata:
            resource["Metadata"] = metadata
        with pytest.raises(TemplateError, match=message):
            parsed(ProbeFunction=resource)


def test_a_function_without_a_local_port_is_served_through_the_invoke_api_only():
    template = parsed(ProbeFunction=function())
    assert template.function("probe").port is None
    assert template.function("probe").timeout_s == 3 and template.function("probe").memory_mb == 128  # SAM's


def test_what_does_not_run_locally_is_a_warning_not_an_error():
    template = parsed(ProbeFunction=function({"Q": {"Type": "MQ", "Properties": {"Broker": "arn"}}}))
    assert any("Events.Q: MQ events are not delivered locally" in w for w in template.warnings)


def test_yaml_errors_name_the_file(tmp_path: Path):
    broken = tmp_path / "template.yaml"
    broken.write_text("Resources: [\n")
    with pytest.raises(TemplateError, match="template.yaml: not valid YAML"):
        load(broken)
    shutil.copy(ROOT / "template.yaml", tmp_path / "copy.yaml")
    with pytest.raises(TemplateError, match="DockerBuildArgs.FUNCTION: must name a folder under functions/"):
        load(tmp_path / "copy.yaml")  # no functions/ beside it


def test_a_rest_apis_binary_media_types_are_read_with_sams_slash_decoded():
    # https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-api.html
    events = {
        "Own": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "FilesApi"}, "Path": "/files", "Method": "POST"}},
        "Implicit": {"Type": "Api", "Properties": {"Path": "/implicit", "Method": "POST"}},
        "Http": {"Type": "HttpApi", "Properties": {"Path": "/http-files", "Method": "POST"}},
    }
    data = template_with(
        ProbeFunction=function(events),
        FilesApi={
            "Type": "AWS::Serverless::Api",
            "Properties": {"StageName": "Prod", "BinaryMediaTypes": ["image~1png", "image~1*", "application/pdf"]},
        },
    )
    data["Globals"]["Api"] = {"BinaryMediaTypes": ["*~1*"]}
    routes = {r.path: r for r in parse(data, ROOT / "functions").routes if r.function == "probe"}
    # SAM adds Globals' lists to the resource's: Globals.Api's first
    assert routes["/files"].binary_media_types == ("*/*", "image/png", "image/*", "application/pdf")
    assert routes["/implicit"].binary_media_types == ("*/*",)  # the implicit API is Globals.Api
    assert routes["/http-files"].binary_media_types == ()  # HTTP APIs have no binary media types
    assert {r.binary_media_types for r in load().routes} == {()}  # the project's APIs declare none


@pytest.mark.parametrize("types", ["image~1png", ["image"], ["image~1png~1x"], [{"Ref": "Types"}]])
def test_a_bad_binary_media_type_is_named(types):  # type: ignore[no-untyped-def]
    events = {"Own": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "FilesApi"}, "Path": "/f", "Method": "GET"}}}
    api = {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "Prod", "BinaryMediaTypes": types}}
    with pytest.raises(TemplateError, match=r"FilesApi\.Properties\.BinaryMediaTypes: "):
        parsed(ProbeFunction=function(events), FilesApi=api)


def test_a_template_value_in_an_error_reads_as_the_template_writes_it() -> None:
    from lambda_local.providers.loader import shown

    assert shown({"Ref": "Topic"}) == "!Ref Topic"
    assert shown({"Fn::GetAtt": ["Queue", "Arn"]}) == "!GetAtt Queue.Arn"
    assert shown({"Fn::Sub": "${A}-x"}) == "!Sub ${A}-x"
    assert shown(["a", {"Ref": "B"}]) == "[a, !Ref B]"
    assert shown({"Key": None, "On": True}) == "{Key: null, On: true}"
    assert shown(" padded") == "' padded'"
