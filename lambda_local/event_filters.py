"""Lambda event filtering (`FilterCriteria`) on SQS, Kinesis and DynamoDB records: EventBridge patterns.

https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html and the EventBridge pattern
syntax it uses, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html.
A record is kept when any of the mapping's patterns (at most five) matches it. What a pattern sees:
- SQS: the record, with `body` parsed when it is a JSON object (else the body string itself);
- Kinesis: the record, with the base64 `kinesis.data` decoded and parsed as top-level `data` when it is
  JSON (else `data` matches nothing);
- DynamoDB: the record as it is (`eventName`, `dynamodb.Keys`, `NewImage`, `OldImage` in attribute-value form).

Pure: no well-kept matcher of EventBridge patterns exists as a small Python library (moto has one, but
the plane's image does not carry moto), so this module implements the documented operators: exact
values, `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (values, or a prefix / suffix /
equals-ignore-case / wildcard), `numeric`, `exists`, `wildcard`, `cidr` and `$or`.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

Item = TypeVar("Item")

MAX_FILTERS = 5
_MISSING = object()
_NUMERIC_OPS = {"=", "<", "<=", ">", ">="}
_STRING_OPS = {"prefix", "suffix", "equals-ignore-case", "wildcard"}


class FilterError(ValueError):
    """A FilterCriteria Lambda would refuse; the message names the place and what is wrong."""


Pattern = dict[str, Any]


def parse_filters(criteria: Any, at: str) -> tuple[Pattern, ...]:
    """`{Filters: [{Pattern: '<JSON>'}, ...]}` -> the patterns, each checked for operators it knows."""
    filters = criteria.get("Filters") if isinstance(criteria, dict) else None
    if not isinstance(filters, list) or not filters:
        raise FilterError(f"{at}: must be {{Filters: [{{Pattern: '<JSON>'}}, ...]}}")
    if len(filters) > MAX_FILTERS:
        raise FilterError(f"{at}.Filters: at most {MAX_FILTERS} filters, got {len(filters)}")
    patterns = []
    for index, entry in enumerate(filters):
        text = entry.get("Pattern") if isinstance(entry, dict) else None
        try:
            pattern = json.loads(text) if isinstance(text, str) else None
        except ValueError as exc:
            raise FilterError(f"{at}.Filters[{index}].Pattern: not JSON ({exc})") from None
        if not isinstance(pattern, dict):
            raise FilterError(f"{at}.Filters[{index}].Pattern: must be a JSON object in a string")
        _check(pattern, f"{at}: Filters[{index}].Pattern")
        patterns.append(pattern)
    return tuple(patterns)


def _check(pattern: Any, at: str) -> None:
    for key, value in pattern.items():
        where = f"{at}.{key}"
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, dict) for v in value):
                raise FilterError(f"{where}: must be a list of at least two patterns")
            for i, sub in enumerate(value):
                _check(sub, f"{where}[{i}]")
        elif isinstance(value, dict):
            _check(value, where)
        elif isinstance(value, list):
            for matcher in value:
                if isinstance(matcher, dict):
                    _check_operator(matcher, where)
        else:
            raise FilterError(f"{where}: a value must be a list of matchers or a nested pattern, got {value!r}")


def _check_operator(matcher: dict[str, Any], at: str) -> None:
    if len(matcher) != 1:
        raise FilterError(f"{at}: an operator is an object of one key, got {matcher!r}")
    ((op, arg),) = matcher.items()
    if op == "numeric":
        if not isinstance(arg, list) or not arg or len(arg) % 2 or len(arg) > 4:
            raise FilterError(f"{at}: numeric takes one or two [operator, number] pairs, got {arg!r}")
        for sign, number in zip(arg[::2], arg[1::2], strict=True):
            if sign not in _NUMERIC_OPS or isinstance(number, bool) or not isinstance(number, int | float):
                raise FilterError(f"{at}: numeric: {sign!r} {number!r} is not an operator and a number")
    elif op == "exists":
        if not isinstance(arg, bool):
            raise FilterError(f"{at}: exists takes true or false")
    elif op in _STRING_OPS:
        if not isinstance(arg, str) and not (op in ("prefix", "suffix") and _ignore_case(arg) is not None):
            raise FilterError(f"{at}: {op} takes a string")
    elif op == "anything-but":
        if isinstance(arg, dict):
            _check_operator(arg, at)
            if next(iter(arg)) not in _STRING_OPS:
                raise FilterError(
                    f"{at}: anything-but takes values, or a prefix, suffix, equals-ignore-case or wildcard"
                )
    elif op == "cidr":
        try:
            ipaddress.ip_network(arg, strict=False)
        except (TypeError, ValueError):
            raise FilterError(f"{at}: cidr takes a network such as 10.0.0.0/24, got {arg!r}") from None
    else:
        raise FilterError(f"{at}: unknown operator {op!r}")


def _ignore_case(arg: Any) -> str | None:
    if isinstance(arg, dict) and set(arg) == {"equals-ignore-case"} and isinstance(arg["equals-ignore-case"], str):
        return str(arg["equals-ignore-case"])
    return None


def _wildcard(pattern: str, value: str) -> bool:
    parts = re.split(r"(?<!\\)\*", pattern)
    regex = ".*".join(re.escape(part.replace("\\*", "*")) for part in parts)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _one(matcher: Any, value: Any) -> bool:
    """One matcher against one value (an element, when the record holds a list)."""
    if not isinstance(matcher, dict):
        if value is _MISSING:
            return False
        if _number(matcher) is not None and _number(value) is not None:
            return _number(matcher) == _number(value)
        return bool(matcher == value and type(matcher) is type(value))
    ((op, arg),) = matcher.items()
    if op == "exists":
        return (value is not _MISSING) is bool(arg)
    if value is _MISSING:
        return False
    if op == "numeric":
        number = _number(value)
        if number is None:
            return False
        checks = {"=": number.__eq__, "<": number.__lt__, "<=": number.__le__, ">": number.__gt__, ">=": number.__ge__}
        return all(checks[sign](float(bound)) for sign, bound in zip(arg[::2], arg[1::2], strict=True))
    if op == "anything-but":
        if isinstance(arg, dict):
            return isinstance(value, str) and not _one(arg, value)
        excluded = arg if isinstance(arg, list) else [arg]
        return not any(_one(e, value) for e in excluded)
    if op == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(arg, strict=False)
        except (TypeError, ValueError):
            return False
    if not isinstance(value, str):
        return False
    if op in ("prefix", "suffix"):
        folded = _ignore_case(arg)
        text, wanted = (value.lower(), folded.lower()) if folded is not None else (value, str(arg))
        return text.startswith(wanted) if op == "prefix" else text.endswith(wanted)
    if op == "equals-ignore-case":
        return value.lower() == str(arg).lower()
    if op == "wildcard":
        return _wildcard(str(arg), value)
    return False


def matches(pattern: Pattern, record: Any) -> bool:
    """Whether `pattern` matches `record` (a JSON-like dict) as EventBridge matches events."""
    if not isinstance(record, dict):
        return False
    for key, wanted in pattern.items():
        if key == "$or":
            if not any(matches(sub, record) for sub in wanted):
                return False
            continue
        value = record.get(key, _MISSING)
        if isinstance(wanted, dict):
            inner = value if isinstance(value, list) else [value]
            found = any(isinstance(v, dict) and matches(wanted, v) for v in inner)
            # A nested pattern of only `exists: false` leaves also matches an absent object.
            if not found and not (value is _MISSING and _all_absent(wanted)):
                return False
            continue
        values = value if isinstance(value, list) and value else [value]
        if not any(_one(matcher, v) for matcher in wanted for v in values):
            return False
    return True


def _all_absent(pattern: Pattern) -> bool:
    for wanted in pattern.values():
        if isinstance(wanted, dict):
            if not _all_absent(wanted):
                return False
        elif wanted != [{"exists": False}]:
            return False
    return True


def prepared(record: dict[str, Any], source: str) -> dict[str, Any]:
    """The record as Lambda's filters see it (see the module's docstring)."""
    if source == "sqs":
        try:
            body = json.loads(record.get("body", ""))
        except ValueError:
            return record
        return record | {"body": body} if isinstance(body, dict) else record
    if source == "kinesis":
        try:
            data = json.loads(base64.b64decode(record["kinesis"]["data"], validate=True))
        except (KeyError, TypeError, ValueError, binascii.Error):
            return record
        return record | {"data": data} if isinstance(data, dict) else record
    return record


def keep(patterns: tuple[Pattern, ...], record: dict[str, Any], source: str) -> bool:
    """Whether a mapping with `patterns` invokes its function for `record` (no patterns: always)."""
    if not patterns:
        return True
    view = prepared(record, source)
    return any(matches(pattern, view) for pattern in patterns)


def split(items: Iterable[Item], kept: Callable[[Item], bool]) -> tuple[list[Item], list[Item]]:
    """`items` a mapping's filter keeps and those it drops, each in their order."""
    keeping: list[Item] = []
    dropping: list[Item] = []
    for item in items:
        (keeping if kept(item) else dropping).append(item)
    return keeping, dropping
