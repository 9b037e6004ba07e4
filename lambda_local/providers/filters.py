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

No record can stall or break a mapping: matching takes time linear in the record's values (a wildcard
is matched without backtracking), goes no deeper into a record than its pattern (at most
MAX_PATTERN_DEPTH levels), and a body or `data` larger than MAX_PARSED_BYTES or nested deeper than
MAX_RECORD_DEPTH is kept unparsed, as text that is not JSON is. `keep` never raises.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import accumulate
from typing import Any, TypeVar

Item = TypeVar("Item")

MAX_FILTERS = 5
MAX_PATTERN_LENGTH = 4096  # characters of one Pattern (the Lambda API's Filter.Pattern)
# Levels of objects in a pattern: well past any record Lambda filters (DynamoDB nests an item 32 levels,
# two objects a level in attribute-value form), and a bound on the matcher's recursion.
MAX_PATTERN_DEPTH = 100
# A body (SQS) or `data` (Kinesis) past this is not parsed: 1 MiB is the largest SQS message and Kinesis
# record; the local endpoint may take larger ones.
MAX_PARSED_BYTES = 1024 * 1024
# Levels of arrays and objects in a body or `data` that is parsed: deeper ones are kept as text. Far below
# what Python's parser takes (about a thousand, less the frames of its caller), so the same record is
# read the same way wherever it is filtered.
MAX_RECORD_DEPTH = 256
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
_STEPS = {"[": 1, "{": 1, "]": -1, "}": -1}
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
        if isinstance(text, str) and len(text) > MAX_PATTERN_LENGTH:
            raise FilterError(
                f"{at}.Filters[{index}].Pattern: at most {MAX_PATTERN_LENGTH} characters, got {len(text)}"
            )
        try:
            pattern = json.loads(text) if isinstance(text, str) else None
        except ValueError as exc:
            raise FilterError(f"{at}.Filters[{index}].Pattern: not JSON ({exc})") from None
        except RecursionError:
            raise FilterError(f"{at}.Filters[{index}].Pattern: nested too deep") from None
        if not isinstance(pattern, dict):
            raise FilterError(f"{at}.Filters[{index}].Pattern: must be a JSON object in a string")
        _check(pattern, f"{at}: Filters[{index}].Pattern")
        patterns.append(pattern)
    return tuple(patterns)


def _finite(value: Any) -> bool:
    number = _number(value)
    return number is not None and math.isfinite(number)


def _scalar(value: Any) -> bool:
    """A match value EventBridge takes: a string, a finite number, true, false or null."""
    return value is None or isinstance(value, str | bool) or _finite(value)


def _check(pattern: Any, at: str, depth: int = 1) -> None:
    if depth > MAX_PATTERN_DEPTH:
        raise FilterError(f"{at}: nested more than {MAX_PATTERN_DEPTH} levels")
    for key, value in pattern.items():
        where = f"{at}.{key}"
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, dict) for v in value):
                raise FilterError(f"{where}: must be a list of at least two patterns")
            for i, sub in enumerate(value):
                _check(sub, f"{where}[{i}]", depth + 1)
        elif isinstance(value, dict):
            _check(value, where, depth + 1)
        elif isinstance(value, list):
            for matcher in value:
                if isinstance(matcher, dict):
                    _check_operator(matcher, where)
                elif not _scalar(matcher):
                    raise FilterError(
                        f"{where}: a match value is a string, a number, true, false, null or an operator, "
                        f"got {_shown(matcher)}"
                    )
        else:
            raise FilterError(f"{where}: a value must be a list of matchers or a nested pattern, got {_shown(value)}")


