"""Tenant isolation (`TenancyConfig: {TenantIsolationMode: PER_TENANT}`), as Lambda runs it: every invoke
names its tenant (X-Amz-Tenant-Id / boto3's TenantId; Lambda's InvalidParameterValueException without one),
an environment serves one tenant all its life and is reused warm for that tenant only, the function sees its
tenant in `context.tenant_id` (sync, `Event` and through a REST API), and the plane lists environments by
tenant."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.docker_probe import probe_plane_for_mode
from tests.support.probe_plane import API_PORT, INVOKE_PORT, ProbePlane, one_function_project, wait_for

pytestmark = pytest.mark.integration

APP = """\
import json
import uuid

STARTED = uuid.uuid4().hex  # one per environment (a process id is not: in containers it is the same)


def handler(event, context):
    print(f"tenant {context.tenant_id} in {STARTED}")
    answer = {"tenant": context.tenant_id, "environment": STARTED}
    if "httpMethod" in event:  # through the REST API: a proxy integration's answer
        return {"statusCode": 200, "body": json.dumps(answer)}
    return answer
"""

PROPERTIES = """TenancyConfig: {TenantIsolationMode: PER_TENANT}
Events:
  Rest:
    Type: Api
    Properties: {Path: /work, Method: POST}"""


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    root = tmp_path_factory.mktemp("tenants")
    one_function_project(root, "tenants", "tenantProbe", APP, PROPERTIES)
    probe = probe_plane_for_mode(root / "state", template=root / "template.yaml")  # in the stack's mode
    try:
        probe.start()
        yield probe
    finally:
        probe.stop()


def invoke(headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{INVOKE_PORT}/2015-03-31/functions/tenantProbe/invocations",
        data=b"{}",
        method="POST",
        headers=headers or {},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                json.loads(body) if body else None,
            )
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, json.loads(error.read() or b"null")


def test_an_invoke_without_a_tenant_is_refused_as_lambda_refuses_it(plane: ProbePlane) -> None:
    status, headers, body = invoke()
    assert status == 400 and headers["x-amzn-errortype"] == "InvalidParameterValueException"
    assert "Tenant ID configuration not specified" in body["message"]
    status, _, body = invoke({"X-Amz-Tenant-Id": "semi;colon"})
    assert status == 400 and "TenantId must be" in body["message"]


def test_environments_are_never_shared_across_tenants_and_reused_warm_for_one(plane: ProbePlane) -> None:
    client = boto3.client(
        "lambda",
        endpoint_url=f"http://127.0.0.1:{INVOKE_PORT}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )
    seen = []
    for tenant in ("blue", "green", "blue", "green"):
        answer = json.loads(client.invoke(FunctionName="tenantProbe", TenantId=tenant)["Payload"].read())
        seen.append((answer["tenant"], answer["environment"]))
    assert [tenant for tenant, _ in seen] == ["blue", "green", "blue", "green"]
    blue = {env for tenant, env in seen if tenant == "blue"}
    green = {env for tenant, env in seen if tenant == "green"}
    assert len(blue) == 1 and len(green) == 1 and blue != green  # warm for its tenant, never the other's
    (function,) = [f for f in plane.state_of()["functions"] if f["function"] == "tenantProbe"]
    assert function["tenant_isolation"] is True
    tenants = [i["tenant"] for i in function["instances"]]  # other tests' tenants may be there too
    assert tenants.count("blue") == 1 and tenants.count("green") == 1 and None not in tenants


def test_an_event_keeps_its_tenant(plane: ProbePlane) -> None:
    status, _, _ = invoke({"X-Amz-Tenant-Id": "amber", "X-Amz-Invocation-Type": "Event"})
    assert status == 202
    log = plane.state / "logs" / "tenants.log"
    wait_for(lambda: log.exists() and "tenant amber in" in log.read_text(), 30, "the event's invocation for amber")


def test_a_rest_api_passes_the_clients_tenant_and_without_one_answers_500(plane: ProbePlane) -> None:
    def post(headers: dict[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{API_PORT}/work", data=b"{}", method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    status, body = post({"X-Amz-Tenant-Id": "teal"})
    assert status == 200 and json.loads(body)["tenant"] == "teal"
    status, _ = post({})
    assert status == 500
