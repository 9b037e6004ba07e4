"""`FunctionName` as the Lambda Invoke API reads it
(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_RequestParameters):
a name (`my-function`, `my-function:v1`), a partial ARN (`123456789012:function:my-function`) or a full
ARN (`arn:aws:lambda:us-west-2:123456789012:function:my-function`), each with an optional qualifier,
or the qualifier in `?Qualifier=`. The account and region of an ARN must be the stack's; the qualifier
`$LATEST` or the function's alias (AutoPublishAlias). Anything else is Lambda's error, in its shape."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lambda's own pattern for FunctionName (the API reference), anchored; ASCII, as Java reads its `\d`
# (Python's `\d` would take any Unicode digit, so an account of Arabic-Indic digits was a name).
PATTERN = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(?P<account>\d{12}:)?"
    r"(function:)?(?P<name>[a-zA-Z0-9-_\.]+)(:(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?",
    re.ASCII,
)
LAMBDA_PATTERN_TEXT = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
    r"([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)


class InvalidName(ValueError):
    """400 ValidationException: not a FunctionName at all."""


class NotFound(LookupError):
    """404 ResourceNotFoundException, with the ARN Lambda names in its message."""


@dataclass(frozen=True)
class Target:
    name: str
    qualifier: str | None


def parse(function_name: str, qualifier: str | None = None) -> Target:
    """The function and qualifier `function_name` names; InvalidName when it is no FunctionName."""
    if not 1 <= len(function_name) <= 170 or (match := PATTERN.fullmatch(function_name)) is None:
        raise InvalidName(
            f"1 validation error detected: Value '{function_name[:200]}' at 'functionName' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {LAMBDA_PATTERN_TEXT}"
        )
    if match.group("region") and not function_name.startswith("arn:"):
        raise InvalidName(f"FunctionName {function_name[:200]!r}: a region only in a full ARN")
    named = match.group("qualifier")
    if named and qualifier and named != qualifier:
        raise InvalidName("The derived qualifier from the function name does not match the specified qualifier.")
    return Target(match.group("name"), named or qualifier)


def check(
    function_name: str, target: Target, known: dict[str, str | None], account: str, region: str
) -> tuple[str, str]:
    """(name, executed version) when `target` is one of `known` (name -> alias) in this account and
    region; NotFound otherwise."""
    match = PATTERN.fullmatch(function_name)
    assert match is not None
    arn = f"arn:aws:lambda:{region}:{account}:function:{target.name}"
    where_region = (match.group("region") or f"{region}:").rstrip(":")
    where_account = (match.group("account") or f"{account}:").rstrip(":")
    qualified = f"{arn}:{target.qualifier}" if target.qualifier else arn
    if target.name not in known or where_region != region or where_account != account:
        shown = f"arn:aws:lambda:{where_region}:{where_account}:function:{target.name}"
        raise NotFound(f"Function not found: {shown}{':' + target.qualifier if target.qualifier else ''}")
    if target.qualifier in (None, "$LATEST"):
        return target.name, "$LATEST"
    if target.qualifier == known[target.name]:
        return target.name, "1"  # SAM's AutoPublishAlias points at the version it published
    raise NotFound(f"Function not found: {qualified}")
