"""`python -m tools.stack COMMAND`: the local stack from the command line (`make up`, `make status`, ...).

The stack itself (its two modes, the probes, the functions' invocation) is the `stack` package; this
module only parses the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from lambda_local.settings import DEBUG_PORT
from stack import current, down, fire, read_logs, status, up
from stack.common import LAMBDA_ENDPOINT, LAMBDA_PORT, STATE, port_open
from stack.functions import by_name
from tools import durable


def _token(sub: str, claims_json: str, authorizer: str) -> None:
    """A development token from the running plane: signed with this stack's own key (api_gateway.dev_secret)."""
    try:
        claims = json.loads(claims_json) if claims_json else {}
    except json.JSONDecodeError as exc:
        raise SystemExit(f"CLAIMS must be a JSON object: {exc}") from None
    if not isinstance(claims, dict):
        raise SystemExit("CLAIMS must be a JSON object")
    if not port_open(LAMBDA_PORT):
        raise SystemExit(f"the local plane is not answering on port {LAMBDA_PORT}: its tokens need it, run `make up`")
    request = urllib.request.Request(
        f"{LAMBDA_ENDPOINT}/_local/token",
        data=json.dumps({"claims": {"sub": sub} | claims, "authorizer": authorizer or None}).encode(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print(json.loads(response.read())["token"])
    except urllib.error.HTTPError as exc:
        raise SystemExit(json.loads(exc.read()).get("message", f"HTTP {exc.code}")) from None


def _invoke(name: str, event_file: str) -> None:
    fn = by_name(name)
    try:
        event = json.loads(Path(event_file).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"cannot read event file {event_file}: {exc}") from None
    if not port_open(LAMBDA_PORT):
        raise SystemExit(f"the local Invoke API is not answering on port {LAMBDA_PORT}: run `make up` first")
    # A durable function is invoked qualified, as Lambda requires; its Invoke starts an execution, waited
    # for unless it may outlast a synchronous Invoke's 15 minutes (Lambda refuses that: Event then).
    target = quote(f"{fn.lambda_name}:$LATEST", safe="") if fn.durable else fn.lambda_name
    from lambda_local.durable.engine import SYNC_EXECUTION_LIMIT_S

    queued = fn.durable is not None and fn.durable.execution_timeout_s > SYNC_EXECUTION_LIMIT_S
    request = urllib.request.Request(
        f"{LAMBDA_ENDPOINT}/2015-03-31/functions/{target}/invocations",
        data=json.dumps(event).encode(),
        method="POST",
        headers={"X-Amz-Invocation-Type": "Event"} if queued else {},
    )
    try:
        with urllib.request.urlopen(request, timeout=960) as response:
            body, error = response.read(), response.headers.get("X-Amz-Function-Error")
            if execution := response.headers.get("X-Amz-Durable-Execution-Arn"):
                print(f"durable execution {execution}", file=sys.stderr)
            if queued:
                print(f"started; its progress: make executions FUNCTION={fn.directory}")
                return
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"HTTP {exc.code}: {exc.read().decode(errors='replace')[:500]}") from None
    try:
        print(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    except json.JSONDecodeError:
        print(body.decode(errors="replace"))
    if error:
        raise SystemExit(f"{fn.lambda_name} failed ({error})")


def _debug(name: str, off: bool) -> None:
    fn = by_name(name)
    if not port_open(LAMBDA_PORT):
        raise SystemExit(f"the local Invoke API is not answering on port {LAMBDA_PORT}: run `make up`")
    request = urllib.request.Request(
        f"{LAMBDA_ENDPOINT}/_local/functions/{fn.lambda_name}/debug",
        data=json.dumps({"on": not off}).encode(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"HTTP {exc.code}: {exc.read().decode(errors='replace')[:500]}") from None
    if off:
        print(f"{fn.lambda_name}: debugging off, its next invocation runs in a plain environment")
        return
    print(
        f"{fn.lambda_name}: its next invocation waits for a debugger on 127.0.0.1:{DEBUG_PORT} (VS Code: the launch "
        f"configuration 'Attach to a function', {current().mode} mode); one invocation at a time, its timeout "
        f"suspended. `make debug FUNCTION={fn.directory} OFF=1` ends it."
    )


def _trace(name: str | None) -> None:
    """One trace as an indented tree with durations (by its trace id or a request id), or the recent ones."""
    if not port_open(LAMBDA_PORT):
        raise SystemExit(f"the local plane is not answering on port {LAMBDA_PORT}: its traces need it, run `make up`")
    path = f"/_local/traces/{quote(name, safe='')}?format=text" if name else "/_local/traces?limit=20"
    try:
        with urllib.request.urlopen(f"{LAMBDA_ENDPOINT}{path}", timeout=30) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise SystemExit(json.loads(exc.read() or b"{}").get("message", f"HTTP {exc.code}")) from None
    if name:
        print(body.decode(), end="")
        return
    listed = json.loads(body)["traces"]
    if not listed:
        print("no traces yet: invoke a function, upload a photo, fire a schedule")
    for trace in listed:
        errors = f", {trace['errors']} failed" if trace["errors"] else ""
        services = ", ".join(trace["services"])
        print(f"{trace['trace_id']}  {trace['duration_ms']:>10.1f} ms  {trace['root']['name']}  [{services}{errors}]")
    if listed:
        print("make trace ID=<trace id or request id> shows one as a tree")


def function_logs(function: str) -> str:
    """One function's lines: what the plane said of it (its delivery lines, reloads, problems) and, in
    host mode, what it printed (its log file)."""
    fn = by_name(function)
    names = (fn.lambda_name, fn.directory)
    plane = [line for line in read_logs("lambda").splitlines() if any(name in line for name in names)]
    own = STATE / "logs" / f"{fn.directory}.log"
    printed = own.read_text(errors="replace").splitlines() if current().mode == "host" and own.exists() else []
    return "".join(f"{line}\n" for line in plane + [f"{fn.directory} | {line}" for line in printed])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.stack", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("up", help="start the stack (mode chosen once: STACK_MODE=host|docker forces one)")
    commands.add_parser("down", help="stop the stack and remove its state")
    commands.add_parser("status", help="each service's state; exit 1 unless every one is this stack's and up")
    logs = commands.add_parser("logs", help="the services' logs")
    logs.add_argument("services", nargs="*", metavar="SERVICE")
    logs.add_argument("--function", help="one function's lines only: the plane's about it and its own output")
    commands.add_parser("events", help="follow the plane's delivery lines")
    fire_ = commands.add_parser("fire", help="fire a schedule rule now")
    fire_.add_argument("rule")
    fire_.add_argument("at", nargs="?", help="as if at this ISO time (default: now)")
    token = commands.add_parser("token", help="a development JWT for the local API's authorizers")
    token.add_argument("sub")
    token.add_argument("claims", nargs="?", default="", help="more claims, a JSON object")
    token.add_argument("authorizer", nargs="?", default="", help="the authorizer's name (default: all)")
    debug_ = commands.add_parser("debug", help="run a function's next invocations under debugpy")
    debug_.add_argument("function", help="folder, Lambda name or logical id")
    debug_.add_argument("--off", action="store_true", help="back to plain environments")
    trace_ = commands.add_parser("trace", help="one trace as an indented tree (or the recent traces)")
    trace_.add_argument("id", nargs="?", help="a trace id, an X-Ray root or a request id")
    invoke_ = commands.add_parser("invoke", help="invoke a function through the Invoke API")
    invoke_.add_argument("function", help="folder, Lambda name or logical id")
    invoke_.add_argument("event_file")
    durable.add_commands(commands)
    args = parser.parse_args(argv)
    command = args.command or "status"
    if command == "up":
        up()
    elif command == "down":
        down()
    elif command == "status":
        sys.exit(status())
    elif command == "logs" and args.function:
        print(function_logs(args.function), end="")
    elif command == "logs":
        current().show_logs(args.services)
    elif command == "events":
        with contextlib.suppress(KeyboardInterrupt):
            current().follow_events()
    elif command == "fire":
        sys.exit(fire(args.rule, args.at))
    elif command == "token":
        _token(args.sub, args.claims, args.authorizer)
    elif command == "debug":
        _debug(args.function, args.off)
    elif command == "invoke":
        _invoke(args.function, args.event_file)
    elif command == "trace":
        _trace(args.id)
    elif command in durable.COMMANDS:
        durable.run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
