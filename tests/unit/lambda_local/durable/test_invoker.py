"""The runner's Lambda invoker noting a handler invocation's function error (the history's InvocationCompleted
Error, as Lambda records it: step 1-17, 1-18), and the store keeping it."""

from __future__ import annotations

import io
import json
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import ErrorObject

from lambda_local.durable.invoker import LocalInvoker, NotingClient, function_error
from lambda_local.durable.store import LocalStore

ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST/durable-execution/run/1"


class FakeClient:
    """A Lambda client answering each Invoke with `answer`."""

    exceptions = "the client's"

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer

    def invoke(self, **_: Any) -> dict[str, Any]:
        return self.answer


def invoker() -> LocalInvoker:
    return LocalInvoker(FakeClient({}), endpoint_url="http://plane.invalid", region_name="us-east-1")


def test_a_function_error_is_noted_with_its_own_type_and_the_answer_still_read() -> None:
    body = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": "Runtime exited with error: exit status 1"})
    answer = {
        "FunctionError": "Unhandled",
        "Payload": io.BytesIO(body.encode()),
        "ResponseMetadata": {"RequestId": "r1"},
    }
    noting = invoker()
    client = NotingClient(FakeClient(answer), ARN, noting)
    response = client.invoke(FunctionName="fn")
    assert response["Payload"].read().decode() == body  # the runner reads the answer as before
    assert client.exceptions == "the client's"
    failure = noting.take_failure(ARN)
    assert failure is not None and failure.request_id == "r1" and failure.start <= failure.end
    assert (failure.error.type, failure.error.message) == (
        "Runtime.ExitError",
        "Runtime exited with error: exit status 1",
    )
    assert noting.take_failure(ARN) is None  # taken once


def test_an_answer_without_a_function_error_notes_nothing() -> None:
    noting = invoker()
    NotingClient(FakeClient({"Payload": io.BytesIO(b"{}")}), ARN, noting).invoke(FunctionName="fn")
    assert noting.take_failure(ARN) is None


def test_a_body_that_is_not_lambdas_error_shape_is_kept_as_its_message() -> None:
    assert function_error(b"boom").type == "Unhandled"
    assert function_error(b"boom").message == "boom"
    assert function_error(b'{"errorMessage": "m", "stackTrace": ["a"]}').stack_trace == ["a"]


def test_the_store_keeps_an_invocations_error_until_its_execution_is_deleted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore.open(tmp_path)
    store.save_invocation_error(ARN, "r1", ErrorObject("exited", "Runtime.ExitError", None, None))
    assert LocalStore.open(tmp_path).invocation_errors(ARN) == {
        "r1": ErrorObject("exited", "Runtime.ExitError", None, None)
    }
    store.delete(ARN)
    assert store.invocation_errors(ARN) == {}
