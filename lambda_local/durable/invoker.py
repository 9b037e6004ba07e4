"""AWS's `LambdaInvoker` (each handler invocation an Invoke of the plane's Invoke API), noting what a handler
invocation that failed (`FunctionError`: the runtime exited, ran out of memory, timed out) failed with:
the function's own error, its request id and its start and end. The runner reads the Invoke's answer
itself and raises its own wrapper (`DurableFunctionsTestError`, the function's error as text in its
message), which is all its executor passes on; LocalExecutor._retry_after_error takes the note instead, so
the history's InvocationCompleted has the function's error (`Runtime.ExitError`), as Lambda's does
(history.py, fix B: step 1-17, 1-18; child 3-12).
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import ErrorObject
from aws_durable_execution_sdk_python_testing.checkpoint.processor import DEFAULT_MAX_INVOCATION_PAGE_BYTES
from aws_durable_execution_sdk_python_testing.invoker import (
    DEFAULT_LAMBDA_READ_TIMEOUT_SECONDS,
    LambdaInvoker,
    create_lambda_client,
)


@dataclass(frozen=True)
class FailedInvocation:
    """A handler invocation that answered with a function error."""

    error: ErrorObject
    request_id: str | None
    start: datetime
    end: datetime


def function_error(body: bytes) -> ErrorObject:
    """A function error's body (`{"errorType", "errorMessage", "stackTrace"}`) as an error object."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return ErrorObject(message=body.decode("utf-8", "replace"), type="Unhandled", data=None, stack_trace=None)
    trace = data.get("stackTrace")
    return ErrorObject(
        message=str(data["errorMessage"]) if data.get("errorMessage") is not None else None,
        type=str(data["errorType"]) if data.get("errorType") is not None else "Unhandled",
        data=None,
        stack_trace=[str(line) for line in trace] if isinstance(trace, list) else None,
    )


class NotingClient:
    """A Lambda client whose Invoke notes a function error for its execution, then answers as the client."""

    def __init__(self, client: Any, execution_arn: str, invoker: LocalInvoker) -> None:
        self._client = client
        self._arn = execution_arn
        self._invoker = invoker

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)  # `exceptions` and the rest: the client's

    def invoke(self, **kwargs: Any) -> Any:
        self._invoker.take_failure(self._arn)  # a note left by an invocation given up on is not this one's
        start = datetime.now(UTC)
        response = self._client.invoke(**kwargs)
        if "FunctionError" in response:
            body: bytes = response["Payload"].read()
            response["Payload"] = io.BytesIO(body)  # read again by the runner
            request_id = response.get("ResponseMetadata", {}).get("RequestId")
            self._invoker.note(self._arn, FailedInvocation(function_error(body), request_id, start, datetime.now(UTC)))
        return response


class LocalInvoker(LambdaInvoker):
    """The runner's invoker, whose handler invocations note their function errors (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._failures: dict[str, FailedInvocation] = {}
        self._failures_lock = threading.Lock()

    @staticmethod
    def create(
        endpoint_url: str,
        region_name: str,
        max_page_bytes: int = DEFAULT_MAX_INVOCATION_PAGE_BYTES,
        read_timeout_seconds: int = DEFAULT_LAMBDA_READ_TIMEOUT_SECONDS,
    ) -> LocalInvoker:
        """As the runner's `LambdaInvoker.create`."""
        return LocalInvoker(
            create_lambda_client(endpoint_url, region_name, read_timeout_seconds),
            max_page_bytes=max_page_bytes,
            read_timeout_seconds=read_timeout_seconds,
            endpoint_url=endpoint_url,
            region_name=region_name,
        )

    def _get_client_for_execution(
        self, durable_execution_arn: str, lambda_endpoint: str | None = None, region_name: str | None = None
    ) -> Any:
        client = super()._get_client_for_execution(durable_execution_arn, lambda_endpoint, region_name)
        return NotingClient(client, durable_execution_arn, self)

    def note(self, execution_arn: str, failure: FailedInvocation) -> None:
        with self._failures_lock:
            self._failures[execution_arn] = failure

    def take_failure(self, execution_arn: str) -> FailedInvocation | None:
        """The function error of the execution's last handler invocation, if it had one (once)."""
        with self._failures_lock:
            return self._failures.pop(execution_arn, None)
