"""AWS's conformance requirements (requirements/<suite>/<id>.yaml, from aws-durable-execution-conformance-tests)
read and checked by this project's own code, with the rules the package's README and validator state:

- `Variables` are bound first (`${GEN_STR:N}`: N random lowercase letters and digits) and substituted into
  `Input`, `ExpectedResult`, `CallbackActions` and the expected history;
- the expected history is matched event by event on `EventId` (events the requirement does not list are not
  looked at): `'*'` accepts any value, `{}` any value ("don't care"), `${NAME}` binds on first sight and
  must be the same value after, `${/re/}` is a regular expression searched in the value, a mapping is
  matched on its own keys (each must be in the event), a list element-wise, anything else literally;
- `ExpectedResult`: the execution's status, and when it succeeded and a `Result` is given, the result
  after one `json.loads`;
- `ExpectedLogs`: the execution's log records (JSON lines carrying its ARN), each `match` field equal
  (or `/re/` searched), counted (`count`, `min_count`, `max_count`; at least one when none is given).
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
REQUIREMENTS = HERE / "requirements"
TEMPLATE = HERE / "template.yaml"
# The suites this project's probe functions answer, in the package's order; a suite is run when the
# template names a function for each of its requirements.
SUITES = ("step", "wait", "child", "callback", "invoke", "wait_for_condition", "wait_for_callback", "parallel", "map")

_GEN_STR = re.compile(r"^\$\{GEN_STR:(\d+)\}$")
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLACEHOLDER = re.compile(r"^\$\{(.+)\}$")
_REGEX = re.compile(r"^\$\{/(.+)/\}$")
_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class Requirement:
    """One requirement file: `id` is its name (`4-7`), `suite` its folder."""

    id: str
    suite: str
    path: Path
    data: dict[str, Any]

    @property
    def description(self) -> str:
        return str(self.data.get("description", "")).strip()

    @property
    def optional(self) -> bool:
        return bool(self.data.get("optional", False))

    @property
    def asynchronous(self) -> bool:
        return bool(self.data.get("AsyncInvoke", False))

    @property
    def history(self) -> list[dict[str, Any]]:
        return list(self.data.get("ExpectedExecutionHistory") or [])

    @property
    def result(self) -> dict[str, Any] | None:
        found = self.data.get("ExpectedResult")
        return dict(found) if found else None

    @property
    def logs(self) -> list[dict[str, Any]]:
        return list(self.data.get("ExpectedLogs") or [])

    @property
    def sort_key(self) -> tuple[int, int]:
        major, minor = self.id.split("-")
        return int(major), int(minor)


def load(suites: Iterable[str] = SUITES, root: Path = REQUIREMENTS) -> list[Requirement]:
    """Every requirement of `suites` found under `root`, in suite then number order."""
    found = []
    for suite in suites:
        for path in (root / suite).glob("*.yaml"):
            found.append(Requirement(path.stem, suite, path, yaml.safe_load(path.read_text())))
    order = {suite: n for n, suite in enumerate(suites)}
    return sorted(found, key=lambda r: (order[r.suite], r.sort_key))


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (`!Sub ...`) read as plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def functions_by_requirement(template: Path = TEMPLATE) -> dict[str, str]:
    """Requirement id -> the FunctionName of the template's function that answers it, from each resource's
    `TestingMetadata.TestDescription` (the key AWS's conformance runner reads)."""
    data = yaml.load(template.read_text(), Loader=_CfnLoader)  # noqa: S506 - a safe loader with tags ignored
    found: dict[str, str] = {}
    for resource in (data.get("Resources") or {}).values():
        ids = (resource.get("TestingMetadata") or {}).get("TestDescription") or []
        for requirement in ids:
            found[str(requirement)] = str(resource["Properties"]["FunctionName"])
    return found


class Placeholders:
    """Bindings of a requirement's placeholders: its variables, then the ids the history match binds."""

    def __init__(self, variables: dict[str, Any] | None = None) -> None:
        self.bindings: dict[str, Any] = {}
        for name, value in (variables or {}).items():
            generated = _GEN_STR.match(value) if isinstance(value, str) else None
            if generated:
                self.bindings[name] = "".join(secrets.choice(_ALPHABET) for _ in range(int(generated.group(1))))
            else:
                self.bindings[name] = value if isinstance(value, str) else str(value)

    def substitute(self, data: Any) -> Any:
        """`data` with every bound `${NAME}` replaced (others, ids the match binds later, stay)."""
        if isinstance(data, str):
            return _REFERENCE.sub(lambda m: str(self.bindings.get(m.group(1), m.group(0))), data)
        if isinstance(data, dict):
            return {key: self.substitute(value) for key, value in data.items()}
        if isinstance(data, list):
            return [self.substitute(item) for item in data]
        return data


def match_history(expected: list[dict[str, Any]], actual: list[dict[str, Any]], names: Placeholders) -> list[str]:
    """Where the actual history departs from the expected one (empty: it conforms)."""
    errors: list[str] = []
    by_id = {event.get("EventId"): event for event in actual}
    for event in expected:
        event_id = event.get("EventId")
        if event_id is None:
            errors.append(f"an expected event has no EventId: {event}")
        elif event_id not in by_id:
            errors.append(f"Event[{event_id}]: missing (the history has {len(actual)} events)")
        else:
            _match(event, by_id[event_id], f"Event[{event_id}]", names, errors)
    return errors


def _match(expected: Any, actual: Any, path: str, names: Placeholders, errors: list[str]) -> None:
    if (isinstance(expected, dict) and not expected) or expected == "*":
        return
    if isinstance(expected, str) and (regex := _REGEX.match(expected)):
        if not re.search(regex.group(1), str(actual)):
            errors.append(f"{path}: {actual!r} does not match /{regex.group(1)}/")
        return
    if isinstance(expected, str) and (placeholder := _PLACEHOLDER.match(expected)):
        name = placeholder.group(1)
        if name not in names.bindings:
            names.bindings[name] = actual
        elif names.bindings[name] != actual:
            errors.append(f"{path}: ${{{name}}} is {names.bindings[name]!r} before, {actual!r} here")
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            if key not in actual:
                errors.append(f"{path}.{key}: missing (the event has {sorted(actual)})")
            else:
                _match(value, actual[key], f"{path}.{key}", names, errors)
        return
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            errors.append(f"{path}: {len(actual)} items, expected {len(expected)}")
            return
        for n, (want, got) in enumerate(zip(expected, actual, strict=True)):
            _match(want, got, f"{path}[{n}]", names, errors)
        return
    want = names.substitute(expected) if isinstance(expected, str) else expected
    if want != actual:
        errors.append(f"{path}: expected {want!r}, got {actual!r}")


def check_result(expected: dict[str, Any], execution: dict[str, Any], names: Placeholders) -> list[str]:
    """The execution's status, and its result when it succeeded and the requirement gives one."""
    status = execution.get("Status")
    if expected.get("ExecutionStatus") and status != expected["ExecutionStatus"]:
        error = execution.get("Error")
        return [f"ExecutionStatus: expected {expected['ExecutionStatus']}, got {status} (error: {error})"]
    if status != "SUCCEEDED" or "Result" not in expected:
        return []
    raw = execution.get("Result")
    try:
        result = json.loads(raw) if raw is not None else None
    except (TypeError, ValueError):
        result = raw
    want = names.substitute(expected["Result"])
    return [] if result == want else [f"Result: expected {want!r}, got {result!r}"]


def log_records(lines: Iterable[str], execution_arn: str) -> list[dict[str, Any]]:
    """The JSON log records of one execution (its ARN as `executionArn` or `durableExecutionArn`)."""
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        arns = (record.get("executionArn"), record.get("durableExecutionArn")) if isinstance(record, dict) else ()
        if execution_arn in arns:
            records.append(record)
    return records


def check_logs(expected: list[dict[str, Any]], records: list[dict[str, Any]], names: Placeholders) -> list[str]:
    errors = []
    for n, entry in enumerate(names.substitute(expected)):
        matcher = entry["match"]
        count = sum(1 for record in records if all(_field(want, record, key) for key, want in matcher.items()))
        label = f"ExpectedLogs[{n}] {matcher}"
        if entry.get("count") is not None and count != entry["count"]:
            errors.append(f"{label}: {count} records, expected {entry['count']}")
        low = entry.get("min_count", 1 if all(entry.get(k) is None for k in ("count", "max_count")) else None)
        if low is not None and count < low:
            errors.append(f"{label}: {count} records, expected at least {low}")
        if entry.get("max_count") is not None and count > entry["max_count"]:
            errors.append(f"{label}: {count} records, expected at most {entry['max_count']}")
    return errors


def _field(expected: Any, record: dict[str, Any], key: str) -> bool:
    if key not in record:
        return False
    actual = record[key]
    if isinstance(expected, str):
        text = str(actual).strip()
        if len(expected) >= 2 and expected.startswith("/") and expected.endswith("/"):
            return re.search(expected[1:-1], text) is not None
        return text == expected.strip()
    return bool(str(expected) == str(actual))
