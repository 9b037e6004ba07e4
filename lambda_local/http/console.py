"""The local console: one page of the whole local account, served by the plane at /_local/.

    GET  /_local/                         the page (plain HTML, CSS and JS; it polls the state every second)
    GET  /_local/console/state            every function (environments, recent invocations), the
                                          on-failure queues' message counts and the failed events this
                                          plane sent them, schedules, stream and SQS mappings, API routes;
                                          it changes nothing (no message is received from a queue)
    GET  /_local/console/logs/{function}/{request_id}   the log lines of one invocation
    POST /_local/console/peek             {"queue": name}: the failed events on the queue now (an
                                          earlier plane's too), received with a visibility timeout of 0:
                                          their receive counts grow, so only when asked ("look at the queue")
    POST /_local/console/redrive          {"queue": name, "messageId": id}: the failed event is invoked
                                          again (Event) and its record taken off the queue
    GET  /_local/console/trace?id=ID      the trace view: one trace as a waterfall across the functions
                                          (ID: a trace id or a request id), and the recent traces
    GET  /_local/traces                   the recent traces (newest first; ?limit=N, at most 500)
    GET  /_local/traces/{id}              one trace (a trace id, an X-Ray root or a request id): its spans
                                          in tree order with depth, offset and duration; ?format=text: the
                                          indented tree `make trace` prints
    GET  /_local/console/execution?arn=ARN          the execution view: one durable execution's history
                                          as a timeline, what it waits for, and the buttons that act on it
    GET  /_local/console/durable/execution?arn=ARN  one durable execution as `make executions` lists it
                                          (status, age, what it waits for: wait ends, callback ids)

The state lists each durable function's newest executions (DURABLE_ROWS, newest first) and, for a
function in tenant isolation mode, its environments by tenant. The execution view reads the history
from Lambda's own GetDurableExecution/GetDurableExecutionHistory routes; its buttons POST to Lambda's
SendDurableExecutionCallbackSuccess/Failure and StopDurableExecution routes and to the plane's
`/_local/durable/resume` (durable_api.py): nothing the page reads changes anything.

Fire now is the plane's POST /_local/schedules/{rule}/fire. The routes are the Invoke API's, so
loopback only and closed to cross-site requests (doors.py), like every control endpoint.
A stream mapping's lag is the number of records read from the shard and not settled yet.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_durable_execution_sdk_python_testing.exceptions import AwsApiException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from lambda_local.durable.summary import summarize
from lambda_local.environments import log_files
from lambda_local.http.durable_api import error_type, failure, lambda_error
from lambda_local.invocation.deliveries import DELIVERIES
from lambda_local.invocation.event_store import StoreError
from lambda_local.invocation.sent_records import SENT
from lambda_local.traces import tree

if TYPE_CHECKING:
    from lambda_local.plane import Plane

PAGE = Path(__file__).parent / "static" / "console.html"
TRACE_PAGE = Path(__file__).parent / "static" / "trace.html"
EXECUTION_PAGE = Path(__file__).parent / "static" / "execution.html"
STYLES = Path(__file__).parent / "static" / "console.css"  # what the pages share
SCRIPT = Path(__file__).parent / "static" / "console.js"
DURABLE_ROWS = 20  # a durable function's newest executions in the state
DURABLE_TOTAL = 200  # executions read per state, all functions together (about 1 ms each)
RECENT_TRACES = 50  # listed by default
TAIL_BYTES = 2 * 1024 * 1024  # of a function's log file, searched for one invocation's lines
PEEK = 10  # failed events shown per queue
COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]


def failure_queues(plane: Plane) -> list[str]:
    """The local names of every on-failure queue of the template."""
    names = {fn.async_config.on_failure.name for fn in plane.template.functions if fn.async_config.on_failure}
    names |= {t.on_failure.name for t in plane.template.stream_triggers if t.on_failure}
    return sorted(names)


def _failed_event(queue: str, message: dict[str, Any]) -> dict[str, Any]:
    try:
        record = json.loads(message["Body"])
    except (ValueError, RecursionError):
        record = {}
    context = record.get("requestContext", {}) if isinstance(record, dict) else {}
    response = record.get("responsePayload") if isinstance(record, dict) else None
    error = (
        response.get("errorType", "") + ": " + response.get("errorMessage", "") if isinstance(response, dict) else ""
    )
    return {
        "queue": queue,
        "messageId": message["MessageId"],
        "function": str(context.get("functionArn", "")).split(":function:")[-1].split(":")[0],
        "requestId": context.get("requestId"),
        "condition": context.get("condition"),
        "attempts": context.get("approximateInvokeCount"),
        "time": record.get("timestamp") if isinstance(record, dict) else None,
        "error": error.strip(": ") or context.get("condition", ""),
        "redrivable": isinstance(record, dict) and "requestPayload" in record,
    }


def counts(sqs: Any, queue: str) -> dict[str, Any]:
    """How many messages a queue holds (its attributes: nothing is received)."""
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=COUNTS).get("Attributes", {})
    visible, in_flight, delayed = (int(found.get(name, 0)) for name in COUNTS)
    return {"queue": queue, "messages": visible, "in_flight": in_flight, "delayed": delayed}


def sent_events(queues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The failed events this plane sent to the on-failure queues, newest first: those of a queue
    that holds no message any more are left out (someone took them off)."""
    holding = {q["queue"] for q in queues if "error" in q or q["messages"] + q["in_flight"] + q["delayed"]}
    return [_failed_event(entry["queue"], entry) | {"sent": True} for entry in SENT.on(holding)]


