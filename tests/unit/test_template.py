"""template.yaml, translated by the SAM transform's own library: least privilege, triggers, resources."""

import re
from typing import Any

import pytest

from lambda_local.providers import ROOT, TemplateError, load, load_yaml, parse
from tests.support.sam import resources_of_type, translated

CFN = translated()
SAM = load_yaml()
FUNCTIONS = load().functions

# Documented exceptions to "no * resource": actions AWS grants only on "*".
STAR_RESOURCE_ACTIONS = {"rekognition:DetectLabels"}
# AWS managed policies SAM attaches: the basic one to every function (CloudWatch Logs; the functions
# log to their own log groups), the VPC one whenever VpcConfig is declared (ENI actions), and the
# stream readers to functions with DynamoDB / Kinesis events (their event source mappings read as the
# function's role; SAM gives no way to scope them to one stream short of a hand-written role),
# X-Ray's write-only policy for `Tracing: Active` (segments carry no resource to scope to), and the
# durable execution policy to functions with DurableConfig (the SDK's checkpoints, and the logs).
MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for role_id, role in resources_of_type(CFN, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            found += [(role_id, s) for s in policy["PolicyDocument"]["Statement"]]
    return found


def references(value: Any) -> set[str]:
    """Logical ids a template value names through Ref, GetAtt or ${...} in Sub."""
    if isinstance(value, dict):
        if "Ref" in value:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {as_list(value["Fn::GetAtt"])[0].split(".")[0]}
        if "Fn::Sub" in value:
            text = as_list(value["Fn::Sub"])[0]
            return {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text) if not name.startswith("AWS::")}
        return set().union(*(references(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(references(v) for v in value)) if value else set()
    return set()


def test_every_function_is_an_image_with_its_build_and_log_group():
    folders = {p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file()}
    assert {fn.directory for fn in FUNCTIONS} == folders
    lambdas = resources_of_type(CFN, "AWS::Lambda::Function")
    for fn in FUNCTIONS:
        props = lambdas[fn.logical_id]["Properties"]
        assert props["PackageType"] == "Image"
        assert props["Code"] == {"ImageUri": {"Ref": f"{fn.logical_id.removesuffix('Function')}ImageUri"}}
        assert fn.metadata["DockerContext"] == "."
        assert fn.dockerfile == "images/lambda-python.Dockerfile"
        assert fn.build_args.keys() == {"FUNCTION", "AWS_SERVICES"} and fn.build_args["FUNCTION"] == fn.directory
        assert props["Architectures"] == ["x86_64"]
        assert props["LoggingConfig"]["LogGroup"] == {"Ref": f"{fn.logical_id.removesuffix('Function')}LogGroup"}
        log_group = CFN["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
        assert log_group["LogGroupName"] == f"/aws/lambda/{fn.lambda_name}"
        assert log_group["RetentionInDays"] == {"Ref": "LogRetentionInDays"}


def test_no_role_grants_a_wildcard_action_or_an_undocumented_wildcard_resource():
    found = statements()
    assert len(found) >= 10
    for role_id, statement in found:
        assert statement["Effect"] == "Allow"
        actions = as_list(statement["Action"])
        for action in actions:
            assert "*" not in action, f"{role_id}: wildcard action {action}"
        if "*" in as_list(statement["Resource"]):
            assert set(actions) <= STAR_RESOURCE_ACTIONS, f"{role_id}: {actions} on *"
    for role_id, role in resources_of_type(CFN, "AWS::IAM::Role").items():
        assert set(role["Properties"]["ManagedPolicyArns"]) <= MANAGED_POLICIES, role_id


def test_each_function_gets_exactly_the_permissions_its_code_uses():
    """The café's functions, each read against its code; a function added later is held to the
    general rules above (no wildcard, its botocore models equal to its policies)."""
    by_role: dict[str, set[str]] = {}
    for role_id, statement in statements():
        by_role.setdefault(role_id.removesuffix("Role"), set()).update(as_list(statement["Action"]))
    expected = {
        "SalesDataExtractorFunction": {"ssm:GetParameters", "kms:Decrypt"},
        "SalesReportFunction": {"lambda:InvokeFunction", "sns:Publish", "sqs:SendMessage"},
        "ImageResizeFunction": {"s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:DeleteObject", "sqs:SendMessage"},
        "ImageLabelsFunction": {
            "s3:GetObject",
            "s3:ListBucket",
            "s3:PutObject",
            "rekognition:DetectLabels",
            "sqs:SendMessage",
        },
        "OrderEtlFunction": {"ssm:GetParameters", "kms:Decrypt", "sqs:SendMessage"},
        "SensorAnomalyFunction": {"dynamodb:GetItem", "dynamodb:PutItem", "lambda:InvokeFunction", "sqs:SendMessage"},
        "PartsOrderFunction": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "sns:Publish"},
        "WeatherApiFunction": {"s3:GetObject", "s3:ListBucket"},
        "StatusFanoutFunction": {"dynamodb:PutItem", "dynamodb:Query", "dynamodb:BatchGetItem", "sns:Publish"},
    }
    assert {role: by_role.get(role) for role in expected} == expected
    invoke = [s for _, s in statements() if s["Action"] == "lambda:InvokeFunction"]
    assert [s["Resource"] for s in invoke] == [
        {"Fn::GetAtt": ["SalesDataExtractorFunction", "Arn"]},
        {"Fn::Sub": "${PartsOrderFunction.Arn}:*"},  # a durable function: invoked by a qualified ARN
    ]
    publish = [s for _, s in statements() if s["Action"] == "sns:Publish"]
    topics = [{"Ref": "ReportTopic"}, {"Ref": "DealerTopic"}, {"Ref": "PartsEscalationTopic"}]
    assert [s["Resource"] for s in publish][:3] == topics
    endpoints = "endpoint/${PushPlatform}/${PushApplicationName}/*"
    push = {"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:" + endpoints}
    assert [s["Resource"] for s in publish][3:] == [push]  # the application's endpoints, no topic
    for _, decrypt in (found for found in statements() if found[1]["Action"] == "kms:Decrypt"):
        assert "kms:ViaService" in decrypt["Condition"]["StringEquals"]


def test_each_image_keeps_the_botocore_models_of_exactly_the_services_its_policies_allow():
    for fn in FUNCTIONS:
        policies = SAM["Resources"][fn.logical_id]["Properties"]["Policies"]
        actions = [a for policy in policies for statement in policy["Statement"] for a in as_list(statement["Action"])]
        allowed = {action.split(":")[0] for action in actions}
        if fn.durable is not None:  # the SDK's checkpoints: Lambda's API (SAM's durable execution policy)
            allowed.add("lambda")
        kept = fn.build_args["AWS_SERVICES"].split()
        assert kept == sorted(allowed), f"{fn.directory}: AWS_SERVICES should be {' '.join(sorted(allowed))}"


def test_every_environment_value_that_names_a_resource_names_one_of_this_stack():
    names = set(SAM["Resources"]) | set(SAM["Parameters"])
    named = 0
    for fn in FUNCTIONS:
        for key, value in fn.environment.items():
            refs = references(value)
            named += bool(refs)
            assert refs <= names, f"{fn.lambda_name}.{key} names {refs - names}"
            assert isinstance(value, str) or refs, f"{fn.lambda_name}.{key}: {value}"
    assert named >= 7


def test_the_report_runs_on_the_daily_schedule_and_the_extractor_on_no_trigger():
    rules = resources_of_type(CFN, "AWS::Events::Rule")
    assert len(rules) == 1
    (rule,) = rules.values()
    assert rule["Properties"]["ScheduleExpression"] == "cron(0 20 ? * MON-SAT *)"
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": ["SalesReportFunction", "Arn"]}
    assert load().function("salesAnalysisReportDataExtractor").events == ()


def test_uploads_reach_both_image_functions_through_the_topic_with_permissions():
    uploads = CFN["Resources"]["UploadsBucket"]["Properties"]
    assert uploads["NotificationConfiguration"]["TopicConfigurations"] == [
        {"Event": "s3:ObjectCreated:*", "Topic": {"Ref": "UploadsTopic"}}
    ]
    subscriptions = resources_of_type(CFN, "AWS::SNS::Subscription")
    assert sorted(s["Properties"]["Endpoint"]["Fn::GetAtt"][0] for s in subscriptions.values()) == [
        "ImageLabelsFunction",
        "ImageResizeFunction",
    ]
    assert all(s["Properties"]["TopicArn"] == {"Ref": "UploadsTopic"} for s in subscriptions.values())
    permissions = resources_of_type(CFN, "AWS::Lambda::Permission")
    sns_permissions = {
        p["Properties"]["FunctionName"]["Ref"]
        for p in permissions.values()
        if p["Properties"]["Principal"] == "sns.amazonaws.com"
    }
    assert sns_permissions == {"ImageResizeFunction", "ImageLabelsFunction"}
    policy = CFN["Resources"]["UploadsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Principal"] == {"Service": "s3.amazonaws.com"}
    assert "UploadsTopicPolicy" in as_list(CFN["Resources"]["UploadsBucket"]["DependsOn"])


def test_buckets_are_private_encrypted_and_renditions_are_not_the_uploads():
    buckets = resources_of_type(CFN, "AWS::S3::Bucket")
    site = "WeatherSiteBucket"
    assert set(buckets) == {"UploadsBucket", "RenditionsBucket", "LabelsBucket", "WeatherDataBucket", site}
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        blocks = props["PublicAccessBlockConfiguration"]
        if logical_id == site:  # a website: public through its bucket policy only, never through ACLs
            assert blocks["BlockPublicAcls"] and blocks["IgnorePublicAcls"]
        else:
            assert set(blocks.values()) == {True}
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    policies = resources_of_type(CFN, "AWS::S3::BucketPolicy")
    assert [p["Properties"]["Bucket"] for p in policies.values()] == [{"Ref": site}]
    [public] = next(iter(policies.values()))["Properties"]["PolicyDocument"]["Statement"]
    assert public["Action"] == "s3:GetObject" and public["Principal"] == "*"
    resize = load().function("imageResize")
    assert resize.environment["IMAGE_DESTINATION_BUCKET"] == {"Ref": "RenditionsBucket"}


def test_stream_mappings_report_item_failures_bisect_and_end_in_the_failure_queue():
    mappings = resources_of_type(CFN, "AWS::Lambda::EventSourceMapping")
    assert {m["Properties"]["FunctionName"]["Ref"] for m in mappings.values()} == {
        "OrderEtlFunction",
        "SensorAnomalyFunction",
    }
    for mapping in mappings.values():
        props = mapping["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert 0 <= props["MaximumRetryAttempts"] <= 10  # a poison record never blocks its shard for long
        assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]
        }


def test_asynchronous_functions_retry_twice_then_go_to_the_failure_queue():
    configs = resources_of_type(CFN, "AWS::Lambda::EventInvokeConfig")
    assert {c["Properties"]["FunctionName"]["Ref"] for c in configs.values()} == {
        "SalesReportFunction",
        "ImageResizeFunction",
        "ImageLabelsFunction",
    }
    for config in configs.values():
        props = config["Properties"]
        assert props["MaximumRetryAttempts"] == 2
        assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]
        }


def test_the_database_stays_outside_and_the_db_function_can_join_its_vpc():
    assert not resources_of_type(CFN, "AWS::RDS::DBInstance")
    extractor = CFN["Resources"]["SalesDataExtractorFunction"]["Properties"]
    assert extractor["VpcConfig"]["Fn::If"][0] == "InDbVpc"
    assert SAM["Parameters"]["SubnetIds"]["Default"] == ""


def test_the_reader_names_what_is_missing():
    data = load_yaml()
    broken = {"Resources": {"F": {**data["Resources"]["SalesReportFunction"], "Metadata": {}}}}
    with pytest.raises(TemplateError, match="DockerBuildArgs.FUNCTION"):
        parse(broken)
    with pytest.raises(TemplateError, match="unknown function 'nope'"):
        load().function("nope")


def test_every_function_is_traced_by_lambda_itself():
    for logical_id, function in resources_of_type(CFN, "AWS::Lambda::Function").items():
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}, logical_id
