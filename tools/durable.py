"""Durable executions from the shell (`make executions`, `make callback`, `make resume-wait`): what
`python -m tools.stack executions|callback|resume-wait` runs, against the running plane.

    executions FUNCTION      the function's newest executions: status, age, what each waits for
    callback ID [--result R | --error E | --heartbeat]
                             answer a callback as the outside system would (boto3's
                             SendDurableExecutionCallbackSuccess/Failure/Heartbeat on the plane)
    resume-wait ARN [--operation ID]
                             local time control: the execution's pending wait (a step retry, a callback's
                             timeout) ends now
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from stack import moto
from stack.common import LAMBDA_ENDPOINT, LAMBDA_PORT, port_open
from stack.functions import by_name


def _plane(path: str, body: dict[str, Any] | None = None) -> Any:
    if not port_open(LAMBDA_PORT):
        raise SystemExit(f"the local plane is not answering on port {LAMBDA_PORT}: run `make up`")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{LAMBDA_ENDPOINT}{path}", data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise SystemExit(json.loads(exc.read() or b"{}").get("message", f"HTTP {exc.code}")) from None


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _waiting(row: dict[str, Any]) -> str:
    said = []
    for what in row["WaitingFor"]:
        name = what.get("name") or what["operationId"][:12]
        if what["kind"] == "callback":
            said.append(f"callback {name} (ID={what['callbackId']})")
        elif what["kind"] in ("wait", "retry"):
            said.append(f"{what['kind']} {name} until {what['until']}")
        else:
            said.append(f"{what['kind']} {name}")
    return "; ".join(said) or ("-" if row["Status"] != "RUNNING" else "running")


def executions(function: str) -> None:
    fn = by_name(function)
    if fn.durable is None:
        raise SystemExit(f"{fn.lambda_name} is not a durable function (no DurableConfig in the template)")
    rows = _plane(f"/_local/durable/executions?function={quote(fn.lambda_name)}")["executions"]
    if not rows:
        print(f"{fn.lambda_name}: no executions (invoke it: its Invoke starts one)")
        return
    for row in rows:
        print(f"{row['Status']:<9} {_age(row['AgeSeconds']):>7}  {row['DurableExecutionName']}  {_waiting(row)}")
        print(f"          {row['DurableExecutionArn']}")
    print("make callback ID=... RESULT=... answers a callback; make resume-wait ARN=... ends a wait now")


def _lambda() -> Any:
    """boto3's Lambda client on the plane, with the local account's settings (local.env)."""
    return moto.client("lambda", endpoint=LAMBDA_ENDPOINT)


def callback(callback_id: str, result: str | None, error: str | None, heartbeat: bool) -> None:
    if (result is not None) + (error is not None) + heartbeat > 1:
        raise SystemExit("one of RESULT, ERROR or HEARTBEAT")
    if not port_open(LAMBDA_PORT):
        raise SystemExit(f"the local plane is not answering on port {LAMBDA_PORT}: run `make up`")
    client = _lambda()
    try:
        if heartbeat:
            client.send_durable_execution_callback_heartbeat(CallbackId=callback_id)
            print("heartbeat sent")
        elif error is not None:
            try:
                sent = json.loads(error)
            except ValueError:
                sent = None
            failure = sent if isinstance(sent, dict) else {"ErrorType": "CallbackFailed", "ErrorMessage": error}
            client.send_durable_execution_callback_failure(CallbackId=callback_id, Error=failure)
            print(f"callback failed: {failure}")
        else:
            client.send_durable_execution_callback_success(CallbackId=callback_id, Result=(result or "").encode())
            print("callback succeeded" + (f" with {result}" if result else ""))
    except ClientError as exc:
        raise SystemExit(f"{exc.response['Error']['Code']}: {exc.response['Error'].get('Message', '')}") from None
    except BotoCoreError as exc:
        raise SystemExit(str(exc)) from None


def resume_wait(arn: str, operation: str | None) -> None:
    answer = _plane("/_local/durable/resume", {"arn": arn} | ({"operationId": operation} if operation else {}))
    print(f"resumed {', '.join(answer['resumed'])}: {answer['execution']['Status']}")


COMMANDS = ("executions", "callback", "resume-wait")


def add_commands(commands: Any) -> None:
    """The three subcommands, on tools.stack's parser."""
    listing = commands.add_parser("executions", help="a durable function's executions: status, age, what they wait for")
    listing.add_argument("function", help="folder, Lambda name or logical id")
    answer = commands.add_parser("callback", help="answer a durable execution's callback (as the outside system)")
    answer.add_argument("callback_id")
    answer.add_argument("--result", help="succeed with this result (default: empty)")
    answer.add_argument("--error", help="fail with this message, or an ErrorObject as JSON")
    answer.add_argument("--heartbeat", action="store_true", help="only a heartbeat")
    wake = commands.add_parser("resume-wait", help="time control: a durable execution's pending wait ends now")
    wake.add_argument("arn", help="the execution's ARN")
    wake.add_argument(
        "--operation", help="one operation's id (default: every pending wait, step retry and callback timeout)"
    )


def run(args: Any) -> None:
    if args.command == "executions":
        executions(args.function)
    elif args.command == "callback":
        callback(args.callback_id, args.result, args.error, args.heartbeat)
    else:
        resume_wait(args.arn, args.operation)
