"""Events are logged without the credentials they carry (a bearer token in `Authorization`)."""

import io
import json
import logging
from types import SimpleNamespace

import pytest

from shared.log import REDACTED, get_logger, redact

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl"


def test_redact_replaces_credentials_wherever_they_are() -> None:
    event = {
        "headers": {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        "multiValueHeaders": {"authorization": [f"Bearer {TOKEN}"], "Cookie": ["s=1"]},
        "body": f"token was Bearer {TOKEN}",
        "requestContext": {"authorizer": {"claims": {"sub": "u"}}},
    }
    redacted = json.dumps(redact(event))
    assert TOKEN not in redacted and "s=1" not in redacted
    assert redact(event)["headers"]["Content-Type"] == "application/json"
    assert redact(event)["requestContext"] == event["requestContext"]
    assert redact(event)["headers"]["Authorization"] == REDACTED


def test_a_logged_event_carries_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    out = io.StringIO()
    logger = get_logger("redaction-test")
    logger.addHandler(logging.StreamHandler(out))

    @logger.inject_lambda_context
    def handler(event: dict, context: object) -> str:
        return "ok"

    context = SimpleNamespace(
        function_name="f", memory_limit_in_mb=128, invoked_function_arn="arn:f", aws_request_id="r"
    )
    assert handler({"headers": {"authorization": f"Bearer {TOKEN}"}, "path": "/x"}, context) == "ok"
    logger.info("caller sent Bearer %s", TOKEN)
    written = out.getvalue()
    assert "/x" in written and REDACTED in written
    assert TOKEN not in written
