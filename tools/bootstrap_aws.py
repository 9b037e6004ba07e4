"""Create what the functions expect in the AWS account: SSM parameters, the SNS topic with its email
subscription, the daily EventBridge schedule, the image buckets. Idempotent. Runs against moto locally (compose's
`aws-init` service, host mode's `make up`); needs only boto3.

Env: AWS_ENDPOINT_URL, AWS_REGION, TOPIC_ARN, DB_PARAMETER_PREFIX, WAREHOUSE_PARAMETER_PREFIX, DB_URL, MARIADB_DATABASE,
MARIADB_USER, MARIADB_PASSWORD, ADMIN_EMAIL, IMAGE_UPLOAD_BUCKET, IMAGE_DESTINATION_BUCKET,
LABELS_RESULTS_BUCKET, FAILED_INVOCATIONS_QUEUE.
"""

import contextlib
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from lambda_local.template import Template, load  # noqa: E402 - runs as a script from the project root or its image
from tools.gen_weather import observations  # noqa: E402

SCHEDULE_RULE = "salesAnalysisReportDailySchedule"
SCHEDULE = "cron(0 20 ? * MON-SAT *)"
REPORT_FUNCTION = "salesAnalysisReport"
BUCKET_VARIABLES = ("IMAGE_UPLOAD_BUCKET", "IMAGE_DESTINATION_BUCKET", "LABELS_RESULTS_BUCKET")


def _location(region: str) -> dict[str, Any]:
    return {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}


def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"bootstrap_aws: environment variable {name} is not set")
    return value


def bootstrap() -> None:
    prefix = os.environ.get("DB_PARAMETER_PREFIX", "/cafe").rstrip("/")
    topic_arn = _require("TOPIC_ARN")
    region, account = topic_arn.split(":")[3:5]

    ssm = boto3.client("ssm")
    parameters = {
        "dbUrl": ("String", _require("DB_URL")),
        "dbName": ("String", _require("MARIADB_DATABASE")),
        "dbUser": ("String", _require("MARIADB_USER")),
        "dbPassword": ("SecureString", _require("MARIADB_PASSWORD")),
    }
    for name, (kind, value) in parameters.items():
        ssm.put_parameter(Name=f"{prefix}/{name}", Value=value, Type=kind, Overwrite=True)
    # The warehouse is a second database on the same server, loaded by the same user.
    warehouse = os.environ.get("WAREHOUSE_PARAMETER_PREFIX", "/cafe-dw").rstrip("/")
    for name, (kind, value) in (parameters | {"dbName": ("String", "cafe_dw")}).items():
        ssm.put_parameter(Name=f"{warehouse}/{name}", Value=value, Type=kind, Overwrite=True)

    sns = boto3.client("sns")
    created = sns.create_topic(Name=topic_arn.rsplit(":", 1)[1])["TopicArn"]
    if created != topic_arn:
        sys.exit(f"bootstrap_aws: created topic {created} but TOPIC_ARN is {topic_arn}")
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=os.environ.get("ADMIN_EMAIL", "admin@example.com"))

    events = boto3.client("events")
    events.put_rule(Name=SCHEDULE_RULE, ScheduleExpression=SCHEDULE, State="ENABLED")
    function_arn = f"arn:aws:lambda:{region}:{account}:function:{REPORT_FUNCTION}"
    events.put_targets(Rule=SCHEDULE_RULE, Targets=[{"Id": REPORT_FUNCTION, "Arn": function_arn}])
    queue = os.environ.get("FAILED_INVOCATIONS_QUEUE")
    if queue:
        boto3.client("sqs").create_queue(QueueName=queue, Attributes={"MessageRetentionPeriod": "1209600"})
        print(f"bootstrap_aws: on-failure queue {queue}")
    s3 = boto3.client("s3")
    buckets = [os.environ[name] for name in BUCKET_VARIABLES if os.environ.get(name)]
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in buckets:
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket, **_location(region))
    print(f"bootstrap_aws: buckets {', '.join(buckets)}")
    notify_topics(s3, sns)
    created = create_resources(load(), boto3.client)
    print(f"bootstrap_aws: {', '.join(created) or 'tables, streams and queues already there'}")
    publish_weather(s3, region)
    # Created outside the stack in AWS (it holds the FCM / APNs credentials); locally a stand-in key.
    application = os.environ.get("PUSH_APPLICATION_NAME", "status-fanout")
    sns.create_platform_application(Name=application, Platform="GCM", Attributes={"PlatformCredential": "local"})
    print(f"bootstrap_aws: SNS platform application GCM/{application}")
    print(f"bootstrap_aws: parameters under {prefix}/, topic {topic_arn}, schedule {SCHEDULE} -> {REPORT_FUNCTION}")


