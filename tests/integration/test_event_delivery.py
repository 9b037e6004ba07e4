"""The template's triggers delivered by the local plane, with no manual invoke: uploads reach both
image functions (S3 -> SNS -> function), schedules fire, failures end in the on-failure queue."""

import io
import json
import subprocess
import sys
import time
from datetime import date

import pytest
from PIL import Image

import stack
from stack import ROOT, moto
from tests.integration.conftest import TEMPLATE
from tests.support.sns_tap import tap
from tools.imagegen import jpeg, photo, png_with_alpha

pytestmark = pytest.mark.integration
UPLOADS = TEMPLATE.names["UploadsBucket"]
RENDITIONS = TEMPLATE.names["RenditionsBucket"]
LABELS = TEMPLATE.names["LabelsBucket"]
NAMES = ("web", "tablet", "mobile")
RULE = "salesAnalysisReportDailySchedule"


def present(s3, bucket: str, key: str) -> bool:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=key)
    return any(o["Key"] == key for o in listing.get("Contents", []))


def wait_until(condition, timeout: float) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"not within {timeout}s"
        time.sleep(0.1)
    return time.monotonic() - started


def failure_records(sqs, queue: str, wanted, timeout: float = 30) -> list[dict]:
    """On-failure records matching `wanted`, taken off the queue."""
    found, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline and len(found) < 2:
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            record = json.loads(message["Body"])
            if wanted(record):
                found.append(record)
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_uploads_with_awkward_keys_get_renditions_and_labels_without_an_invoke():
    s3 = moto.client("s3")
    stamp = time.time_ns()
    uploads = {
        f"delivery/{stamp}/Café au lait + croissant.jpg": (jpeg(photo(1600, 1200, seed=5)), "image/jpeg"),
        f"delivery/{stamp}/été 2026/logo (final)+v2.png": (png_with_alpha(900, 700), "image/png"),
    }
    for key, (data, content_type) in uploads.items():
        s3.put_object(Bucket=UPLOADS, Key=key, Body=data, ContentType=content_type)
    expected = [(RENDITIONS, f"{name}/{key}") for key in uploads for name in NAMES]
    expected += [(LABELS, f"labels/{key}.json") for key in uploads]
    wait_until(lambda: all(present(s3, bucket, key) for bucket, key in expected), timeout=10)
    for key in uploads:
        web = s3.get_object(Bucket=RENDITIONS, Key=f"web/{key}")
        assert max(Image.open(io.BytesIO(web["Body"].read())).size) <= 1280
        document = json.loads(s3.get_object(Bucket=LABELS, Key=f"labels/{key}.json")["Body"].read())
        assert document["key"] == key and document["bucket"] == UPLOADS
    deliveries = [json.loads(line) for line in stack.read_logs("lambda").splitlines() if '"source": "sns"' in line]
    assert {d["function"] for d in deliveries} >= {"imageResize", "imageLabels"}


