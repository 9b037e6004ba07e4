"""`make executions`, `make callback` and `make resume-wait`: what they send to the plane and print."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from lambda_local.providers import load
from lambda_local.settings import ROOT
from tools import durable

PROBE = load(ROOT / "tests" / "support" / "durable" / "template.yaml")
ROW = {
    "DurableExecutionArn": "arn:aws:lambda:us-east-1:111111111111:function:durable-probe:$LATEST/durable-execution/o/i",
    "DurableExecutionName": "order-7",
    "Status": "RUNNING",
    "AgeSeconds": 5400.0,
    "WaitingFor": [
        {"operationId": "w", "name": "pause", "kind": "wait", "until": "2026-11-20T13:00:00Z"},
        {"operationId": "c", "name": "approval", "kind": "callback", "callbackId": "cb-1"},
    ],
}


class Client:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda **kwargs: self.calls.append((name, kwargs))


@pytest.fixture
def plane(monkeypatch):  # type: ignore[no-untyped-def]
    sent: list[tuple[str, Any]] = []
    client = Client()

    def answer(path: str, body: Any = None) -> Any:
        sent.append((path, body))
        if path.startswith("/_local/durable/executions"):
            return {"executions": [ROW]}
        return {"resumed": ["w"], "execution": {"Status": "RUNNING"}}

    monkeypatch.setattr(durable, "_plane", answer)
    monkeypatch.setattr(durable, "_lambda", lambda: client)
    monkeypatch.setattr(durable, "port_open", lambda port: True)
    monkeypatch.setattr(durable, "by_name", PROBE.function)
    return SimpleNamespace(sent=sent, client=client)


def test_executions_lists_status_age_and_what_each_waits_for(plane, capsys):  # type: ignore[no-untyped-def]
    durable.executions("DurableProbe")
    out = capsys.readouterr().out
    assert plane.sent == [("/_local/durable/executions?function=durable-probe", None)]
    assert "RUNNING      1.5h  order-7  wait pause until 2026-11-20T13:00:00Z; callback approval (ID=cb-1)" in out
    assert ROW["DurableExecutionArn"] in out
    with pytest.raises(SystemExit, match="not a durable function"):
        durable.executions("durable-target")


def test_a_callback_is_answered_with_lambdas_calls(plane):  # type: ignore[no-untyped-def]
    durable.callback("cb-1", "approved", None, False)
    durable.callback("cb-1", None, "out of stock", False)
    durable.callback("cb-1", None, '{"ErrorType": "Declined", "ErrorMessage": "no"}', False)
    durable.callback("cb-1", None, None, True)
    assert plane.client.calls == [
        ("send_durable_execution_callback_success", {"CallbackId": "cb-1", "Result": b"approved"}),
        (
            "send_durable_execution_callback_failure",
            {"CallbackId": "cb-1", "Error": {"ErrorType": "CallbackFailed", "ErrorMessage": "out of stock"}},
        ),
        (
            "send_durable_execution_callback_failure",
            {"CallbackId": "cb-1", "Error": {"ErrorType": "Declined", "ErrorMessage": "no"}},
        ),
        ("send_durable_execution_callback_heartbeat", {"CallbackId": "cb-1"}),
    ]
    with pytest.raises(SystemExit, match="one of"):
        durable.callback("cb-1", "a", "b", False)


def test_resume_wait_asks_the_plane_to_end_the_wait_now(plane, capsys):  # type: ignore[no-untyped-def]
    durable.resume_wait("arn-1", "w")
    assert plane.sent == [("/_local/durable/resume", {"arn": "arn-1", "operationId": "w"})]
    assert capsys.readouterr().out.strip() == "resumed w: RUNNING"
