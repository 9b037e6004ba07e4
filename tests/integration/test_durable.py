"""Durable functions through a second local plane serving the durable probe template (tests/support/durable),
driven as a user drives Lambda: boto3's `lambda` client with the plane as its endpoint. A workflow's
steps show in its history; a wait of an hour is resumed now by time control; a callback sent with boto3
resumes its execution; a SIGKILL of the plane mid-wait loses nothing (the wait that came due while it
was down runs at the next start, a callback sent after the restart resumes its execution); Stop;
DurableExecutionName idempotency; Lambda's refusals. The probe plane needs no AWS resource: these tests
run without the project's stack."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.probe_plane import INVOKE_PORT, ProbePlane, durable_plane, lambda_client, wait_for

pytestmark = pytest.mark.integration
ENDPOINT = f"http://127.0.0.1:{INVOKE_PORT}"


@pytest.fixture(scope="module", autouse=True)
def running_stack() -> None:
    """The probe plane alone serves these tests (the conftest's stack is not needed; in Docker mode the probe
    plane starts it when none runs: its network and `aws` are the stack's)."""


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    yield from durable_plane(tmp_path_factory.mktemp("durable-plane"))


@pytest.fixture(scope="module")
def lam() -> Any:
    return lambda_client()


def local(path: str, body: Any = None) -> tuple[int, Any]:
    """The plane's control endpoints (what `make executions` and the console use)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(ENDPOINT + path, data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def start(lam: Any, function: str, event: dict[str, Any], **options: Any) -> str:
    answer = lam.invoke(
        FunctionName=f"{function}:$LATEST", InvocationType="Event", Payload=json.dumps(event).encode(), **options
    )
    assert answer["StatusCode"] == 202
    return str(answer["DurableExecutionArn"])


def waiting(arn: str, kind: str) -> dict[str, Any] | None:
    """What the execution waits for, once it is `kind` (wait, callback, ...)."""
    function = arn.split(":function:", 1)[1].split(":", 1)[0]
    _, listing = local(f"/_local/durable/executions?function={function}")
    for row in listing["executions"]:
        if row["DurableExecutionArn"] == arn:
            found = [w for w in row["WaitingFor"] if w["kind"] == kind]
            return found[0] if found else None
    return None


def closed(lam: Any, arn: str, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        execution = lam.get_durable_execution(DurableExecutionArn=arn)
        return execution if execution["Status"] != "RUNNING" else None

    found: dict[str, Any] = wait_for(done, timeout, f"{arn} to close")
    return found


def events(lam: Any, arn: str) -> list[tuple[str, str | None]]:
    history = lam.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)
    return [(e["EventType"], e.get("Name")) for e in history["Events"]]


def test_a_synchronous_invoke_answers_the_workflows_result_and_its_history_shows_each_step(plane, lam):  # type: ignore[no-untyped-def]
    event = {"steps": ["reserve", "charge"], "invoke": "durable-target", "value": 21}
    answer = lam.invoke(FunctionName="durable-probe", Qualifier="$LATEST", Payload=json.dumps(event).encode())
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {
        "steps": ["reserve done", "charge done"],
        "approval": None,
        "invoked": {"doubled": 42},  # the chained invoke of a plain function, through the plane's pool
    }
    arn = answer["DurableExecutionArn"]
    assert arn.startswith("arn:aws:lambda:us-east-1:") and ":function:durable-probe:$LATEST/durable-execution/" in arn
    execution = lam.get_durable_execution(DurableExecutionArn=arn)
    assert (execution["Status"], json.loads(execution["InputPayload"])) == ("SUCCEEDED", event)
    kinds = [kind for kind, _ in events(lam, arn) if kind != "InvocationCompleted"]
    assert kinds == [
        "ExecutionStarted",
        "StepStarted",
        "StepSucceeded",
        "StepStarted",
        "StepSucceeded",
        "ChainedInvokeStarted",
        "ChainedInvokeSucceeded",
        "ExecutionSucceeded",
    ]
    assert [name for kind, name in events(lam, arn) if kind == "StepSucceeded"] == ["reserve", "charge"]
    listed = lam.list_durable_executions_by_function(FunctionName="durable-probe", Statuses=["SUCCEEDED"])
    assert arn in [e["DurableExecutionArn"] for e in listed["DurableExecutions"]]


def test_an_environment_that_dies_mid_step_replays_from_the_last_checkpoint(plane, lam):  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:8]
    event = {"steps": ["reserve", "charge"], "tag": tag, "crash_in": "charge"}
    answer = lam.invoke(FunctionName="durable-probe:$LATEST", Payload=json.dumps(event).encode())
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read())["steps"] == ["reserve done", "charge done"]

    def runs() -> list[str] | None:
        log = plane.state / "logs" / "durable-probe.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        found = [line.split()[-1] for line in text.splitlines() if f"step run {tag} " in line]
        return found if len(found) >= 3 else None  # Docker mode: the log lines come over syslog

    assert wait_for(runs, 10, "the probe's step runs in its log") == ["reserve", "charge", "charge"]  # reserve ran once


def test_a_chained_invoke_of_a_durable_function_is_an_execution_of_its_own(plane, lam):  # type: ignore[no-untyped-def]
    arn = start(lam, "durable-long", {"invoke": "durable-probe", "value": 3})
    execution = closed(lam, arn)
    assert json.loads(execution["Result"])["invoked"] == {"steps": [], "approval": None, "invoked": None}
    history = lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
    (child,) = [e for e in history if e["EventType"] == "ChainedInvokeStarted"]
    child_arn = child["ChainedInvokeStartedDetails"]["DurableExecutionArn"]
    assert ":function:durable-probe:$LATEST/durable-execution/" in child_arn
    child_execution = lam.get_durable_execution(DurableExecutionArn=child_arn)
    assert (child_execution["Status"], json.loads(child_execution["InputPayload"])) == ("SUCCEEDED", {"value": 3})


def test_a_wait_of_an_hour_is_resumed_now_with_time_control(plane, lam):  # type: ignore[no-untyped-def]
    arn = start(lam, "durable-long", {"steps": ["before"], "wait_s": 3600})
    wait = wait_for(lambda: waiting(arn, "wait"), 30, "the wait")
    assert datetime.fromisoformat(wait["until"].replace("Z", "+00:00")) > datetime.now(UTC)
    status, resumed = local("/_local/durable/resume", {"arn": arn})
    assert status == 200 and resumed["resumed"] == [wait["operationId"]]
    assert closed(lam, arn)["Status"] == "SUCCEEDED"
    assert ("WaitSucceeded", "pause") in events(lam, arn)


def test_a_callback_sent_with_boto3_resumes_its_execution_and_a_failure_fails_it(plane, lam):  # type: ignore[no-untyped-def]
    approved = start(lam, "durable-long", {"callback": True})
    declined = start(lam, "durable-long", {"callback": True})
    for arn in (approved, declined):
        wait_for(lambda arn=arn: waiting(arn, "callback"), 30, "the callback")
    history = lam.get_durable_execution_history(DurableExecutionArn=approved)["Events"]
    (callback,) = [e["CallbackStartedDetails"]["CallbackId"] for e in history if e["EventType"] == "CallbackStarted"]
    lam.send_durable_execution_callback_heartbeat(CallbackId=callback)
    lam.send_durable_execution_callback_success(CallbackId=callback, Result=b"approved by the supplier")
    execution = closed(lam, approved)
    assert execution["Status"] == "SUCCEEDED"
    assert json.loads(execution["Result"])["approval"] == "approved by the supplier"
    refused = waiting(declined, "callback")
    assert refused is not None
    lam.send_durable_execution_callback_failure(
        CallbackId=refused["callbackId"], Error={"ErrorType": "Declined", "ErrorMessage": "out of stock"}
    )
    failed = closed(lam, declined)
    assert failed["Status"] == "FAILED" and failed["Error"]["ErrorMessage"] == "out of stock"


def test_a_sigkill_of_the_plane_mid_wait_loses_nothing(plane, lam):  # type: ignore[no-untyped-def]
    due = start(lam, "durable-long", {"steps": ["a"], "wait_s": 4, "callback": True})
    wait = wait_for(lambda: waiting(due, "wait"), 30, "the wait")
    plane.kill()  # nothing gets to save anything
    until = datetime.fromisoformat(wait["until"].replace("Z", "+00:00"))
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.5)  # the wait comes due while down
    plane.start()
    callback = wait_for(lambda: waiting(due, "callback"), 30, "the wait to run at the start, then the callback")
    plane.kill()  # and once more, mid-callback: the callback sent after this restart resumes the execution
    plane.start()
    lam.send_durable_execution_callback_success(CallbackId=callback["callbackId"], Result=b"ok")
    execution = closed(lam, due)
    assert execution["Status"] == "SUCCEEDED"
    assert json.loads(execution["Result"]) == {"steps": ["a done"], "approval": "ok", "invoked": None}
    assert [kind for kind, name in events(lam, due) if name == "a"] == ["StepStarted", "StepSucceeded"]  # once


def test_stop_ends_an_execution_and_its_callback_is_then_refused(plane, lam):  # type: ignore[no-untyped-def]
    arn = start(lam, "durable-long", {"callback": True})
    callback = wait_for(lambda: waiting(arn, "callback"), 30, "the callback")
    stopped = lam.stop_durable_execution(
        DurableExecutionArn=arn, Error={"ErrorType": "Cancelled", "ErrorMessage": "the order was cancelled"}
    )
    assert stopped["StopTimestamp"]
    execution = lam.get_durable_execution(DurableExecutionArn=arn)
    assert (execution["Status"], execution["Error"]["ErrorMessage"]) == ("STOPPED", "the order was cancelled")
    with pytest.raises(ClientError):
        lam.send_durable_execution_callback_success(CallbackId=callback["callbackId"], Result=b"late")
    assert events(lam, arn)[-1][0] == "ExecutionStopped"


def test_the_same_execution_name_and_input_is_one_execution(plane, lam):  # type: ignore[no-untyped-def]
    first = start(lam, "durable-long", {"callback": True, "order": 7}, DurableExecutionName="order-7")
    again = start(lam, "durable-long", {"order": 7, "callback": True}, DurableExecutionName="order-7")
    assert again == first and "/durable-execution/order-7/" in first
    with pytest.raises(ClientError) as other:
        start(lam, "durable-long", {"callback": True, "order": 8}, DurableExecutionName="order-7")
    assert other.value.response["Error"]["Code"] == "DurableExecutionAlreadyStartedException"
    listed = lam.list_durable_executions_by_function(FunctionName="durable-long", DurableExecutionName="order-7")
    assert [e["DurableExecutionArn"] for e in listed["DurableExecutions"]] == [first]
    lam.stop_durable_execution(DurableExecutionArn=first)


def test_lambdas_refusals_and_the_execution_timeout(plane, lam):  # type: ignore[no-untyped-def]
    def code(**invoke: Any) -> str:
        with pytest.raises(ClientError) as refused:
            lam.invoke(Payload=b"{}", **invoke)
        return str(refused.value.response["Error"]["Code"])

    assert code(FunctionName="durable-probe") == "InvalidParameterValueException"  # unqualified
    assert code(FunctionName="durable-long:$LATEST") == "InvalidParameterValueException"  # sync beyond 15 minutes
    assert code(FunctionName="durable-probe:$LATEST", DurableExecutionName="has space") == "ValidationException"
    missing = start(lam, "durable-long", {}).replace("durable-long:$LATEST", "durable-probe:$LATEST")
    with pytest.raises(ClientError) as gone:
        lam.get_durable_execution(DurableExecutionArn=missing)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    answer = lam.invoke(FunctionName="durable-short:$LATEST", Payload=json.dumps({"wait_s": 60}).encode())
    assert answer["FunctionError"] == "Unhandled"
    assert lam.get_durable_execution(DurableExecutionArn=answer["DurableExecutionArn"])["Status"] == "TIMED_OUT"


def test_pause_holds_an_execution_resume_lets_it_go_and_delete_removes_a_closed_one(plane, lam):  # type: ignore[no-untyped-def]
    arn = start(lam, "durable-long", {"wait_s": 3600})
    wait_for(lambda: waiting(arn, "wait"), 30, "the wait")
    lam.pause_durable_execution(DurableExecutionArn=arn)
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Status"] == "PAUSED"
    with pytest.raises(ClientError) as running:
        lam.delete_durable_execution(DurableExecutionArn=arn)
    assert running.value.response["Error"]["Code"] == "ResourceConflictException"
    local("/_local/durable/resume", {"arn": arn})  # the wait ends; the paused execution is not invoked
    lam.resume_durable_execution(DurableExecutionArn=arn)
    assert closed(lam, arn)["Status"] == "SUCCEEDED"
    assert lam.delete_durable_execution(DurableExecutionArn=arn)["DeletionRequestTimestamp"]
    with pytest.raises(ClientError):
        lam.get_durable_execution(DurableExecutionArn=arn)


def test_the_shell_commands_list_answer_and_resume_and_make_invoke_prints_the_execution(  # type: ignore[no-untyped-def]
    plane, lam, monkeypatch, capsys, tmp_path
):
    from stack import moto
    from tools import durable
    from tools import stack as commands

    probe = plane.template.function
    for module in (durable, commands):  # the commands, pointed at the probe plane instead of the stack's
        monkeypatch.setattr(module, "LAMBDA_ENDPOINT", ENDPOINT)
        monkeypatch.setattr(module, "LAMBDA_PORT", INVOKE_PORT)
        monkeypatch.setattr(module, "by_name", probe)
    monkeypatch.setattr(durable, "_lambda", lambda: moto.client("lambda", endpoint=ENDPOINT))
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"steps": ["s"], "wait_s": 3600, "callback": True}))
    commands._invoke("durable-long", str(event))  # more than 15 minutes allowed: started with Event
    out, err = capsys.readouterr()
    arn = err.split("durable execution ", 1)[1].split()[0]
    assert "make executions FUNCTION=durable-probe" in out
    wait_for(lambda: waiting(arn, "wait"), 30, "the wait")
    durable.executions("durable-long")
    assert "wait pause until" in capsys.readouterr().out
    durable.resume_wait(arn, None)
    callback = wait_for(lambda: waiting(arn, "callback"), 30, "the callback")
    durable.executions("durable-long")
    assert f"(ID={callback['callbackId']})" in capsys.readouterr().out
    durable.callback(callback["callbackId"], '"shipped"', None, False)
    assert capsys.readouterr().out.startswith("callback succeeded")
    assert closed(lam, arn)["Status"] == "SUCCEEDED"
    event.write_text(json.dumps({"steps": ["s"]}))
    commands._invoke("durable-probe", str(event))  # within 15 minutes: waited for, its result printed
    out, err = capsys.readouterr()
    assert json.loads(out)["steps"] == ["s done"] and "durable execution arn:aws:lambda:" in err
