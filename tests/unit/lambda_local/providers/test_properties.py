"""Each function property is run, deploy-only or said (one warning line naming it and its functions);
DurableConfig and TenancyConfig are read into the function's spec, with what Lambda refuses refused."""

import copy
from typing import Any

import pytest

from lambda_local.providers import ROOT, TemplateError, load_yaml, parse
from lambda_local.providers.properties import DEPLOY_ONLY, NOT_RUN, RUN, DurableConfig, unrun_warnings

BASE = load_yaml()


def template(functions: dict[str, dict[str, Any]], globals_: dict[str, Any] | None = None) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["Resources"] = {k: v for k, v in data["Resources"].items() if v["Type"] != "AWS::Serverless::Function"}
    data["Globals"] = {"Function": globals_ or {}}
    for logical_id, props in functions.items():
        data["Resources"][logical_id] = {
            "Type": "AWS::Serverless::Function",
            "Metadata": {"DockerBuildArgs": {"FUNCTION": "weather-api"}},
            "Properties": {"PackageType": "Image", "FunctionName": logical_id.lower()} | props,
        }
    return data


def test_the_three_lists_do_not_overlap() -> None:
    assert not RUN & DEPLOY_ONLY
    assert not RUN & set(NOT_RUN)
    assert not DEPLOY_ONLY & set(NOT_RUN)


def test_a_property_not_run_is_one_line_naming_it_and_every_function_that_sets_it() -> None:
    data = template(
        {
            "One": {
                "Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:x:1"],
                "Description": "d",
                "Tags": {"a": "b"},
            },
            "Two": {
                "Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:y:1"],
                "SnapStart": {"ApplyOn": "PublishedVersions"},
            },
        }
    )
    lines = unrun_warnings(data, "t.yaml", "AWS::Serverless::Function", machine="x86_64")
    assert lines == [
        "t.yaml: Layers (One, Two) is not run locally: an image function takes no layers (Lambda refuses them)",
        "t.yaml: SnapStart (Two) is not run locally: no snapshots: every new environment runs its Init",
    ]


def test_globals_count_for_every_function_and_many_functions_are_shortened() -> None:
    data = template({name: {} for name in ("A", "B", "C", "D", "E")}, {"VpcConfig": {"SubnetIds": []}})
    (line,) = unrun_warnings(data, "t.yaml", "AWS::Serverless::Function", machine="x86_64")
    assert line.startswith("t.yaml: VpcConfig (A, B, C and 2 more) is not run locally")


def test_a_misspelt_property_an_entry_point_allow_loops_and_a_foreign_architecture_are_said() -> None:
    data = template(
        {
            "Fn": {
                "Timout": 3,
                "ImageConfig": {"Command": ["app.handler"], "EntryPoint": ["/x"]},
                "RecursiveLoop": "Allow",
            }
        },
        {"Architectures": ["arm64"]},
    )
    said = {
        line.split(" (")[0].split(": ", 1)[1]
        for line in unrun_warnings(data, "t.yaml", "AWS::Serverless::Function", machine="x86_64")
    }
    assert said == {"Timout", "ImageConfig.EntryPoint", "RecursiveLoop", "Architectures"}
    # the same architecture as the machine's is run, Terminate is what the plane does
    data = template({"Fn": {"RecursiveLoop": "Terminate"}}, {"Architectures": ["arm64"]})
    assert unrun_warnings(data, "t.yaml", "AWS::Serverless::Function", machine="aarch64") == []


def test_the_warnings_reach_the_template() -> None:
    parsed = parse(
        template({"Fn": {"FileSystemConfigs": [{"Arn": "x", "LocalMountPath": "/mnt/x"}]}}), ROOT / "functions"
    )
    assert any("FileSystemConfigs (Fn) is not run locally" in w for w in parsed.warnings)


def test_durable_config_is_read_with_lambdas_default_retention() -> None:
    parsed = parse(template({"Fn": {"DurableConfig": {"ExecutionTimeout": 3600}}, "Plain": {}}), ROOT / "functions")
    assert parsed.function("fn").durable == DurableConfig(execution_timeout_s=3600, retention_days=14)
    assert parsed.function("plain").durable is None
    assert not any("DurableConfig" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "DurableConfig.ExecutionTimeout: required"),
        ({"ExecutionTimeout": 0}, "DurableConfig.ExecutionTimeout: must be 1 to 31622400, got 0"),
        ({"ExecutionTimeout": 31_622_401}, "must be 1 to 31622400"),
        ({"ExecutionTimeout": "²"}, "must be a whole number"),
        ({"ExecutionTimeout": 60, "RetentionPeriodInDays": 91}, "RetentionPeriodInDays: must be 1 to 90, got 91"),
        ({"ExecutionTimeout": 60, "Retention": 3}, "unknown property Retention"),
        ("yes", "must be a mapping"),
    ],
)
def test_a_bad_durable_config_is_one_error_naming_the_place(config: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("(", r"\(")) as error:
        parse(template({"Fn": {"DurableConfig": config}}), ROOT / "functions")
    assert "Fn.Properties.DurableConfig" in str(error.value)


def test_tenant_isolation_is_read_and_api_gateway_may_invoke_it() -> None:
    events = {"Get": {"Type": "Api", "Properties": {"Path": "/t", "Method": "GET"}}}
    parsed = parse(
        template({"Fn": {"TenancyConfig": {"TenantIsolationMode": "PER_TENANT"}, "Events": events}}), ROOT / "functions"
    )
    assert parsed.function("fn").tenant_isolation


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"FunctionUrlConfig": {"AuthType": "NONE"}}, "FunctionUrlConfig: Lambda refuses a function URL"),
        (
            {"AutoPublishAlias": "live", "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 1}},
            "ProvisionedConcurrencyConfig: Lambda refuses it",
        ),
        ({"SnapStart": {"ApplyOn": "PublishedVersions"}}, "SnapStart: Lambda refuses SnapStart"),
        (
            {"Events": {"Tick": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}}},
            "a Schedule event source cannot invoke a function in tenant isolation mode",
        ),
        (
            {"Events": {"Get": {"Type": "HttpApi", "Properties": {"Path": "/t", "Method": "GET"}}}},
            "a HttpApi event source cannot invoke .* an HTTP API cannot pass the X-Amz-Tenant-Id header",
        ),
        ({"TenancyConfig": {"TenantIsolationMode": "SHARED"}}, "TenantIsolationMode: must be PER_TENANT"),
    ],
)
def test_what_lambda_refuses_beside_tenant_isolation_is_refused(props: dict[str, Any], message: str) -> None:
    props = {"TenancyConfig": {"TenantIsolationMode": "PER_TENANT"}} | props
    with pytest.raises(TemplateError, match=message):
        parse(template({"Fn": props}), ROOT / "functions")
