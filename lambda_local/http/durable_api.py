"""Lambda's durable execution API on the plane's Invoke API, so boto3's `lambda` client (and the AWS CLI)
with `--endpoint-url` and the functions' own SDK (AWS_ENDPOINT_URL_LAMBDA) reach it:

    POST /2015-03-31/functions/{name}:{qualifier}/invocations      (invoke_api.py hands durable ones here)
        a durable function's Invoke starts an execution (X-Amz-Durable-Execution-Name: idempotent by name
        and input); RequestResponse answers the execution's result when it closes, Event 202 at once;
        both with X-Amz-Durable-Execution-Arn. An Invoke marked `X-Dex-Handler-Invoke: true` is the
        runner's handler invocation: invoke_api.py runs the function once, as any invocation.
    GET    /2025-12-01/durable-executions/{arn}                     GetDurableExecution
    DELETE /2025-12-01/durable-executions/{arn}                     DeleteDurableExecution
    GET    /2025-12-01/durable-executions/{arn}/history             GetDurableExecutionHistory
    GET    /2025-12-01/durable-executions/{arn}/state               GetDurableExecutionState
    POST   /2025-12-01/durable-executions/{arn}/checkpoint          CheckpointDurableExecution
    POST   /2025-12-01/durable-executions/{arn}/stop                StopDurableExecution
    POST   /2025-12-01/durable-executions/{arn}/pause               PauseDurableExecution
    POST   /2025-12-01/durable-executions/{arn}/resume              ResumeDurableExecution
    GET    /2025-12-01/functions/{name}/durable-executions          ListDurableExecutionsByFunction
    POST   /2025-12-01/durable-execution-callbacks/{id}/succeed     SendDurableExecutionCallbackSuccess
    POST   /2025-12-01/durable-execution-callbacks/{id}/fail        SendDurableExecutionCallbackFailure
    POST   /2025-12-01/durable-execution-callbacks/{id}/heartbeat   SendDurableExecutionCallbackHeartbeat

The routes are the runner's (`web/routes.py`: matched on the raw path, so an ARN's `%2F` stays in its
segment) served by the runner's handlers (`web/handlers.py`), on a thread each (they wait on the
execution's worker lane). What this module adds or adapts, and why:
- Pause/Resume/Delete: boto3 has them, the runner serves no route for them (executor.py holds them);
- `x-amzn-ErrorType`: botocore reads the error code from it (the runner's bodies name it as `Type`);
- StopDurableExecution's error: botocore sends the ErrorObject as the body, the runner reads `Error`;
- ListDurableExecutionsByFunction: boto3's `Statuses` (the runner reads `StatusFilter`), a function
  ARN as well as a name, ResourceNotFoundException for a function the template does not declare;
- GetDurableExecution: `PAUSED` for a paused execution (the runner says RUNNING);
- a raw (unencoded) execution ARN in the path is read as one segment;
- Checkpoint/GetState of no execution: Lambda's "Invalid checkpoint token" (400), not the runner's
  404 (Lambda's model has no ResourceNotFoundException for them).
The runner's own extras (StartDurableExecution, ListDurableExecutions, health, metrics, PUT
/lambda-endpoint) are not served: Lambda has no such operations, and the last would let any caller move
where the runner's invocations go.

Control, for the user's tools only (doors.py):

    GET  /_local/durable/executions[?function=NAME]   the newest executions: status, age, what each waits for
    POST /_local/durable/resume   {"arn": ..., "operationId": ... (optional)}: a pending wait (or step
        retry) completes now and the execution runs on (`make executions`, the console)
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, quote, unquote

from aws_durable_execution_sdk_python_testing.exceptions import (
    AwsApiException,
    ExecutionConflictException,
    InvalidParameterValueException,
    ResourceNotFoundException,
    ServiceException,
    UnknownRouteError,
)
from aws_durable_execution_sdk_python_testing.invoker import INVOCATION_MARKER_HEADER, INVOCATION_MARKER_VALUE
from aws_durable_execution_sdk_python_testing.web import handlers
from aws_durable_execution_sdk_python_testing.web.models import HTTPRequest, HTTPResponse
from aws_durable_execution_sdk_python_testing.web.routes import (
    BytesPayloadRoute,
    CallbackFailureRoute,
    CallbackHeartbeatRoute,
    CallbackSuccessRoute,
    CheckpointDurableExecutionRoute,
    GetDurableExecutionHistoryRoute,
    GetDurableExecutionRoute,
    GetDurableExecutionStateRoute,
    ListDurableExecutionsByFunctionRoute,
    Route,
    Router,
    StopDurableExecutionRoute,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.routing import Route as StarletteRoute

from lambda_local.durable import DurableEngine, DurableError, sync_answer
from lambda_local.durable.summary import summarize
from lambda_local.http.limits import TooLarge, read_limited
from lambda_local.invocation import function_names
from lambda_local.invocation.deliveries import report

if TYPE_CHECKING:
    from lambda_local.plane import Plane

API_VERSION = "2025-12-01"
BODY_LIMIT = 10 * 1024 * 1024  # the runner's own server's bound on a request
ARN_SUFFIXES = ("checkpoint", "stop", "state", "history", "pause", "resume")
RAW_ARN = re.compile(
    rf"^/{API_VERSION}/durable-executions/(arn:[^/]+/durable-execution/[^/]+/[^/]+)(/(?:{'|'.join(ARN_SUFFIXES)}))?$"
)
# An error's type from its status, where the runner's body names none (or names its own class).
TYPES_BY_STATUS = {
    400: "InvalidParameterValueException",
    404: "ResourceNotFoundException",
    408: "CallbackTimeoutException",
    409: "ResourceConflictException",
    429: "TooManyRequestsException",
}
ERROR_FIELDS = ("ErrorMessage", "ErrorType", "ErrorData", "StackTrace")  # botocore's ErrorObject
RENAMED = {
    "ExecutionConflictException": "ResourceConflictException",
    "ExecutionAlreadyStartedException": "DurableExecutionAlreadyStartedException",
}


def lambda_error(status: int, error_type: str, message: str) -> JSONResponse:
    """An error as Lambda sends it (botocore reads the code from x-amzn-ErrorType)."""
    return JSONResponse(
        {"Type": "User", "message": message}, status_code=status, headers={"x-amzn-ErrorType": error_type}
    )


# region routes the runner does not serve
class _ArnRoute(Route):
    """POST /2025-12-01/durable-executions/{arn}/<suffix>"""

    suffix = ""
    method = "POST"

    @classmethod
    def is_match(cls, route: Route, method: str) -> bool:
        return route.matches_pattern([API_VERSION, "durable-executions", "*", cls.suffix]) and method == cls.method

    @classmethod
    def from_route(cls, route: Route) -> Route:
        return cls(raw_path=route.raw_path, segments=route.segments)

    @property
    def arn(self) -> str:
        return self.segments[2]


class PauseRoute(_ArnRoute):
    suffix = "pause"


class ResumeRoute(_ArnRoute):
    suffix = "resume"


class DeleteRoute(_ArnRoute):
    """DELETE /2025-12-01/durable-executions/{arn}"""

    @classmethod
    def is_match(cls, route: Route, method: str) -> bool:
        return route.matches_pattern([API_VERSION, "durable-executions", "*"]) and method == "DELETE"


# endregion

ROUTE_TYPES: list[type[Route]] = [
    GetDurableExecutionRoute,
    DeleteRoute,
    CheckpointDurableExecutionRoute,
    StopDurableExecutionRoute,
    GetDurableExecutionStateRoute,
    GetDurableExecutionHistoryRoute,
    PauseRoute,
    ResumeRoute,
    ListDurableExecutionsByFunctionRoute,
    CallbackSuccessRoute,
    CallbackFailureRoute,
    CallbackHeartbeatRoute,
]
ROUTER = Router(ROUTE_TYPES)


def raw_arn_path(path: str) -> str:
    """A path whose execution ARN came unencoded (its slashes raw) with the ARN as one encoded segment."""
    match = RAW_ARN.match(unquote(path))
    if match is None or "%2F" in path.upper():
        return path
    return f"/{API_VERSION}/durable-executions/{quote(match.group(1), safe='')}{match.group(2) or ''}"


def stop_body(body: bytes) -> bytes:
    """StopDurableExecution's body as the runner reads it ({"Error": {...}}): botocore sends the ErrorObject
    itself (the request's payload member)."""
    try:
        sent = json.loads(body) if body.strip() else None
    except ValueError:
        return body  # the runner's own "invalid JSON" error
    if isinstance(sent, dict) and "Error" not in sent and set(sent) & set(ERROR_FIELDS):
        return json.dumps({"Error": sent}).encode()
    return body


def error_type(status: int, body: dict[str, Any]) -> str:
    named = body.get("Type") if isinstance(body, dict) else None
    if isinstance(named, str) and named.endswith("Exception"):
        return RENAMED.get(named, named)
    return TYPES_BY_STATUS.get(status, "ServiceException")


def as_response(answer: HTTPResponse) -> Response:
    headers = dict(answer.headers)
    if answer.status_code >= 400:
        headers["x-amzn-ErrorType"] = error_type(answer.status_code, answer.body)
    headers["x-amzn-RequestId"] = str(uuid.uuid4())
    body = answer.body_to_bytes() if answer.body or answer.status_code != 204 else b""
    headers.pop("Content-Length", None)
    return Response(body, status_code=answer.status_code, headers=headers, media_type="application/json")


def failure(exc: AwsApiException) -> HTTPResponse:
    return HTTPResponse.create_error_from_exception(exc)


class Api:
    """The durable API's requests, answered by the runner's handlers on `engine`'s executor."""

    def __init__(self, engine: DurableEngine) -> None:
        self.engine = engine
        executor = engine.executor
        self.handlers: dict[type[Route], handlers.EndpointHandler] = {
            GetDurableExecutionRoute: handlers.GetDurableExecutionHandler(executor),
            CheckpointDurableExecutionRoute: handlers.CheckpointDurableExecutionHandler(executor),
            StopDurableExecutionRoute: handlers.StopDurableExecutionHandler(executor),
            GetDurableExecutionStateRoute: handlers.GetDurableExecutionStateHandler(executor),
            GetDurableExecutionHistoryRoute: handlers.GetDurableExecutionHistoryHandler(executor),
            ListDurableExecutionsByFunctionRoute: handlers.ListDurableExecutionsByFunctionHandler(executor),
            CallbackSuccessRoute: handlers.SendDurableExecutionCallbackSuccessHandler(executor),
            CallbackFailureRoute: handlers.SendDurableExecutionCallbackFailureHandler(executor),
            CallbackHeartbeatRoute: handlers.SendDurableExecutionCallbackHeartbeatHandler(executor),
        }

    def answer(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> HTTPResponse:
        """One request, on a thread of its own."""
        try:
            route = ROUTER.find_route(raw_arn_path(path), method)
        except UnknownRouteError:
            return HTTPResponse.create_json(
                404, {"Type": "UnknownOperationException", "message": f"Unknown operation {method} {path}"}
            )
        params = parse_qs(query, keep_blank_values=True)
        try:
            if isinstance(route, PauseRoute | ResumeRoute | DeleteRoute):
                return self._own(route)
            if isinstance(route, ListDurableExecutionsByFunctionRoute):
                route, params = self._listing(route, params)
            if isinstance(route, StopDurableExecutionRoute):
                body = stop_body(body)
            if isinstance(route, BytesPayloadRoute):
                request = HTTPRequest.from_raw_bytes(body, method, route, headers, params)
            else:
                request = HTTPRequest.from_bytes(body, None, method, route, headers, params)
            answer = self.handlers[type(route)].handle(route, request)
        except AwsApiException as exc:
            return failure(exc)
        if isinstance(route, GetDurableExecutionRoute) and answer.status_code == 200:
            answer = self._paused(route.arn, answer)
        if isinstance(route, CheckpointDurableExecutionRoute | GetDurableExecutionStateRoute) and (
            answer.status_code == 404
        ):  # Lambda's model has no ResourceNotFoundException for these: a token for no execution is invalid
            answer = failure(InvalidParameterValueException("Invalid checkpoint token"))
        return answer

    def _listing(
        self, route: ListDurableExecutionsByFunctionRoute, params: dict[str, list[str]]
    ) -> tuple[Route, dict[str, list[str]]]:
        """boto3's request as the runner reads it: the function by name (a name, or its ARN), `Statuses`
        as the runner's `StatusFilter` (one status, as Lambda takes). ResourceNotFoundException for a
        function the template does not declare."""
        try:
            target = function_names.parse(route.function_name)
        except function_names.InvalidName as exc:
            raise InvalidParameterValueException(str(exc)) from None
        if target.name not in self.engine.functions:
            raise ResourceNotFoundException(f"Function not found: {route.function_name}")
        statuses = params.pop("Statuses", [])
        if len(statuses) > 1:
            raise InvalidParameterValueException("Cannot filter by more than one status")
        if statuses:
            params["StatusFilter"] = statuses
        named = ListDurableExecutionsByFunctionRoute(
            raw_path=route.raw_path, segments=route.segments, function_name=target.name
        )
        return named, params

    def _paused(self, arn: str, answer: HTTPResponse) -> HTTPResponse:
        execution = self.engine.store.load(arn)
        if execution.is_paused and not execution.is_complete:
            return HTTPResponse.create_json(200, answer.body | {"Status": "PAUSED"})
        return answer

    def _own(self, route: Route) -> HTTPResponse:
        executor = self.engine.executor
        arn = cast(Any, route).arn
        if isinstance(route, DeleteRoute):
            deleted = executor.delete_execution(arn)
            return HTTPResponse.create_json(202, {"DeletionRequestTimestamp": deleted.timestamp()})
        execution = executor.get_execution(arn)
        if execution.is_complete:
            raise ExecutionConflictException(
                f"Execution {arn} is {execution.current_status().value}: only a running execution can be "
                f"{'paused' if isinstance(route, PauseRoute) else 'resumed'}"
            )
        if isinstance(route, PauseRoute):
            executor.pause(arn)
        else:
            if not execution.is_paused:
                raise ExecutionConflictException(f"Execution {arn} is not paused")
            executor.resume_execution(arn)
        return HTTPResponse.create_empty(202)


def routes(plane: Plane) -> list[BaseRoute]:
    """The durable API's routes and its control endpoints, for the Invoke API's app."""

    apis: dict[int, Api] = {}

    def engine() -> DurableEngine | None:
        return getattr(plane, "durable", None)  # a stand-in plane (tests) may have none

    def api_of(found: DurableEngine) -> Api:
        if id(found) not in apis:
            apis.clear()
            apis[id(found)] = Api(found)
        return apis[id(found)]

    async def api(request: Request) -> Response:
        found = engine()
        if found is None:
            return lambda_error(503, "ServiceException", "the durable engine is not running")
        try:
            body = await read_limited(request, BODY_LIMIT)
        except TooLarge:
            return lambda_error(413, "RequestEntityTooLargeException", f"Request must be smaller than {BODY_LIMIT}")
        raw = request.scope.get("raw_path") or request.url.path.encode()
        path = raw.decode("latin-1").split("?", 1)[0]
        headers = dict(request.headers)
        try:
            answer = await asyncio.to_thread(
                api_of(found).answer, request.method, path, request.url.query, headers, body
            )
        except Exception as exc:  # noqa: BLE001 - Lambda's 500, not a traceback
            answer = failure(ServiceException(str(exc)))
        return as_response(answer)

    async def executions(request: Request) -> Response:
        found = engine()
        if found is None:
            return JSONResponse({"executions": []})
        function = request.query_params.get("function") or None
        if function is not None and function not in found.functions:
            return lambda_error(404, "ResourceNotFoundException", f"Function not found: {function}")
        rows = await asyncio.to_thread(found.summaries, function)
        return JSONResponse({"executions": rows})

    async def resume(request: Request) -> Response:
        found = engine()
        if found is None:
            return lambda_error(503, "ServiceException", "the durable engine is not running")
        try:
            body = json.loads(await request.body() or b"{}")
            arn, operation = body.get("arn"), body.get("operationId")
            if not isinstance(arn, str) or not arn or not (operation is None or isinstance(operation, str)):
                raise ValueError("arn must be an execution's ARN, operationId an operation's id")
        except (ValueError, AttributeError, RecursionError) as exc:
            return lambda_error(
                400, "ValidationException", f'the body must be {{"arn": ..., "operationId": ...}} ({exc})'
            )
        try:
            resumed = await asyncio.to_thread(found.resume_now, arn, operation)
        except AwsApiException as exc:
            answer = failure(exc)
            return lambda_error(answer.status_code, error_type(answer.status_code, answer.body), str(exc))
        execution = await asyncio.to_thread(found.store.load, arn)
        return JSONResponse({"resumed": resumed, "execution": summarize(execution)})

    return [
        StarletteRoute(f"/{API_VERSION}/{{rest:path}}", api, methods=["GET", "POST", "PUT", "DELETE"]),
        StarletteRoute("/_local/durable/executions", executions, methods=["GET"]),
        StarletteRoute("/_local/durable/resume", resume, methods=["POST"]),
    ]


async def invoke(
    plane: Plane, request: Request, function: str, qualifier: str | None, payload: bytes, invocation_type: str
) -> Response | None:
    """A durable function's Invoke (None: not a durable function, or the runner's handler invocation, which
    runs as any invocation): an execution started, its ARN in X-Amz-Durable-Execution-Arn; RequestResponse
    waits for it to close and answers its result (or its error, as an Unhandled function error)."""
    engine: DurableEngine | None = getattr(plane, "durable", None)
    if engine is None or engine.durable(function) is None:
        return None
    if request.headers.get(INVOCATION_MARKER_HEADER, "").lower() == INVOCATION_MARKER_VALUE:
        return None
    if invocation_type not in ("RequestResponse", "Event", "DryRun"):
        return None  # the Invoke API's own error
    if invocation_type == "DryRun":
        if qualifier is None:
            return lambda_error(
                400, "InvalidParameterValueException", "You cannot invoke a durable function using an unqualified ARN."
            )
        return Response(status_code=204)
    name = request.headers.get("x-amz-durable-execution-name")
    tenant = request.headers.get("x-amz-tenant-id") or None  # checked by the Invoke API already
    started_at = time.perf_counter()
    synchronous = invocation_type == "RequestResponse"
    try:
        started = await asyncio.to_thread(
            engine.start_execution, function, qualifier, payload, name, synchronous, tenant
        )
    except DurableError as exc:
        return lambda_error(exc.status, exc.error_type, exc.message)
    request_id = str(uuid.uuid4())
    headers = {
        "x-amzn-RequestId": request_id,
        "X-Amz-Durable-Execution-Arn": started.arn,
        "X-Amz-Executed-Version": started.arn.split(":function:", 1)[1].split("/", 1)[0].split(":", 1)[1],
    }
    if invocation_type == "Event":
        report("durable", function, request_id, 1, 0.0, "started" if started.new else "already started")
        return Response(status_code=202, headers=headers)
    execution = await engine.closed(started.arn)
    body, error = sync_answer(execution)
    status = execution.current_status().value
    report("durable", function, request_id, 1, (time.perf_counter() - started_at) * 1000, status.lower())
    if error:
        headers["X-Amz-Function-Error"] = error
    return Response(body, status_code=200, headers=headers, media_type="application/json")
