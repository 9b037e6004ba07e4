"""`LoggingConfig: {LogFormat: JSON}`: the platform's lines as Lambda writes them in JSON format.

The RIE prints the platform's START / END / REPORT lines as text. For a function whose log format is
JSON, Lambda writes them as JSON objects instead (`platform.start`, `platform.report`; the END line
has no JSON form), each at INFO level, so a SystemLogLevel above INFO leaves them out. The function's
own `logging` lines are already JSON: the runtime interface client writes them so, filtered by
ApplicationLogLevel, from the AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL Lambda sets (environment.py).

In either format the emulator's own lines (`06 Dec 2026 02:17:31,133 [INFO] (rapid) INVOKE START(...)`,
`[WARNING] (rapid) Reset initiated: ...`) are left out of the log file, `LogType: Tail` and the
console, as Lambda's log shows nothing of its sandbox: the plane still reads them (a crashed runtime's
last lines, supervision.py). Everything else a runtime prints is kept as it is."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime

from lambda_local.providers.functions import LOG_LEVELS, LoggingSpec

_START = re.compile(r"START RequestId: (\S+)(?: Version: (\S+))?")
_END = re.compile(r"END RequestId: \S+")
_REPORT = re.compile(r"REPORT RequestId: (\S+)\s*(.*)")
# The RIE's log line (its "rapid" component): "DD Mon YYYY HH:MM:SS,mmm [LEVEL] (rapid) message".
_EMULATOR = re.compile(r"\d{1,2} \w{3} \d{4} \d{2}:\d{2}:\d{2},\d{3} \[[A-Z]+\] \(rapid\) ")
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
        if key is None:
            continue
        try:
            number = float(value.split()[0])
        except (IndexError, ValueError):  # no figure: a line the function printed that looks like REPORT
            continue
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


def emulator_line(line: str) -> bool:
    """Whether `line` is one the runtime interface emulator printed of itself (not the platform's
    START / END / REPORT, not the function's)."""
    return _EMULATOR.match(line) is not None


def formatter(spec: LoggingSpec) -> Formatter:
    """What turns a runtime's lines into the function's log format: Text keeps them as printed, JSON
    writes the platform's as JSON; neither shows the emulator's own (None)."""
    if not spec.json:
        return lambda line: None if emulator_line(line) else line
    level = spec.system_level or "INFO"
    return lambda line: None if emulator_line(line) else platform_json(line, level)