def notify_topics(s3: object, sns: object) -> None:
    """The template's bucket → topic notifications (UploadsBucket → UploadsTopic), on the local names.

    Queue notifications the local plane adds for S3 triggers are kept."""
    template = load()
    names = template.data.get("Metadata", {}).get("LocalNames", {})
    for logical_id, resource in template.data["Resources"].items():
        if resource.get("Type") != "AWS::S3::Bucket":
            continue
        topics = resource.get("Properties", {}).get("NotificationConfiguration", {}).get("TopicConfigurations", [])
        if not topics:
            continue
        configurations = []
        for entry in topics:
            topic_id = entry["Topic"]["Ref"]
            arn = sns.create_topic(Name=names[topic_id])["TopicArn"]  # type: ignore[attr-defined]
            configurations.append({"TopicArn": arn, "Events": [entry["Event"]]} | _filter(entry))
        bucket = names[logical_id]
        config = s3.get_bucket_notification_configuration(Bucket=bucket)  # type: ignore[attr-defined]
        config.pop("ResponseMetadata", None)
        config["TopicConfigurations"] = configurations
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)  # type: ignore[attr-defined]
        print(f"bootstrap_aws: s3://{bucket} notifies {', '.join(c['TopicArn'] for c in configurations)}")


def create_resources(template: Template, clients: Callable[[str], Any], fresh: bool = False) -> list[str]:
    """The template's DynamoDB tables (with their streams), Kinesis streams, SQS queues and SNS topics,
    under their local names (Metadata.LocalNames); `fresh` deletes tables, streams and queues first.
    Returns what was created."""
    names = template.data.get("Metadata", {}).get("LocalNames", {})
    created = []
    for logical_id, resource in template.data["Resources"].items():
        kind, props = resource.get("Type"), resource.get("Properties", {})
        if kind not in ("AWS::DynamoDB::Table", "AWS::Kinesis::Stream", "AWS::SQS::Queue", "AWS::SNS::Topic"):
            continue
        if logical_id not in names:
            sys.exit(f"bootstrap_aws: Metadata.LocalNames has no local name for {logical_id}")
        name = names[logical_id]
        if kind == "AWS::DynamoDB::Table":
            dynamodb = clients("dynamodb")
            if fresh:
                with contextlib.suppress(dynamodb.exceptions.ResourceNotFoundException):
                    dynamodb.delete_table(TableName=name)
            with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
                stream = props.get("StreamSpecification")
                dynamodb.create_table(
                    TableName=name,
                    KeySchema=props["KeySchema"],
                    AttributeDefinitions=props["AttributeDefinitions"],
                    BillingMode="PAY_PER_REQUEST",
                    **({"StreamSpecification": {"StreamEnabled": True, **stream}} if stream else {}),
                )
                created.append(f"table {name}")
        elif kind == "AWS::Kinesis::Stream":
            kinesis = clients("kinesis")
            if fresh:
                with contextlib.suppress(kinesis.exceptions.ResourceNotFoundException):
                    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
            with contextlib.suppress(kinesis.exceptions.ResourceInUseException):
                kinesis.create_stream(StreamName=name, ShardCount=int(props.get("ShardCount", 1)))
                created.append(f"stream {name}")
        elif kind == "AWS::SNS::Topic":
            clients("sns").create_topic(Name=name)  # idempotent
        else:
            sqs = clients("sqs")
            if fresh:
                with contextlib.suppress(sqs.exceptions.QueueDoesNotExist):
                    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
            attributes = {k: str(v) for k, v in props.items() if k in ("MessageRetentionPeriod", "VisibilityTimeout")}
            sqs.create_queue(QueueName=name, Attributes=attributes)
            created.append(f"queue {name}")
    return created


SITE_TYPES = {".html": "text/html", ".css": "text/css", ".js": "application/javascript", ".json": "application/json"}


def publish_weather(s3: Any, region: str) -> None:
    """The weather page's files and its config.json in the site bucket, and a fresh observations data set
    in the data bucket (what a deployment pipeline does in the account)."""
    names = load().data["Metadata"]["LocalNames"]
    site, data = names["WeatherSiteBucket"], names["WeatherDataBucket"]
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in (site, data):
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket, **_location(region))
    # The template's WeatherSitePolicy: anyone may read the page's objects (a website), nothing else.
    public_read = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{site}/*"}
    s3.put_bucket_policy(Bucket=site, Policy=json.dumps({"Version": "2012-10-17", "Statement": [public_read]}))
    files = sorted((ROOT / "sites" / "weather").iterdir())
    for path in files:
        s3.put_object(Bucket=site, Key=path.name, Body=path.read_bytes(), ContentType=SITE_TYPES[path.suffix])
    api = os.environ.get("WEATHER_API_URL", "http://127.0.0.1:3000")
    s3.put_object(
        Bucket=site, Key="config.json", Body=json.dumps({"apiUrl": api}).encode(), ContentType="application/json"
    )
    key = os.environ.get("WEATHER_DATA_KEY", "observations/latest.json")
    # A second run (compose re-runs aws-init when a service that needs it starts again) keeps the data
    # set that the functions may hold in their caches.
    if _exists(s3, data, key):
        print(f"bootstrap_aws: weather page in s3://{site}/ ({len(files)} files), data set kept")
        return
    document = observations(int(os.environ.get("WEATHER_SEED", "7")), datetime.now(UTC))
    s3.put_object(Bucket=data, Key=key, Body=json.dumps(document).encode(), ContentType="application/json")
    print(f"bootstrap_aws: weather page in s3://{site}/ ({len(files)} files), {len(document['stations'])} stations")


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
            return False
        raise
    return True


def _filter(entry: dict[str, Any]) -> dict[str, Any]:
    return {"Filter": entry["Filter"]} if entry.get("Filter") else {}


if __name__ == "__main__":
    bootstrap()
