"""The engine: what it refuses on an Invoke (Lambda's errors), DurableExecutionName idempotency, the
synchronous answer, waiting for an execution to close, the template as the runner's function
configurations, and retention. Its handler invocations go to an endpoint where nothing listens: these
tests start executions, they do not run them (test_executor.py does)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aws_durable_execution_sdk_python.lambda_service import ErrorObject
from aws_durable_execution_sdk_python_testing.execution import Execution
from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput

from lambda_local.durable import DurableEngine, DurableError, sync_answer
from lambda_local.durable.engine import check_name, function_configs, same_input
from lambda_local.providers import load
from lambda_local.settings import LOOPBACK, ROOT

TEMPLATE = load(ROOT / "tests" / "support" / "durable" / "template.yaml")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def engine(tmp_path) -> Iterator[DurableEngine]:  # type: ignore[no-untyped-def]
    made = DurableEngine(TEMPLATE.functions, tmp_path, f"http://{LOOPBACK}:{closed_port()}", "us-east-1", "1" * 12)
    assert made.start() == 0
    yield made
    made.stop()


def refused(engine: DurableEngine, *args: object) -> DurableError:
    with pytest.raises(DurableError) as caught:
        engine.start_execution(*args)  # type: ignore[arg-type]
    return caught.value


def test_an_invoke_lambda_refuses_is_refused_with_lambdas_error(engine):  # type: ignore[no-untyped-def]
    unqualified = refused(engine, "durable-probe", None, b"{}", None, False)
    assert (unqualified.status, unqualified.error_type) == (400, "InvalidParameterValueException")
    assert unqualified.message == "You cannot invoke a durable function using an unqualified ARN."
    too_long = refused(engine, "durable-long", "$LATEST", b"{}", None, True)
    assert too_long.message == (
        "You cannot synchronously invoke a durable function with an executionTimeout greater than 15 minutes."
    )
    assert engine.start_execution("durable-long", "$LATEST", b"{}", None, False).new  # Event: allowed
    bad_name = refused(engine, "durable-probe", "$LATEST", b"{}", "has space", False)
    assert (bad_name.status, bad_name.error_type) == (400, "ValidationException")
    plain = refused(engine, "durable-target", "$LATEST", b"{}", None, False)
    assert plain.status == 404


def test_the_same_name_and_input_is_the_same_execution_another_input_a_conflict(engine):  # type: ignore[no-untyped-def]
    first = engine.start_execution("durable-long", "$LATEST", b'{"a": 1, "b": 2}', "order-7", False)
    again = engine.start_execution("durable-long", "$LATEST", b'{"b": 2, "a": 1}', "order-7", False)
    assert first.new and not again.new and again.arn == first.arn
    assert "/durable-execution/order-7/" in first.arn
    other = refused(engine, "durable-long", "$LATEST", b'{"a": 2}', "order-7", False)
    assert (other.status, other.error_type) == (409, "DurableExecutionAlreadyStartedException")
    assert first.arn in other.message
    elsewhere = engine.start_execution("durable-probe", "$LATEST", b'{"a": 2}', "order-7", False)
    assert elsewhere.new  # a name is the function's own


def test_a_synchronous_invoke_waits_for_the_execution_to_close(engine):  # type: ignore[no-untyped-def]
    started = engine.start_execution("durable-probe", "$LATEST", b"{}", None, True)

    async def wait() -> Execution:
        waiting = asyncio.create_task(engine.closed(started.arn, timeout=30))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await asyncio.to_thread(engine.executor.stop_execution, started.arn)
        return await waiting

    execution = asyncio.run(wait())
    assert execution.current_status().value == "STOPPED"
    body, error = sync_answer(execution)
    assert error == "Unhandled"
    assert json.loads(body)["errorMessage"] == "Execution stopped by user request"


def test_the_synchronous_answer_is_the_result_or_the_error():  # type: ignore[no-untyped-def]
    start = StartDurableExecutionInput("1" * 12, "f", "$LATEST", "n", 60, 1, invocation_id="i")
    succeeded = Execution("a", start, [])
    succeeded.start()
    succeeded.complete_success('{"total": 3}')
    assert sync_answer(succeeded) == (b'{"total": 3}', None)
    failed = Execution("b", start, [])
    failed.start()
    failed.complete_fail(ErrorObject("card declined", "PaymentError", None, ["at charge"]))
    body, error = sync_answer(failed)
    assert error == "Unhandled"
    assert json.loads(body) == {
        "errorType": "PaymentError",
        "errorMessage": "card declined",
        "stackTrace": ["at charge"],
    }
    timed_out = Execution("c", start, [])
    timed_out.start()
    timed_out.complete_timeout(ErrorObject(None, None, None, None))
    assert json.loads(sync_answer(timed_out)[0])["errorType"] == "ExecutionTimedOut"


def test_retention_deletes_what_closed_longer_ago_than_its_days(engine):  # type: ignore[no-untyped-def]
    started = engine.start_execution("durable-probe", "$LATEST", b"{}", None, False)
    engine.executor.stop_execution(started.arn)
    assert engine.sweep() == 0
    # Two days pass. The invocation the stop interrupted (to a closed port here) may still write the
    # execution back once as it fails, over an edit made before: edit again until the edit holds.
    deadline, swept = time.monotonic() + 10, 0
    while not swept and time.monotonic() < deadline:
        execution = engine.store.load(started.arn)
        execution.operations[0] = execution.operations[0].__class__(
            **{**execution.operations[0].__dict__, "end_timestamp": datetime.now(UTC) - timedelta(days=2)}
        )
        engine.store.save(execution)
        swept = engine.sweep()
        time.sleep(0 if swept else 0.2)
    assert swept == 1  # durable-probe keeps its history one day
    assert engine.summaries("durable-probe") == []


def test_names_and_inputs_as_lambda_reads_them():  # type: ignore[no-untyped-def]
    check_name("order-7_a")
    for bad in ("", "a" * 65, "a b", "ünï"):
        with pytest.raises(DurableError):
            check_name(bad)
    assert same_input('{"a": [1, 2]}', '{ "a": [1,2] }')
    assert not same_input('{"a": 1}', '{"a": 2}')
    assert same_input(None, "{}")


def test_the_template_is_the_runners_function_configurations():  # type: ignore[no-untyped-def]
    configs = function_configs(TEMPLATE.functions).by_name
    assert configs["durable-probe"].is_durable
    assert (configs["durable-probe"].execution_timeout_seconds, configs["durable-probe"].retention_period_days) == (
        900,
        1,
    )
    assert configs["durable-long"].execution_timeout_seconds == 86400
    assert not configs["durable-target"].is_durable