def _shown(value: Any) -> str:
    """`value` for an error message, cut short (a pattern may be 4 KB of one value)."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _check_operator(matcher: dict[str, Any], at: str) -> None:
    if len(matcher) != 1:
        raise FilterError(f"{at}: an operator is an object of one key, got {_shown(matcher)}")
    ((op, arg),) = matcher.items()
    if op == "numeric":
        if not isinstance(arg, list) or not arg or len(arg) % 2 or len(arg) > 4:
            raise FilterError(f"{at}: numeric takes one or two [operator, number] pairs, got {_shown(arg)}")
        for sign, number in zip(arg[::2], arg[1::2], strict=True):
            if not isinstance(sign, str) or sign not in _NUMERIC_OPS or not _finite(number):
                raise FilterError(
                    f"{at}: numeric: {_shown(sign)} {_shown(number)} is not an operator and a finite number"
                )
    elif op == "exists":
        if not isinstance(arg, bool):
            raise FilterError(f"{at}: exists takes true or false")
    elif op in _STRING_OPS:
        if not isinstance(arg, str) and not (op in ("prefix", "suffix") and _ignore_case(arg) is not None):
            raise FilterError(f"{at}: {op} takes a string")
        if op == "wildcard":
            try:
                _segments(arg)
            except FilterError as exc:
                raise FilterError(f"{at}: {exc}") from None
    elif op == "anything-but":
        if isinstance(arg, dict):
            _check_operator(arg, at)
            if next(iter(arg)) not in _STRING_OPS:
                raise FilterError(
                    f"{at}: anything-but takes values, or a prefix, suffix, equals-ignore-case or wildcard"
                )
        elif not (_scalar(arg) or (isinstance(arg, list) and all(_scalar(v) for v in arg))):
            raise FilterError(f"{at}: anything-but takes a value or a list of values, got {_shown(arg)}")
    elif op == "cidr":
        try:
            ipaddress.ip_network(arg, strict=False)
        except (TypeError, ValueError):
            raise FilterError(f"{at}: cidr takes a network such as 10.0.0.0/24, got {_shown(arg)}") from None
    else:
        raise FilterError(f"{at}: unknown operator {_shown(op)}")


def _ignore_case(arg: Any) -> str | None:
    if isinstance(arg, dict) and set(arg) == {"equals-ignore-case"} and isinstance(arg["equals-ignore-case"], str):
        return str(arg["equals-ignore-case"])
    return None


@lru_cache(maxsize=1024)
def _segments(pattern: str) -> tuple[str, ...]:
    """A wildcard pattern's literal parts, between its `*`s (`\\*` is a star, `\\\\` a backslash);
    FilterError for what EventBridge refuses: another escape, a trailing backslash, `**`."""
    parts = [""]
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            escaped = pattern[index + 1 : index + 2]
            if escaped not in ("*", "\\"):
                raise FilterError(f"wildcard {_shown(pattern)}: invalid escape character at position {index}")
            parts[-1] += escaped
            index += 2
            continue
        if char == "*":
            if pattern[index + 1 : index + 2] == "*":
                raise FilterError(f"wildcard {_shown(pattern)}: consecutive wildcard characters at position {index}")
            parts.append("")
        else:
            parts[-1] += char
        index += 1
    return tuple(parts)


def _wildcard(pattern: str, value: str) -> bool:
    """Whether `value` matches the wildcard `pattern`, with no backtracking: the first part is a prefix,
    the last a suffix, and each part between is found, leftmost, after the one before (taking the
    leftmost place of each leaves the most room to the rest, so no other choice could match where it
    does not). Time: one str.find per part, each linear in the value."""
    try:
        parts = _segments(pattern)
    except FilterError:
        return False
    if len(parts) == 1:
        return value == parts[0]
    first, *middle, last = parts
    if len(value) < len(first) + len(last) or not value.startswith(first) or not value.endswith(last):
        return False
    start, end = len(first), len(value) - len(last)
    for part in middle:
        found = value.find(part, start, end)
        if found < 0:
            return False
        start = found + len(part)
    return True


def _number(value: Any) -> float | None:
    """A JSON number as a float (an integer too large for one is infinite); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


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


def _nesting(text: str) -> int:
    """How deep the arrays and objects of JSON `text` nest (brackets inside strings left out), or just
    MAX_RECORD_DEPTH when it has too few brackets to nest deeper. Linear in the text."""
    if text.count("[") + text.count("{") <= MAX_RECORD_DEPTH:
        return MAX_RECORD_DEPTH
    brackets = _BRACKETS.findall(_STRINGS.sub("", text))
    return max(accumulate(map(_STEPS.__getitem__, brackets)), default=0)


def _parsed(text: str | bytes) -> Any:
    """`text` as JSON, or _MISSING when it is not JSON, is larger than MAX_PARSED_BYTES or nests deeper
    than MAX_RECORD_DEPTH."""
    if len(text) > MAX_PARSED_BYTES:
        return _MISSING
    if _nesting(text if isinstance(text, str) else text.decode("utf-8", errors="replace")) > MAX_RECORD_DEPTH:
        return _MISSING
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _MISSING


def prepared(record: dict[str, Any], source: str) -> dict[str, Any]:
    """The record as Lambda's filters see it (see the module's docstring)."""
    if source == "sqs":
        text = record.get("body", "")
        body = _parsed(text) if isinstance(text, str) else _MISSING
        return record | {"body": body} if isinstance(body, dict) else record
    if source == "kinesis":
        try:
            raw = base64.b64decode(record["kinesis"]["data"], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error):
            return record
        data = _parsed(raw)
        return record | {"data": data} if isinstance(data, dict) else record
    return record


def keep(patterns: tuple[Pattern, ...], record: dict[str, Any], source: str) -> bool:
    """Whether a mapping with `patterns` invokes its function for `record` (no patterns: always). Never
    raises: a record the patterns cannot be evaluated on matches none of them, as a body that is not
    JSON matches no pattern on the body's fields (the bounds above leave nothing known to fail)."""
    if not patterns:
        return True
    try:
        view = prepared(record, source)
        return any(matches(pattern, view) for pattern in patterns)
    except Exception:  # one record's failure costs that record only, never the mapping
        return False


def split(items: Iterable[Item], kept: Callable[[Item], bool]) -> tuple[list[Item], list[Item]]:
    """`items` a mapping's filter keeps and those it drops, each in their order."""
    keeping: list[Item] = []
    dropping: list[Item] = []
    for item in items:
        (keeping if kept(item) else dropping).append(item)
    return keeping, dropping


def triage(
    items: Iterable[Item], kept: Callable[[Item], bool]
) -> tuple[list[Item], list[Item], list[tuple[Item, str]]]:
    """`items` a mapping's filter keeps, those it drops, and those `kept` failed on (each with the reason:
    the item's own content, such as a record that cannot be built), each in their order. Run it off the
    event loop (asyncio.to_thread): a filter on large records takes its time."""
    keeping: list[Item] = []
    dropping: list[Item] = []
    failing: list[tuple[Item, str]] = []
    for item in items:
        try:
            (keeping if kept(item) else dropping).append(item)
        except Exception as exc:  # this item only
            failing.append((item, f"{type(exc).__name__}: {exc}"[:1000]))
    return keeping, dropping, failing
