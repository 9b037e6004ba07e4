"""tractorPartsOrder, the durable workflow, on the running stack, with the test as the supplier: telemetry on
the Kinesis stream makes tractorSensorAnomaly start one execution per incident; the supplier reads the
callback id from the dealer's notice (a queue subscribed to the dealer topic) and answers it with boto3's
SendDurableExecutionCallbackSuccess / Failure on the plane's Invoke endpoint, as it would on Lambda's; the
execution is found with ListDurableExecutionsByFunction. An order nobody answers is escalated by email
when its 48-hour reply window ends: brought to its end now by the plane's time control (`make resume-wait`),
the workflow's code and settings unchanged."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ClientError

from lambda_local.providers import load
from lambda_local.settings import LAMBDA_ENDPOINT, ROOT
from stack import moto
from tests.integration.test_sensor_anomaly import put_readings, settled
from tests.support.sns_tap import TopicTap, tap
from tools.simulate_tractors import fleet_readings

pytestmark = pytest.mark.integration
NAMES = load().names
FUNCTION = "tractorPartsOrder"
DEALER = f"arn:aws:sns:us-east-1:123456789012:{NAMES['DealerTopic']}"
ESCALATIONS = f"arn:aws:sns:us-east-1:123456789012:{NAMES['PartsEscalationTopic']}"
T = TypeVar("T")


@pytest.fixture(scope="module")
def lam() -> Any:
    """boto3's Lambda client on the plane's Invoke endpoint (what `aws --endpoint-url` would use)."""
    return moto.client("lambda", endpoint=LAMBDA_ENDPOINT)


@pytest.fixture
def escalations() -> Iterator[TopicTap]:
    with tap(ESCALATIONS) as subscribed:
        yield subscribed


def wait_for(found: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value is not None:
            return value
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.3)


def executions(lam: Any, prefix: str, since: datetime) -> list[dict[str, Any]]:
    """The function's executions started since `since` whose name starts with `prefix`, every page of
    ListDurableExecutionsByFunction (the plane keeps executions across stacks, for their retention)."""
    found, marker = [], None
    while True:
        page = lam.list_durable_executions_by_function(
            FunctionName=FUNCTION, StartedAfter=since, **({"Marker": marker} if marker else {})
        )
        found += [e for e in page["DurableExecutions"] if e["DurableExecutionName"].startswith(prefix)]
        marker = page.get("NextMarker")
        if not marker:
            return found


def closed(lam: Any, arn: str, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        execution: dict[str, Any] = lam.get_durable_execution(DurableExecutionArn=arn)
        return execution if execution["Status"] != "RUNNING" else None

    return wait_for(done, timeout, f"end of {arn}")


def order_item(order_id: str) -> dict[str, Any]:
    item = moto.client("dynamodb").get_item(
        TableName=NAMES["PartsOrdersTable"], Key={"order_id": {"S": order_id}}, ConsistentRead=True
    )["Item"]
    return {name: next(iter(value.values())) for name, value in item.items()}


def step_names(lam: Any, arn: str) -> list[str]:
    history = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    return [e["Name"] for e in history if e["EventType"] == "StepSucceeded"]


def test_the_supplier_confirms_one_order_and_declines_another(lam: Any, escalations: TopicTap) -> None:
    prefix, since = f"S{time.time_ns() % 10**9}-", datetime.now(UTC) - timedelta(seconds=5)
    readings = fleet_readings(2, 15, seed=5, faults={"T-001": "bearing_heat", "T-002": "hydraulic_drop"})
    for reading in readings:
        reading["tractor_id"] = prefix + reading["tractor_id"]
    with tap(DEALER) as dealer:
        settled(prefix, put_readings(readings))
        told = [json.loads(n["message"]) for n in dealer.messages(wait=60, expect=2)]
        notices = {n["tractor"]: n for n in told if n["tractor"].startswith(prefix)}
        assert sorted(notices) == [f"{prefix}T-001", f"{prefix}T-002"]
        bearing, pump = notices[f"{prefix}T-001"], notices[f"{prefix}T-002"]

        running = executions(lam, prefix, since)
        assert len(running) == 2 and {e["Status"] for e in running} == {"RUNNING"}
        arns = {  # execution names: "<tractor>-<part>-<digest of the order id>"
            tractor: e["DurableExecutionArn"]
            for e in running
            for tractor in notices
            if e["DurableExecutionName"].startswith(f"{tractor}-")
        }
        assert arns.keys() == notices.keys()
        assert order_item(bearing["order_id"])["status"] == "ORDERED"

        # The supplier: the bearing comes on the 1st of June, the pump is out of stock.
        confirmation = {"delivery_date": "2026-06-01", "reference": "SO-4711"}
        lam.send_durable_execution_callback_success(
            CallbackId=bearing["callback_id"], Result=json.dumps(confirmation).encode()
        )
        lam.send_durable_execution_callback_failure(
            CallbackId=pump["callback_id"], Error={"ErrorType": "OutOfStock", "ErrorMessage": "no pumps until July"}
        )
        confirmed, declined = closed(lam, arns[f"{prefix}T-001"]), closed(lam, arns[f"{prefix}T-002"])
        # The same telemetry again: every incident is a replay, no execution and no notice more.
        settled(prefix, put_readings(readings))
        assert len(executions(lam, prefix, since)) == 2
        assert [n for n in dealer.messages(wait=2) if json.loads(n["message"])["tractor"].startswith(prefix)] == []

    assert confirmed["Status"] == "SUCCEEDED"
    assert json.loads(confirmed["Result"]) == {
        "order_id": bearing["order_id"],
        "status": "CONFIRMED",
        "delivery_date": "2026-06-01",
        "reference": "SO-4711",
    }
    order = order_item(bearing["order_id"])
    assert (order["status"], order["delivery_date"], order["supplier_reference"]) == (
        "CONFIRMED",
        "2026-06-01",
        "SO-4711",
    )
    assert step_names(lam, arns[f"{prefix}T-001"]) == ["order", "supplier confirmation submitter", "record"]

    assert declined["Status"] == "SUCCEEDED"  # the workflow handled the refusal: the order is escalated
    assert json.loads(declined["Result"])["reason"] == "declined"
    assert order_item(pump["order_id"])["status"] == "ESCALATED"
    [email] = [m for m in escalations.messages(wait=30, expect=1) if prefix in m["message"]]
    assert email["subject"] == f"Spare part order not confirmed: hydraulic-pump for tractor {prefix}T-002"
    assert "the supplier declined: no pumps until July" in email["message"]
    assert step_names(lam, arns[f"{prefix}T-002"]) == ["order", "supplier confirmation submitter", "escalate", "record"]


def resume_now(arn: str) -> list[str]:
    """The plane's time control (`make resume-wait ARN=...`): what the execution waits for ends now."""
    request = urllib.request.Request(
        f"{LAMBDA_ENDPOINT}/_local/durable/resume",
        data=json.dumps({"arn": arn}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return list(json.load(response).get("resumed", []))
    except urllib.error.HTTPError as error:  # nothing to resume yet (409): the caller tries again
        assert error.code == 409, error.read()
        return []


def test_an_order_nobody_confirms_is_escalated_by_email_when_its_window_ends(lam: Any, escalations: TopicTap) -> None:
    request = json.loads((ROOT / "events" / "parts-order" / "order.json").read_text())
    tractor = f"N{time.time_ns() % 10**9}-T-003"
    request |= {"order_id": f"{tractor}#wheel-bearing#{request['incident']}", "tractor": tractor}
    request.pop("reply_within_s", None)  # the supplier's whole window (48 h): time control ends it
    with tap(DEALER) as dealer:
        answer = lam.invoke(
            FunctionName=FUNCTION,
            Qualifier="$LATEST",
            InvocationType="Event",
            DurableExecutionName=f"{tractor}-wheel-bearing",
            Payload=json.dumps(request).encode(),
        )
        assert answer["StatusCode"] == 202
        arn = answer["DurableExecutionArn"]
        assert f":function:{FUNCTION}:$LATEST/durable-execution/{tractor}-wheel-bearing/" in arn
        [notice] = [json.loads(n["message"]) for n in dealer.messages(wait=30, expect=1)]
    assert notice["order_id"] == request["order_id"]

    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "RUNNING"  # waiting for the supplier
    wait_for(lambda: resume_now(arn) or None, 30, "the supplier's window to be resumable")
    execution = closed(lam, arn)  # nobody answered: the two days are over now

    result = json.loads(execution["Result"])
    assert (result["order_id"], result["status"], result["reason"]) == (request["order_id"], "ESCALATED", "timeout")
    assert result["detail"].startswith("the supplier did not confirm within")
    history = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    assert "CallbackTimedOut" in [e["EventType"] for e in history]
    [email] = [m for m in escalations.messages(wait=30, expect=1) if tractor in m["message"]]
    assert "did not confirm within" in email["message"]
    order = order_item(request["order_id"])
    assert (order["status"], order["escalation_reason"], order["escalation_message_id"]) == (
        "ESCALATED",
        "timeout",
        email["message_id"],
    )
    # Too late: the supplier's answer to a closed execution is refused.
    with pytest.raises(ClientError):
        lam.send_durable_execution_callback_success(CallbackId=notice["callback_id"], Result=b"{}")
