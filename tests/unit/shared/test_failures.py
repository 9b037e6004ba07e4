"""Which errors are transient (fail the invocation for Lambda's retry) and which are permanent."""

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)

from shared.errors import preview
from shared.failures import is_transient
from shared.s3_events import S3_KEY_LIMIT, S3ObjectRef, derived_key_problem, read_failure


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    "exc",
    [
        client_error("SlowDown", 503),
        client_error("ThrottlingException", 400),
        client_error("ProvisionedThroughputExceededException", 400),
        client_error("InternalError", 500),
        client_error("Anything", 502),
        client_error("TooManyRequestsException", 429),
        EndpointConnectionError(endpoint_url="http://x"),
        ConnectTimeoutError(endpoint_url="http://x"),
        ReadTimeoutError(endpoint_url="http://x"),
    ],
)
def test_throttling_5xx_timeouts_and_unreachable_endpoints_are_transient(exc):
    assert is_transient(exc)
    assert read_failure(exc, S3ObjectRef("b", "k")) is None  # so the handler re-raises it


@pytest.mark.parametrize(
    "exc",
    [
        client_error("NoSuchKey", 404),
        client_error("AccessDenied", 403),
        client_error("InvalidImageFormatException", 400),
        ParamValidationError(report="Invalid bucket name"),
        ValueError("x"),
    ],
)
def test_not_found_access_and_bad_input_are_not_transient(exc):
    assert not is_transient(exc)


def test_read_failures_name_the_reason():
    ref = S3ObjectRef("b", "k")
    assert (
        str(read_failure(client_error("NoSuchKey", 404), ref)) == "object no longer exists (deleted before processing)"
    )
    assert str(read_failure(client_error("NoSuchBucket", 404), ref)) == "bucket b does not exist"
    assert str(read_failure(client_error("AccessDenied", 403), ref)) == "cannot read object: AccessDenied m"
    assert "invalid bucket name" in str(read_failure(ParamValidationError(report="Invalid bucket name 'x y'"), ref))


def test_output_keys_over_the_s3_limit_are_named():
    assert derived_key_problem("k" * 1000, "web/" + "k" * 1000) is None
    problem = derived_key_problem("é" * 509, "tablet/" + "é" * 509)  # 1018 bytes of UTF-8
    assert (
        problem == f"key is 1,018 bytes: its output key would be 1,025 bytes, over S3's {S3_KEY_LIMIT}-byte key limit"
    )


def test_preview_cuts_long_inputs_and_says_how_long_they_were():
    assert preview("2026-01-01") == "'2026-01-01'"
    cut = preview("x" * 100_000)
    assert len(cut) < 70 and cut.endswith("(100,002 chars)")