def peek(sqs: Any, queue: str) -> list[dict[str, Any]]:
    """What waits on a queue, left there (received with a visibility timeout of 0)."""
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=PEEK, VisibilityTimeout=0, WaitTimeSeconds=0)
    return [_failed_event(queue, m) for m in answer.get("Messages", [])]


def _tail(path: Path, size: int) -> tuple[list[str], bool]:
    """The lines of the last `size` bytes of `path` (none when it is not there), and whether they are
    the whole file."""
    try:
        with path.open("rb") as file:
            start = max(0, file.seek(0, 2) - size)
            file.seek(start)
            return file.read().decode("utf-8", errors="replace").splitlines(), start == 0
    except FileNotFoundError:
        return [], True


def invocation_lines(path: Path, request_id: str) -> list[str]:
    """The lines of one invocation in a function's log file: from its START to its REPORT line (text
    format) or platform.start to platform.report (JSON format). The file rotated since (log_files.py):
    the rotated file's tail comes first, when the current one is shorter than TAIL_BYTES."""
    lines, whole = _tail(path, TAIL_BYTES)
    if whole:
        lines = _tail(path.with_name(path.name + ".1"), TAIL_BYTES)[0] + lines
    found: list[str] = []
    inside = False
    for line in lines:
        if request_id in line and ("START RequestId" in line or '"platform.start"' in line):
            inside, found = True, []
        if inside:
            found.append(line)
            if request_id in line and ("REPORT RequestId" in line or '"platform.report"' in line):
                inside = False
    return found


def _next_fire(plane: Plane, rule: str) -> str | None:
    schedule = plane.scheduler.schedules[rule]
    if not schedule.enabled:
        return None
    moment = schedule.next_after(datetime.now(UTC), plane.scheduler.started)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def tenant_groups(instances: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A tenant-isolated function's environments by tenant (an environment serves one tenant all its
    life): each tenant with its environments, how many are busy and their invocations; by tenant id.
    An environment not assigned yet (Docker mode's compose container before its first invoke) is under
    None, last."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for instance in instances:
        groups.setdefault(instance.get("tenant"), []).append(instance)
    return [
        {
            "tenant": tenant,
            "environments": envs,
            "busy": sum(1 for env in envs if env.get("busy")),
            "invocations": sum(int(env.get("invocations") or 0) for env in envs),
        }
        for tenant, envs in sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or ""))
    ]


def durable_executions(
    plane: Plane, limit: int = DURABLE_ROWS, total: int = DURABLE_TOTAL
) -> dict[str, dict[str, Any]]:
    """Each durable function's newest executions (at most `limit`, newest first) and whether there are
    more; `total` at most for all functions together (the template's order; a function past it is
    `unread`). Read from the engine's store, nothing changed. Empty while the engine is not running."""
    engine = getattr(plane, "durable", None)  # a stand-in plane (tests) may have none
    if engine is None:
        return {}
    found: dict[str, dict[str, Any]] = {}
    budget = total
    for name in plane.runtimes:
        if engine.durable(name) is None:
            continue
        take = min(limit, budget)
        if take <= 0:
            found[name] = {"executions": [], "more": True, "unread": True}
            continue
        try:
            rows = engine.summaries(name, take + 1)
        except RuntimeError:  # the engine is starting: the next poll lists them
            return {}
        found[name] = {"executions": rows[:take], "more": len(rows) > take}
        budget -= len(found[name]["executions"])
    return found


