"""`python -m lambda_local` and `make up` with a template the local stack cannot run: one line naming
the place, exit status 2, nothing started."""

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from lambda_local.providers import ROOT, load_yaml


def broken(tmp_path: Path, change: Any) -> Path:
    data = copy.deepcopy(load_yaml())
    change(data)
    shutil.copytree(ROOT / "functions", tmp_path / "functions", ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "template.yaml"
    # Intrinsics in their long form are valid CloudFormation YAML too.
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def unknown_getatt(data: dict[str, Any]) -> None:
    variables = data["Resources"]["WeatherApiFunction"]["Properties"]["Environment"]["Variables"]
    variables["SITE_ORIGIN"] = {"Fn::GetAtt": ["WeatherSiteBuckett", "WebsiteURL"]}


def missing_local_name(data: dict[str, Any]) -> None:
    del data["Metadata"]["LocalNames"]["UploadsBucket"]


def route_clash(data: dict[str, Any]) -> None:
    events = data["Resources"]["WeatherApiFunction"]["Properties"]["Events"]
    events["Clash"] = {"Type": "Api", "Properties": {"Path": "/status", "Method": "POST"}}


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (
            unknown_getatt,
            "lambda_local: template.yaml: WeatherApiFunction.Properties.Environment.Variables.SITE_ORIGIN: "
            "!GetAtt WeatherSiteBuckett.WebsiteURL: no such resource",
        ),
        (
            missing_local_name,
            "lambda_local: template.yaml: UploadsBucket.Properties.BucketName: the name is computed by an "
            "intrinsic; give UploadsBucket a local name in Metadata.LocalNames",
        ),
        (route_clash, "lambda_local: template.yaml: two events declare POST /status (statusFanout, weatherApi)"),
    ],
)
def test_a_bad_template_is_one_line_and_exit_2(tmp_path: Path, change: Any, line: str):
    path = broken(tmp_path, change)
    result = subprocess.run(
        [sys.executable, "-m", "lambda_local", "--template", str(path), "check"], capture_output=True, text=True
    )
    assert (result.returncode, result.stdout, result.stderr) == (2, "", line + "\n")


def test_make_up_stops_before_starting_anything(tmp_path: Path):
    path = broken(tmp_path, route_clash)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")} | {"LAMBDA_LOCAL_TEMPLATE": str(path)}
    result = subprocess.run(["make", "-s", "up"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "two events declare POST /status" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "starting" not in result.stdout  # nothing was started


def test_check_lists_what_the_template_declares():
    result = subprocess.run([sys.executable, "-m", "lambda_local", "check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0
    assert "salesAnalysisReport (functions/sales-report, 256 MB, 60 s, port 9002)" in result.stdout
    assert (
        "triggers: 1 schedules, 2 SNS/S3, 2 streams, 0 SQS mappings, 2 API routes, 0 function URLs; 1 durable functions"
        in result.stdout
    )
    assert "warning: template.yaml: Policies (" in result.stdout  # a property not run is said
    helped = subprocess.run([sys.executable, "-m", "lambda_local", "--help"], capture_output=True, text=True)
    assert "render-compose" in helped.stdout and "check" in helped.stdout


def test_the_planes_connections_send_without_waiting_for_acks():
    """Every accepted connection has TCP_NODELAY: without it a kept-alive caller waits ~40 ms per call
    (Nagle's algorithm holding the response body for the client's delayed ACK)."""
    import asyncio
    import socket

    from lambda_local.__main__ import listen

    async def scenario() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Server(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Server, sock=listen("127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 5)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(scenario()) != 0


def test_check_lists_each_functions_triggers_and_the_resources_local_names() -> None:
    from lambda_local.__main__ import summary
    from lambda_local.providers import load

    text = summary(load())
    assert "    <- SNS photo-uploads-events (UploadsTopic) through queue lambda-local-imageResize-Upload" in text
    assert "    <- API GET /weather (HTTP WeatherHttpApi, payload 2.0)" in text
    assert "    UploadsBucket (AWS::S3::Bucket): photo-uploads" in text


def test_check_lists_sqs_mappings_function_urls_durable_and_tenant_isolated_functions():
    import copy

    from lambda_local.__main__ import summary
    from lambda_local.providers import ROOT as PROJECT
    from lambda_local.providers import load_yaml, parse

    data = copy.deepcopy(load_yaml())
    data["Resources"]["JobsQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}}

    def fn(name: str, **props: object) -> dict[str, object]:
        return {
            "Type": "AWS::Serverless::Function",
            "Metadata": {"DockerBuildArgs": {"FUNCTION": "weather-api"}},
            "Properties": {"PackageType": "Image", "FunctionName": name} | props,
        }

    data["Resources"] |= {
        "Worker": fn(
            "worker",
            Events={
                "Jobs": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["JobsQueue", "Arn"]}, "BatchSize": 5}}
            },
            FunctionUrlConfig={"AuthType": "AWS_IAM"},
        ),
        "Flow": fn("flow", DurableConfig={"ExecutionTimeout": 900, "RetentionPeriodInDays": 7}),
        "Tenant": fn("tenant", TenancyConfig={"TenantIsolationMode": "PER_TENANT"}),
    }
    text = summary(parse(data, PROJECT / "functions"))
    assert "<- SQS queue jobs-queue (JobsQueue), batches of 5" in text
    assert "<- function URL (AWS_IAM)" in text
    assert "durable: executions up to 900 s, history kept 7 days" in text
    assert "tenant isolation: PER_TENANT" in text
    assert "1 SQS mappings, 2 API routes, 1 function URLs; 2 durable functions" in text  # tractorPartsOrder too
