"""FunctionName as the Lambda Invoke API reads it (API_Invoke.html#API_Invoke_RequestParameters)."""

import pytest

from lambda_local.invocation.function_names import InvalidName, NotFound, Target, check, parse

KNOWN = {"weatherApi": None, "live": "live"}
ACCOUNT, REGION = "123456789012", "us-east-1"


def resolve(function_name: str, qualifier: str | None = None) -> tuple[str, str]:
    return check(function_name, parse(function_name, qualifier), KNOWN, ACCOUNT, REGION)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("weatherApi", ("weatherApi", "$LATEST")),
        ("weatherApi:$LATEST", ("weatherApi", "$LATEST")),
        ("123456789012:function:weatherApi", ("weatherApi", "$LATEST")),
        ("arn:aws:lambda:us-east-1:123456789012:function:weatherApi", ("weatherApi", "$LATEST")),
        ("arn:aws:lambda:us-east-1:123456789012:function:weatherApi:$LATEST", ("weatherApi", "$LATEST")),
        ("live:live", ("live", "1")),
    ],
)
def test_names_partial_and_full_arns_with_qualifiers(given: str, expected: tuple[str, str]) -> None:
    assert resolve(given) == expected


def test_the_qualifier_parameter_and_the_name_must_agree() -> None:
    assert parse("weatherApi", "$LATEST") == Target("weatherApi", "$LATEST")
    with pytest.raises(InvalidName, match="does not match the specified qualifier"):
        parse("weatherApi:$LATEST", "live")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("salesAnalysisReportDataExtractor:nope", "function:salesAnalysisReportDataExtractor:nope"),
        ("weatherApi:nope", "arn:aws:lambda:us-east-1:123456789012:function:weatherApi:nope"),
        ("weatherApi:live", "function:weatherApi:live"),  # no alias declared
        ("arn:aws:lambda:eu-west-1:999999999999:function:weatherApi", "eu-west-1:999999999999:function:weatherApi"),
        ("999999999999:function:weatherApi", "us-east-1:999999999999:function:weatherApi"),
        ("arn:aws:lambda:eu-west-1:123456789012:function:weatherApi", "eu-west-1:123456789012"),
        ("nobody", "function:nobody"),
    ],
)
def test_other_qualifiers_accounts_regions_and_names_are_not_found(given: str, message: str) -> None:
    with pytest.raises(NotFound, match=message.replace("$", r"\$")):
        resolve(given)


@pytest.mark.parametrize("given", ["a/b", "", "x" * 171, "weather Api", "weatherApi:", "us-east-1:weatherApi"])
def test_what_is_no_function_name_is_a_validation_error(given: str) -> None:
    with pytest.raises(InvalidName):
        parse(given)