def state(
    plane: Plane,
    failed: list[dict[str, Any]],
    holding: list[dict[str, Any]] | None = None,
    durable: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The page's state; `failed` the failed events listed, `holding` the on-failure queues' counts,
    `durable` the durable functions' executions (durable_executions)."""
    functions = []
    for name, runtime in plane.runtimes.items():
        entry = runtime.state()
        entry["directory"] = runtime.fn.directory
        entry["recent"] = DELIVERIES.of(name)
        entry["failed_events"] = plane.invokers[name].failed
        entry["durable"] = (durable or {}).get(name)  # None: not a durable function
        entry["tenants"] = tenant_groups(entry.get("instances", [])) if entry.get("tenant_isolation") else None
        functions.append(entry)
    schedules = [
        {
            "rule": s.rule,
            "expression": s.expression,
            "function": s.function,
            "enabled": s.enabled,
            "next": _next_fire(plane, s.rule),
        }
        for s in plane.template.schedules
    ]
    streams = [
        {
            "mapping": m.name,
            "kind": m.source.kind,
            "function": m.fn.lambda_name,
            "shards": [
                {"shard": shard, "position": m.checkpoints.shards.get(shard), "lag": len(progress.pending)}
                for shard, progress in m.progress.items()
            ],
            "filtered": m.filtered,
        }
        for m in plane.mappings
    ]
    queues = [
        {
            "mapping": m.name,
            "queue": m.trigger.queue_name,
            "function": m.trigger.function,
            "pollers": m.active,
            "batches": m.batches,
            "filtered": m.filtered,
        }
        for m in plane.sqs_mappings
    ]
    routes = [
        {"kind": r.kind, "method": r.method, "path": r.path, "function": r.function} for r in plane.template.routes
    ]
    return {
        "deliveries": DELIVERIES.count,
        "account": plane.account.state(),
        "functions": functions,
        "failed": failed,
        "failure_queues": holding or [],
        "schedules": schedules,
        "streams": streams,
        "sqs": queues,
        "routes": routes,
        "api_port": plane.settings.api_port,
        "problems": plane.all_problems(),
    }


def routes(plane: Plane) -> list[Route]:
    sqs = plane.aws("sqs")

    async def page(request: Request) -> Response:
        return FileResponse(PAGE, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})

    async def styles(request: Request) -> Response:
        return FileResponse(STYLES, media_type="text/css; charset=utf-8", headers={"Cache-Control": "no-store"})

    async def script(request: Request) -> Response:
        return FileResponse(SCRIPT, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-store"})

    async def trace_page(request: Request) -> Response:
        return FileResponse(TRACE_PAGE, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})

    async def traces(request: Request) -> Response:
        try:
            limit = min(500, max(1, int(request.query_params.get("limit", RECENT_TRACES))))
        except ValueError:
            return JSONResponse({"message": "limit must be a number"}, status_code=400)
        store = plane.traces
        recent = await asyncio.to_thread(store.recent, limit)
        counts = await asyncio.to_thread(store.counts)
        body = {"traces": [summary.as_json() for summary in recent], "kept": counts, "problem": store.problem}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def one_trace(request: Request) -> Response:
        name = request.path_params["id"]
        trace_id = await asyncio.to_thread(plane.traces.resolve, name)
        if trace_id is None:
            message = f"no trace {name!r} is kept (a trace id, an X-Ray root or a request id; the newest are kept)"
            return JSONResponse({"message": message}, status_code=404)
        spans = await asyncio.to_thread(plane.traces.spans, trace_id)
        if request.query_params.get("format") == "text":
            return PlainTextResponse(tree.render_text(trace_id, spans), headers={"Cache-Control": "no-store"})
        return JSONResponse(tree.as_json(trace_id, spans), headers={"Cache-Control": "no-store"})

    async def current(request: Request) -> Response:
        queues: list[dict[str, Any]] = []
        for queue in failure_queues(plane):
            try:
                queues.append(await asyncio.to_thread(counts, sqs, queue))
            except Exception as exc:  # noqa: BLE001 - the endpoint away: the page says so, and polls again
                queues.append({"queue": queue, "error": f"cannot read the queue: {exc}"})
        failed = sent_events(queues)
        durable = await asyncio.to_thread(durable_executions, plane)
        return JSONResponse(state(plane, failed, queues, durable), headers={"Cache-Control": "no-store"})

    async def execution_page(request: Request) -> Response:
        return FileResponse(
            EXECUTION_PAGE, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"}
        )

    async def one_execution(request: Request) -> Response:
        """One execution's summary (what it waits for); Lambda's errors for no such execution."""
        engine = getattr(plane, "durable", None)
        if engine is None:
            return lambda_error(503, "ServiceException", "the durable engine is not running")
        arn = request.query_params.get("arn", "")
        try:
            execution = await asyncio.to_thread(engine.executor.get_execution, arn)
        except AwsApiException as exc:
            answer = failure(exc)
            return lambda_error(answer.status_code, error_type(answer.status_code, answer.body), str(exc))
        except RuntimeError as exc:  # the engine is starting
            return lambda_error(503, "ServiceException", str(exc))
        return JSONResponse(summarize(execution), headers={"Cache-Control": "no-store"})

    async def look(request: Request) -> Response:
        try:
            queue = str(json.loads(await request.body())["queue"])
        except (ValueError, KeyError, TypeError, RecursionError):
            return JSONResponse({"message": 'the body must be {"queue": name}'}, status_code=400)
        if queue not in failure_queues(plane):
            return JSONResponse({"message": f"{queue} is no on-failure queue of the template"}, status_code=400)
        try:
            found = await asyncio.to_thread(peek, sqs, queue)
        except Exception as exc:  # noqa: BLE001 - the endpoint away: said, as the state says it
            return JSONResponse({"message": f"cannot read {queue}: {exc}"}, status_code=502)
        return JSONResponse({"queue": queue, "failed": found}, headers={"Cache-Control": "no-store"})

    async def logs(request: Request) -> Response:
        runtime = plane.runtime(request.path_params["function"])
        if runtime is None:
            return JSONResponse({"message": "Function not found"}, status_code=404)
        path = plane.settings.log_dir / f"{runtime.fn.directory}.log"
        await asyncio.to_thread(log_files.flush, path)  # the lines appended so far, in the file
        lines = await asyncio.to_thread(invocation_lines, path, request.path_params["request_id"])
        return JSONResponse({"lines": lines})

    async def redrive(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            queue, message_id = str(body["queue"]), str(body["messageId"])
        except (ValueError, KeyError, TypeError, RecursionError):
            return JSONResponse({"message": 'the body must be {"queue": name, "messageId": id}'}, status_code=400)
        if queue not in failure_queues(plane):
            return JSONResponse({"message": f"{queue} is no on-failure queue of the template"}, status_code=400)
        found = await asyncio.to_thread(_take, sqs, queue, message_id)
        if found is None:
            return JSONResponse({"message": f"no message {message_id} on {queue} now"}, status_code=404)
        record, receipt, url = found
        function = str(record["requestContext"]["functionArn"]).split(":function:")[-1].split(":")[0]
        if function not in plane.invokers:
            return JSONResponse({"message": f"{function} is not a function of the template"}, status_code=400)
        try:
            request_id = plane.submit(function, json.dumps(record["requestPayload"]).encode(), "redrive", durable=True)
        except StoreError as exc:  # not stored, so not accepted: the record stays on its queue
            return JSONResponse({"message": f"the event could not be stored: {exc}"}, status_code=500)
        await asyncio.to_thread(sqs.delete_message, QueueUrl=url, ReceiptHandle=receipt)
        SENT.forget(queue, message_id)
        return JSONResponse({"function": function, "requestId": request_id}, status_code=202)

    return [
        Route("/_local/", page, methods=["GET"]),
        Route("/_local/console/state", current, methods=["GET"]),
        Route("/_local/console/logs/{function}/{request_id}", logs, methods=["GET"]),
        Route("/_local/console/peek", look, methods=["POST"]),
        Route("/_local/console/redrive", redrive, methods=["POST"]),
        Route("/_local/console/trace", trace_page, methods=["GET"]),
        Route("/_local/console/console.css", styles, methods=["GET"]),
        Route("/_local/console/console.js", script, methods=["GET"]),
        Route("/_local/console/execution", execution_page, methods=["GET"]),
        Route("/_local/console/durable/execution", one_execution, methods=["GET"]),
        Route("/_local/traces", traces, methods=["GET"]),
        Route("/_local/traces/{id}", one_trace, methods=["GET"]),
    ]


def _take(sqs: Any, queue: str, message_id: str) -> tuple[dict[str, Any], str, str] | None:
    """The failure record `message_id` off `queue` (held invisible; the others left visible)."""
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    for _ in range(10):
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=0)
        messages = answer.get("Messages", [])
        if not messages:
            return None
        wanted = None
        others: list[dict[str, Any]] = []
        for message in messages:
            if message["MessageId"] == message_id:
                wanted = message
            else:
                others.append(
                    {"Id": str(len(others)), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
                )
        if others:
            sqs.change_message_visibility_batch(QueueUrl=url, Entries=others)
        if wanted is not None:
            try:
                record = json.loads(wanted["Body"])
            except (ValueError, RecursionError):
                return None
            if not isinstance(record, dict) or "requestPayload" not in record:
                return None
            return record, wanted["ReceiptHandle"], url
    return None
