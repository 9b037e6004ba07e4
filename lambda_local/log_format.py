"""`LoggingConfig: {LogFormat: JSON}`: the platform's lines as Lambda writes them in JSON format.

The RIE prints the platform's START / END / REPORT lines as text. For a function whose log format is
JSON, Lambda writes them as JSON objects instead (`platform.start`, `platform.report`; the END line
has no JSON form), each at INFO level, so a SystemLogLevel above INFO leaves them out. The function's
own `logging` lines are already JSON: the runtime interface client writes them so, filtered by
ApplicationLogLevel, from the AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL Lambda sets (environment.py).
Everything else a runtime prints is kept as it is."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime

from lambda_local.providers.functions import LOG_LEVELS, LoggingSpec

_START = re.compile(r"START RequestId: (\S+)(?: Version: (\S+))?")
_END = re.compile(r"END RequestId: \S+")
_REPORT = re.compile(r"REPORT RequestId: (\S+)\s*(.*)")
_METRICS = {
    "Duration": "durationMs",
    "Billed Duration": "billedDurationMs",
    "Memory Size": "memorySizeMB",
    "Max Memory Used": "maxMemoryUsedMB",
    "Init Duration": "initDurationMs",
}

Formatter = Callable[[str], str | None]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _metrics(text: str) -> dict[str, float | int]:
    metrics: dict[str, float | int] = {}
    for part in text.split("\t"):
        name, _, value = part.partition(":")
        key = _METRICS.get(name.strip())
        if key is None or not value.strip():
            continue
        number = float(value.strip().split()[0])
        metrics[key] = int(number) if key in ("billedDurationMs", "memorySizeMB", "maxMemoryUsedMB") else number
    return metrics


def platform_json(line: str, system_level: str = "INFO") -> str | None:
    """`line` as Lambda's JSON log format writes it: None when that format writes nothing for it."""
    if LOG_LEVELS.index(system_level) > LOG_LEVELS.index("INFO"):
        platform = bool(_START.match(line) or _END.match(line) or _REPORT.match(line))
        return None if platform else line
    if start := _START.match(line):
        record = {"requestId": start.group(1), "version": start.group(2) or "$LATEST"}
        return json.dumps({"time": _now(), "type": "platform.start", "record": record})
    if _END.match(line):
        return None
    if report := _REPORT.match(line):
        record = {"requestId": report.group(1), "metrics": _metrics(report.group(2)), "status": "success"}
        return json.dumps({"time": _now(), "type": "platform.report", "record": record})
    return line


def formatter(spec: LoggingSpec) -> Formatter | None:
    """What turns a runtime's lines into the function's log format (None: Text, lines as they are)."""
    if not spec.json:
        return None
    level = spec.system_level or "INFO"
    return lambda line: platform_json(line, level)