def test_the_function_sees_the_event_aws_documents():
    """The event image-labels received, read back from the log Powertools writes when events are logged."""
    s3 = moto.client("s3")
    stamp = time.time_ns()
    key = f"delivery/shape {stamp}/ü+x.jpg"
    s3.put_object(Bucket=UPLOADS, Key=key, Body=jpeg(photo(320, 240)), ContentType="image/jpeg")
    wait_until(lambda: present(s3, LABELS, f"labels/{key}.json"), timeout=10)

    def received() -> dict:
        for line in reversed(stack.read_logs("image-labels").splitlines()):
            if line.startswith("{") and str(stamp) in line and '"Records"' in line:
                message = json.loads(line)["message"]
                if isinstance(message, dict):
                    return message
        raise AssertionError("the event was not logged")

    record = received()["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["EventSubscriptionArn"].startswith("arn:aws:sns:")
    assert record["Sns"]["TopicArn"].endswith(":photo-uploads-events")
    s3_record = json.loads(record["Sns"]["Message"])["Records"][0]
    for field in ("eventVersion", "eventTime", "eventName", "userIdentity", "requestParameters", "responseElements"):
        assert field in s3_record, field
    assert s3_record["eventName"] == "ObjectCreated:Put"
    obj = s3_record["s3"]["object"]
    assert obj["key"] == f"delivery/shape+{stamp}/%C3%BC%2Bx.jpg"  # form-encoded as S3 sends it, `/` kept
    assert {"size", "eTag", "sequencer"} <= obj.keys()
    assert s3_record["s3"]["bucket"]["ownerIdentity"]["principalId"]


def test_make_fire_publishes_the_report_for_the_day_of_at():
    with tap(TEMPLATE.ref("ReportTopic")) as topic:
        result = subprocess.run(
            ["make", "--no-print-directory", "fire", f"RULE={RULE}", "AT=2026-11-20T20:00:00Z"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"{RULE} fired at 2026-11-20T20:00:00Z -> salesAnalysisReport: ok" in result.stdout
        [notification] = topic.messages(expect=1, wait=10) + topic.messages(wait=0.5)
    assert "Date: 2026-11-20" in notification["message"]
    assert date(2026, 11, 20).weekday() == 4  # a Friday: the rule's own days


def test_make_fire_names_an_unknown_rule():
    result = subprocess.run(
        [sys.executable, "-m", "tools.stack", "fire", "noSuchRule"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert f"Rule noSuchRule does not exist (rules: {RULE})" in result.stderr


def test_a_delivery_that_keeps_failing_is_retried_twice_then_lands_on_the_failure_queue():
    sqs, sns = moto.client("sqs"), moto.client("sns")
    queue = sqs.get_queue_url(QueueName=TEMPLATE.names["FailedInvocationsQueue"])["QueueUrl"]
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":photo-uploads-events"))
    marker = f"not an S3 event {time.time_ns()}"
    sns.publish(TopicArn=topic, Message=marker)
    records = failure_records(sqs, queue, lambda r: marker in json.dumps(r.get("requestPayload")))
    assert sorted(r["requestContext"]["functionArn"].split(":")[6] for r in records) == ["imageLabels", "imageResize"]
    for record in records:
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 3
        assert record["requestPayload"]["Records"][0]["Sns"]["Message"] == marker  # the original event
        assert record["responsePayload"]["errorType"] == "InvalidEventError"
    status = subprocess.run([sys.executable, "-m", "tools.stack", "status"], cwd=ROOT, capture_output=True, text=True)
    assert "failed events: 0 in the on-failure queue" in status.stdout  # the test took its records off


def test_a_malformed_message_costs_that_message_only_and_the_next_upload_still_gets_renditions():
    sqs, sns, s3 = moto.client("sqs"), moto.client("sns"), moto.client("s3")
    failures = sqs.get_queue_url(QueueName=TEMPLATE.names["FailedInvocationsQueue"])["QueueUrl"]
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":photo-uploads-events"))
    marker = str(time.time_ns())
    sns.publish(TopicArn=topic, Message=json.dumps({"Records": [{"eventSource": "aws:s3", "s3": 1}], "m": marker}))
    (resize,) = [t for t in TEMPLATE.queue_triggers if t.function == "imageResize"]
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=resize.queue_name)["QueueUrl"], MessageBody="[]")

    key = f"after-poison/{marker}.jpg"
    s3.put_object(Bucket=UPLOADS, Key=key, Body=jpeg(photo(320, 240)), ContentType="image/jpeg")
    wait_until(lambda: all(present(s3, RENDITIONS, f"{name}/{key}") for name in NAMES), timeout=30)
    wait_until(lambda: present(s3, LABELS, f"labels/{key}.json"), timeout=30)

    found: list[dict] = []
    deadline = time.monotonic() + 30
    while len(found) < 3 and time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=failures, WaitTimeSeconds=1, MaxNumberOfMessages=10)
        for message in answer.get("Messages", []):
            record = json.loads(message["Body"])
            payload = json.dumps(record.get("requestPayload"))
            if record["requestContext"]["condition"] == "MalformedEvent" and (marker in payload or payload == "[]"):
                found.append(record)
                sqs.delete_message(QueueUrl=failures, ReceiptHandle=message["ReceiptHandle"])
    functions = sorted(r["requestContext"]["functionArn"].split(":")[6] for r in found)
    assert functions == ["imageLabels", "imageResize", "imageResize"]  # the publish reached both; [] one
    reasons = [r["responseContext"]["reason"] for r in found]
    assert sum("Records[0].s3 must be a JSON object" in reason for reason in reasons) == 2
    assert any("must be a JSON object, got list" in reason for reason in reasons)


def test_with_the_failure_queue_gone_the_record_waits_for_it_and_later_events_still_run():
    from lambda_local.sources.provision import create_resources

    sqs, sns, s3 = moto.client("sqs"), moto.client("sns"), moto.client("s3")
    name = TEMPLATE.names["FailedInvocationsQueue"]
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
    try:
        topic = next(
            t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":photo-uploads-events")
        )
        marker = f"failing while the queue is gone {time.time_ns()}"
        before = destination_failures()
        sns.publish(TopicArn=topic, Message=marker)
        # Three attempts (about 3 s locally), then sends to a queue that does not exist, retried.
        wait_until(lambda: destination_failures() > before, timeout=30)

        key = f"queue-gone/{time.time_ns()}.jpg"  # the functions' workers are not stuck meanwhile
        s3.put_object(Bucket=UPLOADS, Key=key, Body=jpeg(photo(320, 240)), ContentType="image/jpeg")
        wait_until(lambda: all(present(s3, RENDITIONS, f"{n}/{key}") for n in NAMES), timeout=30)
    finally:
        create_resources(TEMPLATE, moto.client)  # the queue back, as the template declares it
    queue = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    records = failure_records(sqs, queue, lambda r: r.get("requestPayload", {}) and marker in json.dumps(r))
    assert sorted(r["requestContext"]["functionArn"].split(":")[6] for r in records) == ["imageLabels", "imageResize"]
    assert all(r["requestContext"]["condition"] == "RetriesExhausted" for r in records)


def destination_failures() -> int:
    """How many times the plane could not send a record to an on-failure destination so far."""
    return sum('"destination failed' in line for line in stack.read_logs("lambda").splitlines())
