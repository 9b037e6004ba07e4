"""Failures handled the way Lambda handles them: permanent ones per record, transient ones fail the
invocation (so Lambda retries it) and leave nothing partial; typed, short, detail-free errors."""

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

import stack
from shared.errors import DownstreamFunctionError
from shared.s3_events import MISSING_REASON
from stack import moto
from tests.integration.conftest import DB_ENV, TEMPLATE, db_connect
from tests.integration.test_images import rendition_keys
from tests.support.handlers import REKOGNITION_THROTTLED, S3_SLOW_DOWN, fail_requests, load
from tools.imagegen import jpeg, photo, s3_event

pytestmark = pytest.mark.integration
# A source bucket without notifications: an upload to the real one also reaches both functions through
# the plane, which would race with the invocations these tests make themselves.
UPLOADS = "failures-quiet-source"
RENDITIONS = TEMPLATE.names["RenditionsBucket"]
LABELS = TEMPLATE.names["LabelsBucket"]
NAMES = ("web", "tablet", "mobile")
UNREACHABLE = "http://127.0.0.1:9"  # discard port: nothing listens
FEW_ATTEMPTS = {"AWS_MAX_ATTEMPTS": "2"}


@pytest.fixture(scope="module")
def s3():
    client = moto.client("s3")
    client.create_bucket(Bucket=UPLOADS)
    return client


def upload_photo(s3, key: str) -> None:
    s3.put_object(Bucket=UPLOADS, Key=key, Body=jpeg(photo(1600, 1200, seed=7)), ContentType="image/jpeg")


def test_a_throttled_rendition_write_removes_what_was_written_and_fails_the_invocation(s3, monkeypatch):
    key = "failures/throttled.jpg"
    upload_photo(s3, key)
    resize = load("image-resize", monkeypatch, FEW_ATTEMPTS)
    s3_client = resize.module.client("s3")
    with (
        fail_requests(s3_client, "PutObject", 503, S3_SLOW_DOWN, when=lambda r: "/tablet/" in r.url) as failed,
        pytest.raises(ClientError) as raised,
    ):
        resize(s3_event(UPLOADS, [key]))
    assert raised.value.response["Error"]["Code"] == "SlowDown"
    assert len(failed) == 2, "botocore's own retry saw the fault too"
    # web was written before tablet failed: the clean-up removed it, so no object is half-done.
    assert rendition_keys(s3, key) == []
    records = resize.log_records()
    failure = next(r for r in records if str(r["message"]).startswith("rendition attempt failed"))
    assert failure["level"] == "ERROR" and "SlowDown" in failure["exception"] and failure["key"] == key
    # Lambda's retry of the same event succeeds once the fault is gone.
    result = resize(s3_event(UPLOADS, [key]))
    assert [r["key"] for r in result["processed"]] == [key]
    assert sorted(rendition_keys(s3, key)) == sorted(f"{name}/{key}" for name in NAMES)


def test_with_s3_unreachable_the_resize_fails_with_the_real_cause(s3, monkeypatch):
    key = "failures/unreachable.jpg"
    upload_photo(s3, key)
    resize = load("image-resize", monkeypatch, {"AWS_ENDPOINT_URL": UNREACHABLE, **FEW_ATTEMPTS})
    with pytest.raises(EndpointConnectionError):
        resize(s3_event(UPLOADS, [key]))
    messages = [str(r["message"]) for r in resize.log_records()]
    assert "rendition attempt failed; failing the invocation for a retry" in messages
    assert "could not remove the renditions of a failed object" in messages


def test_labels_go_on_after_a_bad_record_and_fail_on_throttling(s3, monkeypatch):
    good = "failures/labelled.jpg"
    upload_photo(s3, good)
    event = s3_event(UPLOADS, ["failures/x.jpg"])
    event["Records"] = [
        s3_event("Not A Valid Bucket!", ["a.jpg"])["Records"][0],
        s3_event("no-such-bucket-for-labels", ["a.jpg"])["Records"][0],
        s3_event(UPLOADS, ["failures/never-uploaded.jpg"])["Records"][0],
        s3_event(UPLOADS, [good])["Records"][0],
    ]
    labels = load("image-labels", monkeypatch, FEW_ATTEMPTS)
    result = labels(event)
    assert [image["key"] for image in result["images"]] == [good]
    reasons = [f["reason"] for f in result["failed"]]
    assert reasons[0].startswith("invalid bucket name or key")
    assert reasons[1] == "bucket no-such-bucket-for-labels does not exist"
    assert reasons[2] == MISSING_REASON

    rekognition = labels.module.client("rekognition")
    with (
        fail_requests(rekognition, "DetectLabels", 400, REKOGNITION_THROTTLED),
        pytest.raises(ClientError) as raised,
    ):
        labels(s3_event(UPLOADS, [good]))
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert any(str(r["message"]).startswith("labels attempt failed") for r in labels.log_records())


