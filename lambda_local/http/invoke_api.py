"""The Lambda Invoke API, locally: boto3 / the AWS CLI with `--endpoint-url` work unchanged.

    POST /2015-03-31/functions/{FunctionName}/invocations
        X-Amz-Invocation-Type: RequestResponse (default) | Event (202) | DryRun (204)
        X-Amz-Log-Type: Tail -> X-Amz-Log-Result (last 4 KB of the invocation's log, base64)

The per-function ports (9001, ...) serve the RIE's path `/2015-03-31/functions/function/invocations`
through the same queue, so plain curl is safe too.

    POST /_local/schedules/{rule}/fire   {"at": "2026-11-20T20:00:00Z"} (optional; default now)
        delivers the rule's Scheduled Event as if fired at `at`, waits until it is settled
    GET  /_local/functions               each function's instances, queue and failed events
    POST /_local/functions/{name}/debug  {"on": true|false}: its next invocation waits for a debugger
        (debugpy on 127.0.0.1:5678; host mode)
    POST /_local/token                   {"claims": {"sub": "alice"}, "authorizer": name (optional)}:
        a development JWT the local API Gateway accepts, signed with this stack's key (`make token`)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lambda_local.environments.pool import Throttled
from lambda_local.events import recursion
from lambda_local.http import console, durable_api, otlp
from lambda_local.http.limits import TooLarge, read_limited
from lambda_local.http.tokens import template_token
from lambda_local.invocation import function_names
from lambda_local.invocation.deliveries import report
from lambda_local.invocation.event_store import StoreError
from lambda_local.invocation.tenants import tenant_of
from lambda_local.plane import ACCOUNT, Plane
from lambda_local.providers import TemplateError
from lambda_local.settings import ASYNC_PAYLOAD_LIMIT, SYNC_PAYLOAD_LIMIT
from lambda_local.traces import recorder

FIRE_MARGIN_S = 30.0  # beyond an event's longest delivery, before a firing's request gives up waiting


def aws_error(status: int, error_type: str, message: str, **extra: str) -> JSONResponse:
    """An error as the Lambda API sends it (boto3 reads the type from x-amzn-ErrorType)."""
    body = {"Type": "User", "message": message, **extra}
    return JSONResponse(body, status_code=status, headers={"x-amzn-ErrorType": error_type})


def app(plane: Plane) -> Starlette:
    aliases = {fn.lambda_name: fn.alias for fn in plane.template.functions}

    async def invoke(request: Request) -> Response:
        name = request.path_params["function"]
        server = request.scope.get("server")
        version = "$LATEST"
        qualifier: str | None = "$LATEST"  # a function's own port runs its $LATEST
        if name == "function" and server and server[1] in plane.by_port:  # the RIE path on a function's port
            name = plane.by_port[server[1]]
        else:
            try:
                target = function_names.parse(name, request.query_params.get("Qualifier"))
                name, version = function_names.check(name, target, aliases, ACCOUNT, plane.settings.region)
                qualifier = target.qualifier
            except function_names.InvalidName as exc:
                return aws_error(400, "ValidationException", str(exc))
            except function_names.NotFound as exc:
                return aws_error(404, "ResourceNotFoundException", str(exc))
        runtime = plane.runtimes[name]
        invocation_type = request.headers.get("x-amz-invocation-type", "RequestResponse")
        limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
        try:
            payload = await read_limited(request, limit)
        except TooLarge:
            return aws_error(
                413,
                "RequestEntityTooLargeException",
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
            )
        if payload.strip():
            try:
                json.loads(payload)
            except ValueError:
                return aws_error(400, "InvalidRequestContentException", "Could not parse request body into json")
            except RecursionError:  # nested deeper than Python's parser goes: Lambda refuses it too
                return aws_error(
                    400, "InvalidRequestContentException", "Could not parse request body into json: nested too deeply"
                )
        else:
            payload = b"{}"
        name = runtime.fn.lambda_name
        try:
            tenant = tenant_of(request.headers.get("x-amz-tenant-id"), runtime.fn.tenant_isolation)
        except ValueError as exc:
            return aws_error(400, "InvalidParameterValueException", str(exc))
        if (durable := await durable_api.invoke(plane, request, name, qualifier, payload, invocation_type)) is not None:
            return durable  # a durable function's Invoke starts an execution (durable_api.py)
        if invocation_type == "DryRun":
            return Response(status_code=204)
        # A calling function's chain goes on (botocore sends its trace header), this function counted once more.
        caller_trace = request.headers.get("x-amzn-trace-id")
        invoked = {"faas.name": name, "lambda_local.invocation_type": invocation_type}
        call = recorder.trigger(f"Invoke {name}", caller_trace, "server", invoked)  # in the caller's trace, if any
        trace = recorder.onward(call.header, name)
        if invocation_type == "Event":  # a loop is stopped when the event's turn comes (async_invoke.py)
            try:
                request_id = plane.invokers[name].submit(payload, durable=True, trace=trace, tenant=tenant)
            except StoreError as exc:  # not stored, so not accepted: the caller may try again
                report("invoke", name, "-", 0, 0.0, f"not accepted: {exc}")
                call.end(error=f"not accepted: {exc}")
                return aws_error(500, "ServiceException", f"The event could not be stored: {exc}", Type="Service")
            call.end(attributes={"lambda_local.request_id": request_id})
            return Response(status_code=202, headers={"x-amzn-RequestId": request_id})
        if invocation_type != "RequestResponse":
            call.end(error="InvalidParameterValueException")
            return aws_error(
                400, "InvalidParameterValueException", "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun"
            )
        if recursion.stopped(caller_trace, name):
            stop = f"RecursiveInvocationException: loop stopped after {recursion.MAX_DEPTH} invocations"
            report("invoke", name, "-", 0, 0.0, stop)
            call.end(error=stop)
            return aws_error(
                400,
                "RecursiveInvocationException",
                f"Lambda detected that {name} was invoked in a recursive loop ({recursion.MAX_DEPTH} times in one "
                "chain of requests) and stopped the invocation.",
            )
        tail = request.headers.get("x-amz-log-type") == "Tail"
        try:
            result = await recorder.invocation(
                name, trace, lambda header: runtime.invoke(payload, tail=tail, trace_id=header, tenant=tenant), "invoke"
            )
        except Throttled as throttled:
            report("invoke", name, "-", 1, 0.0, f"throttled ({throttled.reason})")
            call.end(error=f"throttled ({throttled.reason})")
            return aws_error(429, "TooManyRequestsException", "Rate Exceeded.", Reason=throttled.reason)
        failed = recorder.error_text(result.payload) if result.function_error else None
        call.end(error=failed, attributes={"lambda_local.request_id": result.request_id})
        outcome = "error" if result.function_error else "ok"
        report("invoke", name, result.request_id, 1, result.duration_ms, outcome, cold=result.cold_start)
        headers = {"x-amzn-RequestId": result.request_id, "X-Amz-Executed-Version": version}
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        if result.log_tail:
            headers["X-Amz-Log-Result"] = base64.b64encode(result.log_tail.encode()).decode()
        return Response(result.payload, status_code=200, headers=headers, media_type="application/json")

    async def functions(request: Request) -> Response:
        states = [
            runtime.state() | {"failed_events": plane.invokers[n].failed} for n, runtime in plane.runtimes.items()
        ]
        account = plane.account.state()
        body = {"service": "lambda_local", "account": account, "functions": states, "problems": plane.all_problems()}
        return JSONResponse(body)

    async def fire(request: Request) -> Response:
        rule = request.path_params["rule"]
        schedule = plane.scheduler.schedules.get(rule)
        if schedule is None:
            known = ", ".join(sorted(plane.scheduler.schedules)) or "none"
            return aws_error(404, "ResourceNotFoundException", f"Rule {rule} does not exist (rules: {known})")
        body = await request.body()
        try:
            at_text = (json.loads(body) if body.strip() else {}).get("at")
            at = datetime.fromisoformat(at_text.replace("Z", "+00:00")) if at_text else datetime.now(UTC)
            if at.tzinfo is None:
                raise ValueError("no UTC offset")
        except (ValueError, AttributeError, TypeError, RecursionError) as exc:
            return aws_error(400, "ValidationException", f"at must be an ISO 8601 time with an offset ({exc})")
        settled: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def done(outcome: str) -> None:
            if not settled.done():  # not after the bound below gave up on it
                settled.set_result(outcome)

        try:
            request_id = plane.scheduler.fire(schedule, at, done)
        except StoreError as exc:
            return aws_error(500, "ServiceException", f"{rule}: the event could not be stored: {exc}", Type="Service")
        # The invoker says how the event settled, also when its delivery failed; a bound all the same,
        # so the request ends: every attempt to the function's timeout, the back-off, and a margin.
        bound = plane.invokers[schedule.function].settle_bound_s() + FIRE_MARGIN_S
        try:
            outcome = await asyncio.wait_for(settled, bound)
        except TimeoutError:
            outcome = f"failed: not settled within {bound:.0f} s (still queued or running: see the deliveries)"
        if outcome.startswith("failed"):
            return aws_error(500, "ServiceException", f"{rule} ({request_id}): {outcome}", Type="Service")
        return JSONResponse(
            {
                "rule": rule,
                "function": schedule.function,
                "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "requestId": request_id,
                "outcome": outcome,
            }
        )

    async def debug(request: Request) -> Response:
        body = await request.body()
        try:
            on = json.loads(body).get("on", True) if body.strip() else True
            if not isinstance(on, bool):
                raise ValueError("on must be true or false")
        except (ValueError, AttributeError, RecursionError) as exc:
            return aws_error(400, "ValidationException", f'the body must be {{"on": true|false}} ({exc})')
        try:
            runtime = await plane.debug(request.path_params["function"], on)
        except KeyError:
            return aws_error(404, "ResourceNotFoundException", "Function not found")
        except RuntimeError as exc:
            return aws_error(409, "ResourceConflictException", str(exc))
        return JSONResponse(runtime.state())

    async def token(request: Request) -> Response:
        """A development token for the template's authorizers, signed with this stack's key."""
        try:
            body = json.loads(await request.body() or b"{}")
            claims, authorizer = body.get("claims", {}), body.get("authorizer")
            if not isinstance(claims, dict) or not isinstance(claims.get("sub", ""), str):
                raise ValueError("claims must be a JSON object (with a string sub)")
            if authorizer is not None and not isinstance(authorizer, str):
                raise ValueError("authorizer must be a name")
        except (ValueError, AttributeError, RecursionError) as exc:
            return aws_error(
                400, "ValidationException", f'the body must be {{"claims": {{...}}, "authorizer": name}} ({exc})'
            )
        try:
            return JSONResponse({"token": template_token(plane.template, claims, authorizer)})
        except TemplateError as exc:
            return aws_error(400, "ValidationException", str(exc))

    async def sqs_proxy(request: Request) -> Response:
        """The functions' SQS calls (AWS_ENDPOINT_URL_SQS), passed to the local endpoint with their trace
        header kept on the messages they send (recursion.py)."""
        target = request.headers.get("x-amz-target", "")
        body = await request.body()
        trace = request.headers.get("x-amzn-trace-id")
        if trace and target.endswith((".SendMessage", ".SendMessageBatch")):
            with contextlib.suppress(ValueError, AttributeError, TypeError, RecursionError):
                body = json.dumps(recursion.with_trace_attribute(target, json.loads(body), trace)).encode()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        answer = await plane.client.post(plane.settings.aws_endpoint + "/", content=body, headers=headers, timeout=60)
        kept = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "x-amzn-requestid")}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    async def restart(request: Request) -> Response:
        runtime = plane.runtime(request.path_params["function"])
        if runtime is None:
            return aws_error(404, "ResourceNotFoundException", "Function not found")
        await runtime.restart()
        return JSONResponse(runtime.state())

    return Starlette(
        routes=[
            # `:path`: a name with an encoded slash gets Lambda's ValidationException, not a bare 404
            Route("/2015-03-31/functions/{function:path}/invocations", invoke, methods=["POST"]),
            Route("/_local/functions", functions, methods=["GET"]),
            Route("/_local/functions/{function}/restart", restart, methods=["POST"]),
            Route("/_local/functions/{function}/debug", debug, methods=["POST"]),
            Route("/_local/token", token, methods=["POST"]),
            Route("/_local/aws/sqs", sqs_proxy, methods=["POST"]),
            Route("/_local/aws/sqs/", sqs_proxy, methods=["POST"]),
            *console.routes(plane),
            *otlp.routes(plane),
            *durable_api.routes(plane),
            Route("/_local/schedules/{rule}/fire", fire, methods=["POST"]),
        ]
    )
