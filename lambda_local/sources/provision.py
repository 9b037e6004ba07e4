"""Every resource the template declares, created on the local AWS endpoint under its local name:
what CloudFormation does in the account. Idempotent (a second run keeps what exists).

Created: SQS queues (dead-letter queues first), SNS topics with their subscriptions, DynamoDB tables
(streams, indexes, TTL), Kinesis streams, S3 buckets (website, notifications to topics and queues),
bucket policies, and the EventBridge rules of `Schedule` events (the plane fires them; the rules make
them visible to `aws events list-rules`). Functions are served by the plane, not created here; what
the local endpoint cannot hold (IAM roles, log groups, APIs, user pools) is left out.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from lambda_local.providers import LOCAL_ACCOUNT, LocalResource, QueueTrigger, Template

Clients = Callable[[str], Any]
Progress = Callable[[str], None]
QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "RedrivePolicy",
)
TYPES = (
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::DynamoDB::Table",
    "AWS::Kinesis::Stream",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
)


def _quiet(_line: str) -> None:
    pass


class Provisioner:
    def __init__(self, template: Template, clients: Clients, region: str, progress: Progress = _quiet) -> None:
        self.template = template
        self.clients = clients
        self.region = region
        self.progress = progress
        self.resolver = template.resolver(region=region)

    def resolve(self, resource: LocalResource, prop: str, value: Any) -> Any:
        return self.resolver.resolve(value, f"{self.template.file}: {resource.logical_id}.Properties.{prop}")

    def queue(self, r: LocalResource, fresh: bool) -> str:
        sqs = self.clients("sqs")
        if fresh:
            with contextlib.suppress(sqs.exceptions.QueueDoesNotExist):
                sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=r.name)["QueueUrl"])
        attributes = {}
        for key in QUEUE_ATTRIBUTES:
            if key in r.properties:
                value = self.resolve(r, key, r.properties[key])
                attributes[key] = (
                    json.dumps(value)
                    if isinstance(value, dict)
                    else str(value).lower()
                    if isinstance(value, bool)
                    else str(value)
                )
        sqs.create_queue(QueueName=r.name, Attributes=attributes)
        return f"queue {r.name}"

    def topic(self, r: LocalResource, _fresh: bool) -> str:
        sns = self.clients("sns")
        attributes = {"FifoTopic": "true"} if r.properties.get("FifoTopic") else {}
        arn = sns.create_topic(Name=r.name, Attributes=attributes)["TopicArn"]
        for index, subscription in enumerate(r.properties.get("Subscription") or []):
            endpoint = self.resolve(r, f"Subscription.{index}.Endpoint", subscription.get("Endpoint"))
            sns.subscribe(TopicArn=arn, Protocol=str(subscription.get("Protocol")), Endpoint=str(endpoint))
        return f"topic {r.name}"

    def table(self, r: LocalResource, fresh: bool) -> str:
        dynamodb = self.clients("dynamodb")
        if fresh:
            with contextlib.suppress(dynamodb.exceptions.ResourceNotFoundException):
                dynamodb.delete_table(TableName=r.name)
        props = r.properties
        extra: dict[str, Any] = {}
        if props.get("StreamSpecification"):
            extra["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(key):
                extra[key] = [{k: v for k, v in i.items() if k != "ProvisionedThroughput"} for i in props[key]]
        try:
            dynamodb.create_table(
                TableName=r.name,
                KeySchema=props["KeySchema"],
                AttributeDefinitions=props["AttributeDefinitions"],
                BillingMode="PAY_PER_REQUEST",
                **extra,
            )
        except dynamodb.exceptions.ResourceInUseException:
            return ""
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=r.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )
        return f"table {r.name}"

    def stream(self, r: LocalResource, fresh: bool) -> str:
        kinesis = self.clients("kinesis")
        if fresh:
            with contextlib.suppress(kinesis.exceptions.ResourceNotFoundException):
                kinesis.delete_stream(StreamName=r.name, EnforceConsumerDeletion=True)
        try:
            kinesis.create_stream(StreamName=r.name, ShardCount=int(r.properties.get("ShardCount", 1)))
        except kinesis.exceptions.ResourceInUseException:
            return ""
        return f"stream {r.name}"

    def bucket(self, r: LocalResource, _fresh: bool) -> str:
        s3 = self.clients("s3")
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        made = r.name not in existing
        if made:
            location = {} if self.region == "us-east-1" else {"LocationConstraint": self.region}
            s3.create_bucket(Bucket=r.name, **({"CreateBucketConfiguration": location} if location else {}))
        website = r.properties.get("WebsiteConfiguration")
        if website:
            configuration: dict[str, Any] = {"IndexDocument": {"Suffix": website.get("IndexDocument", "index.html")}}
            if website.get("ErrorDocument"):
                configuration["ErrorDocument"] = {"Key": website["ErrorDocument"]}
            s3.put_bucket_website(Bucket=r.name, WebsiteConfiguration=configuration)
        self.notifications(r)
        return f"bucket {r.name}" if made else ""

    def notifications(self, r: LocalResource) -> None:
        """The bucket's declared topic and queue notifications; those the plane added for S3 triggers stay."""
        declared = r.properties.get("NotificationConfiguration") or {}
        if not declared.get("TopicConfigurations") and not declared.get("QueueConfigurations"):
            return
        s3 = self.clients("s3")
        config = s3.get_bucket_notification_configuration(Bucket=r.name)
        config.pop("ResponseMetadata", None)
        for key, target, arn_key in (
            ("TopicConfigurations", "Topic", "TopicArn"),
            ("QueueConfigurations", "Queue", "QueueArn"),
        ):
            kept = [c for c in config.get(key, []) if str(c.get("Id", "")).startswith("lambda-local-")]
            entries = []
            for index, entry in enumerate(declared.get(key) or []):
                arn = self.resolve(r, f"NotificationConfiguration.{key}.{index}.{target}", entry[target])
                item: dict[str, Any] = {arn_key: arn, "Events": [entry["Event"]]}
                if entry.get("Filter"):
                    item["Filter"] = entry["Filter"]
                entries.append(item)
            if entries or kept:
                config[key] = kept + entries
        s3.put_bucket_notification_configuration(Bucket=r.name, NotificationConfiguration=config)
        self.progress(f"s3://{r.name} notifies {len(declared.get('TopicConfigurations') or [])} topic(s)")

    def bucket_policy(self, r: LocalResource, _fresh: bool) -> str:
        bucket = self.resolve(r, "Bucket", r.properties.get("Bucket"))
        document = self.resolve(r, "PolicyDocument", r.properties.get("PolicyDocument"))
        self.clients("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(document))
        return ""

    def schedules(self) -> list[str]:
        events = self.clients("events")
        made = []
        for schedule in self.template.schedules:
            events.put_rule(
                Name=schedule.rule,
                ScheduleExpression=schedule.expression,
                State="ENABLED" if schedule.enabled else "DISABLED",
            )
            arn = f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT}:function:{schedule.function}"
            events.put_targets(Rule=schedule.rule, Targets=[{"Id": schedule.function, "Arn": arn}])
            made.append(f"rule {schedule.rule}")
        return made

    def run(self, fresh: bool = False) -> list[str]:
        steps: dict[str, Callable[[LocalResource, bool], str]] = {
            "AWS::SQS::Queue": self.queue,
            "AWS::SNS::Topic": self.topic,
            "AWS::DynamoDB::Table": self.table,
            "AWS::Kinesis::Stream": self.stream,
            "AWS::S3::Bucket": self.bucket,
            "AWS::S3::BucketPolicy": self.bucket_policy,
        }
        resources = self.template.local_resources(*TYPES)
        # Dead-letter queues before the queues that name them; topics and queues before the buckets
        # that notify them; buckets before their policies.
        resources.sort(key=lambda r: (TYPES.index(r.type), "RedrivePolicy" in r.properties))
        created = []
        for resource in resources:
            if made := steps[resource.type](resource, fresh):
                created.append(made)
                self.progress(made)
        return created + self.schedules()


