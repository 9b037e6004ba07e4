"""LoggingConfig JSON: the platform's lines as Lambda's JSON log format writes them
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html)."""

import json

import pytest

from lambda_local.environments.log_format import formatter, platform_json
from lambda_local.providers import TemplateError
from lambda_local.providers.functions import LoggingSpec, logging_spec

REPORT = (
    "REPORT RequestId: 1f7a\tInit Duration: 0.02 ms\tDuration: 12.50 ms\tBilled Duration: 13 ms\t"
    "Memory Size: 128 MB\tMax Memory Used: 41 MB\t"
)


def test_start_and_report_become_platform_events_and_end_goes() -> None:
    start = json.loads(platform_json("START RequestId: 1f7a Version: $LATEST") or "")
    assert (start["type"], start["record"]) == ("platform.start", {"requestId": "1f7a", "version": "$LATEST"})
    report = json.loads(platform_json(REPORT) or "")
    assert report["type"] == "platform.report" and report["record"]["status"] == "success"
    assert report["record"]["metrics"] == {
        "initDurationMs": 0.02,
        "durationMs": 12.5,
        "billedDurationMs": 13,
        "memorySizeMB": 128,
        "maxMemoryUsedMB": 41,
    }
    assert report["time"].endswith("Z")
    assert platform_json("END RequestId: 1f7a") is None
    assert platform_json('{"level": "INFO", "message": "hi"}') == '{"level": "INFO", "message": "hi"}'


def test_a_system_level_above_info_leaves_the_platform_lines_out() -> None:
    assert platform_json("START RequestId: 1f7a Version: $LATEST", "WARN") is None
    assert platform_json(REPORT, "ERROR") is None
    assert platform_json("plain print output", "WARN") == "plain print output"


def test_logging_config_is_read_with_lambdas_defaults_and_limits() -> None:
    assert logging_spec(None, "at") == LoggingSpec()
    assert formatter(LoggingSpec())("plain print output") == "plain print output"
    assert logging_spec({"LogFormat": "JSON"}, "at") == LoggingSpec("JSON", "INFO", "INFO")
    assert logging_spec({"LogFormat": "JSON", "SystemLogLevel": "WARN"}, "at").system_level == "WARN"
    with pytest.raises(TemplateError, match="at.LogFormat: must be Text or JSON"):
        logging_spec({"LogFormat": "XML"}, "at")
    with pytest.raises(TemplateError, match="log levels need LogFormat: JSON"):
        logging_spec({"ApplicationLogLevel": "DEBUG"}, "at")
    with pytest.raises(TemplateError, match="ApplicationLogLevel: must be one of"):
        logging_spec({"LogFormat": "JSON", "ApplicationLogLevel": "LOUD"}, "at")


def test_the_emulators_own_lines_are_shown_in_neither_format() -> None:
    """As the RIE prints them; Lambda's log has none of its sandbox's lines (the function's own
    "[ERROR] ..." line stays)."""
    from lambda_local.environments.log_format import emulator_line

    rie = [
        "06 Dec 2026 02:17:30,779 [INFO] (rapid) exec '/usr/bin/python' (cwd=/var/task, handler=app.handler)",
        "06 Dec 2026 02:17:31,133 [INFO] (rapid) INVOKE START(requestId: 8fe12a2c)",
        "06 Dec 2026 02:18:11,865 [WARNING] (rapid) Reset initiated: SandboxTerminated",
        "6 Dec 2026 02:18:11,874 [ERROR] (rapid) Init failed error=Runtime exited",
    ]
    for spec in (LoggingSpec(), LoggingSpec("JSON", "INFO", "INFO")):
        assert [formatter(spec)(line) for line in rie] == [None] * 4
        assert formatter(spec)("[ERROR] InvalidEventError: bad date") == "[ERROR] InvalidEventError: bad date"
    assert not emulator_line("my app says (rapid) things")