def test_a_missing_bucket_is_named_as_such_through_the_runtime(invoke):
    result = invoke("image-resize", s3_event("no-such-bucket-for-resize", ["a.jpg"]))
    assert result["failed"][0]["reason"] == "bucket no-such-bucket-for-resize does not exist"


def test_keys_too_long_for_their_output_prefix_are_refused_and_nothing_is_written(s3, invoke):
    # 1018 bytes: `web/` fits in S3's 1024, `tablet/` and `mobile/` do not; 1013 + `labels/`…`.json` = 1025.
    # A key of this run's own keeps earlier runs' outputs out of the way.
    stamp = f"failures/{time.time_ns()}-"
    for size, function, output in ((1018, "image-resize", "tablet/"), (1013, "image-labels", "labels/")):
        key = stamp + "k" * (size - len(stamp) - 4) + ".jpg"
        assert len(key.encode()) == size
        upload_photo(s3, key)
        result = invoke(function, s3_event(UPLOADS, [key]))
        assert len(result["failed"]) == 1, result
        assert "over S3's 1024-byte key limit" in result["failed"][0]["reason"]
        bucket = RENDITIONS if function == "image-resize" else LABELS
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=output + stamp)
        assert listing.get("KeyCount", 0) == 0
        if function == "image-resize":
            assert rendition_keys(s3, key) == []  # not even `web/`, which would have fitted


@pytest.mark.parametrize("function", ["sales-data-extractor", "sales-report"])
@pytest.mark.parametrize(
    "event", [{"date": "9999-12-31"}, {"time": "9999-12-31T23:00:00-14:00"}, {"time": "0001-01-01T00:00:00+14:00"}]
)
def test_out_of_range_days_are_invalid_events(invoke, function, event):
    result = invoke(function, event)
    assert result["errorType"] == "InvalidEventError", result
    assert "out of range" in result["errorMessage"]


def test_errors_quote_only_a_short_prefix_of_a_huge_input(invoke):
    result = invoke("sales-data-extractor", {"date": "2" * 100_000})
    assert result["errorType"] == "InvalidEventError"
    assert len(result["errorMessage"]) < 200 and "100,002 chars" in result["errorMessage"]


@pytest.mark.parametrize("log_event", [None, "true"])
def test_events_are_logged_only_when_powertools_logger_log_event_is_set(monkeypatch, log_event):
    marker = f"marker-{secrets.token_hex(4)}"
    overrides = {"POWERTOOLS_LOGGER_LOG_EVENT": log_event} if log_event else {}
    report = load("sales-report", monkeypatch, overrides, unset=() if log_event else ("POWERTOOLS_LOGGER_LOG_EVENT",))
    with pytest.raises(Exception, match="event.date"):
        report({"date": marker})
    assert (marker in report.log.getvalue()) == bool(log_event)


def test_the_report_names_an_unreachable_extractor_as_a_downstream_failure(monkeypatch):
    report = load("sales-report", monkeypatch, {"AWS_ENDPOINT_URL_LAMBDA": UNREACHABLE})
    with pytest.raises(DownstreamFunctionError, match="could not be invoked: EndpointConnectionError"):
        report({"date": "2026-11-20"})


@contextmanager
def rotated_password() -> Iterator[str]:
    """The application user's password changed in MariaDB and in Parameter Store, restored afterwards."""
    ssm, name = moto.client("ssm"), f"{TEMPLATE.parameter('DbParameterPrefix')}/dbPassword"
    old = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    new = secrets.token_urlsafe(16)

    def set_password(value: str, current: str) -> None:
        conn = stack.db_connection(autocommit=True, password=current)
        with conn.cursor() as cur:
            cur.execute("SET PASSWORD = PASSWORD(%s)", (value,))
            # Drop the extractor's warm connection, as a server restart or an idle timeout would.
            cur.execute(
                "SELECT id FROM information_schema.processlist WHERE user = %s AND id <> CONNECTION_ID()",
                (DB_ENV["MARIADB_USER"],),
            )
            for (thread,) in cur.fetchall():
                cur.execute("KILL %s", (thread,))
        conn.close()
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)

    set_password(new, old)
    try:
        yield new
    finally:
        set_password(old, new)


def test_a_warm_extractor_picks_up_a_rotated_password_at_once(invoke):
    assert invoke("sales-data-extractor", {"date": "2026-11-20"})["statusCode"] == 200  # warm, settings cached
    with rotated_password() as new:
        result = invoke("sales-data-extractor", {"date": "2026-11-20"})
        assert result.get("statusCode") == 200, result
        log = stack.read_logs("sales-data-extractor")
        assert "re-reading them from Parameter Store" in log
        assert new not in log and new not in json.dumps(result)
    db_connect().close()  # the suite's own credentials work again