def create_resources(
    template: Template, clients: Clients, fresh: bool = False, region: str = "us-east-1", progress: Progress = _quiet
) -> list[str]:
    """Create the template's resources on the local endpoint (`fresh`: delete queues, tables and
    streams first); returns what was created."""
    return Provisioner(template, clients, region, progress).run(fresh)


def connect_trigger(trigger: QueueTrigger, clients: Clients, visibility_s: int) -> tuple[str, str]:
    """An SNS or S3 trigger's own queue, made, and its topic or bucket pointed at it (idempotent): what
    Lambda's subscription or notification is, locally delivered through a queue so that nothing is lost
    while the plane is away. Returns the queue's URL and the SNS subscription's ARN ("" for S3)."""
    sqs = clients("sqs")
    url = sqs.create_queue(QueueName=trigger.queue_name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(visibility_s)})
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    props = trigger.event.properties
    if trigger.event.type == "SNS":
        sns = clients("sns")
        topic = sns.create_topic(Name=trigger.source_name)["TopicArn"]
        attributes = {}
        if props.get("FilterPolicy"):
            attributes["FilterPolicy"] = json.dumps(props["FilterPolicy"])
            attributes["FilterPolicyScope"] = props.get("FilterPolicyScope", "MessageAttributes")
        subscribed = sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes, ReturnSubscriptionArn=True
        )
        return url, str(subscribed["SubscriptionArn"])
    s3 = clients("s3")
    bucket = trigger.source_name
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    config.pop("ResponseMetadata", None)
    entries = [q for q in config.get("QueueConfigurations", []) if q.get("Id") != trigger.queue_name]
    events = props.get("Events", [])
    entry: dict[str, Any] = {
        "Id": trigger.queue_name,
        "QueueArn": arn,
        "Events": events if isinstance(events, list) else [events],
    }
    if props.get("Filter"):
        entry["Filter"] = props["Filter"]
    config["QueueConfigurations"] = [*entries, entry]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    return url, ""
