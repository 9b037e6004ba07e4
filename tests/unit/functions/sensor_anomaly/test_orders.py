"""How sensor-anomaly starts an incident's spare-part order: tractorPartsOrder's durable execution, named after
the incident, with a request that parts-order reads (the contract between the two functions' images), and
Lambda's answers to an Invoke of it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ClientError

from parts_order import OrderRequest
from shared import clients
from telemetry import Incident, execution_name, order_id, order_request
from telemetry_store import start_order
from tests.support.handlers import reset_caches

INCIDENT = Incident(
    tractor_id="T-003",
    sensor="bearing_temp",
    part="wheel-bearing",
    incident_id="2026-05-04T06:05:00Z",
    detected_ts="2026-05-04T06:05:20Z",
    value=71.8,
    unit="°C",
    z=21.43712,
    mean=55.0612,
    stddev=0.78149,
    samples=30,
)
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # botocore's DurableExecutionName


def test_the_request_is_what_parts_order_reads() -> None:
    request = OrderRequest.from_event(json.loads(json.dumps(order_request(INCIDENT))))
    assert (request.order_id, request.tractor_id, request.part, request.incident) == (
        order_id(INCIDENT),
        "T-003",
        "wheel-bearing",
        "2026-05-04T06:05:00Z",
    )
    assert (request.z, request.baseline) == (21.437, {"mean": 55.061, "stddev": 0.781, "samples": 30})
    no_spread = order_request(replace(INCIDENT, z=float("inf")))
    assert no_spread["z"] is None and OrderRequest.from_event(no_spread).z is None


def test_the_execution_name_is_the_incidents_own_and_a_valid_one() -> None:
    name = execution_name(INCIDENT)
    assert NAME.fullmatch(name) and name.startswith("T-003-wheel-bearing-")
    assert execution_name(replace(INCIDENT)) == name  # a replayed incident: the same execution
    later = replace(INCIDENT, incident_id="2026-05-04T09:00:00Z")
    assert execution_name(later) != name
    long = replace(INCIDENT, tractor_id="T." + "9" * 62)
    assert NAME.fullmatch(execution_name(long))


class RawBody:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@contextmanager
def lambda_answers(status: int, error: str | None = None) -> Iterator[list[AWSPreparedRequest]]:
    """Lambda's answer to every Invoke the function's client sends: `status`, with `error` as its error type."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    reset_caches()
    sent: list[AWSPreparedRequest] = []
    body = json.dumps({"Type": "User", "message": f"{error}: already"}).encode() if error else b""

    def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, status, {"x-amzn-ErrorType": error} if error else {}, RawBody(body))

    lam = clients.client("lambda")
    lam.meta.events.register("before-send.lambda.Invoke", answer)
    try:
        yield sent
    finally:
        lam.meta.events.unregister("before-send.lambda.Invoke", answer)
        monkeypatch.undo()
        reset_caches()


def test_an_accepted_invoke_is_a_started_order() -> None:
    with lambda_answers(202) as sent:
        assert start_order("tractorPartsOrder", INCIDENT) == "started"
    [request] = sent
    assert request.url.endswith("/functions/tractorPartsOrder/invocations?Qualifier=%24LATEST")
    assert request.headers["X-Amz-Durable-Execution-Name"] == execution_name(INCIDENT).encode()
    assert json.loads(request.body or b"") == json.loads(json.dumps(order_request(INCIDENT)))


def test_a_name_taken_with_another_input_is_an_order_started_before() -> None:
    with lambda_answers(409, "DurableExecutionAlreadyStartedException"):
        assert start_order("tractorPartsOrder", INCIDENT) == "already-started"


def test_any_other_refusal_fails_the_series_for_a_retry() -> None:
    with lambda_answers(404, "ResourceNotFoundException"), pytest.raises(ClientError, match="ResourceNotFound"):
        start_order("tractorPartsOrder", INCIDENT)
