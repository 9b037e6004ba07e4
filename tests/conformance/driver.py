"""One requirement run against a local plane as AWS's conformance runner runs it against Lambda, with boto3's
`lambda` client pointed at the plane:

- the requirement's `Input` is the payload of an Invoke of its function (qualified `$LATEST`): synchronous
  (RequestResponse: the answer comes when the execution closes), or `Event` for an `AsyncInvoke` one;
- an asynchronous one is polled (GetDurableExecutionHistory with its data) until it closes, or, with no
  `ExpectedResult`, until its history matches; each new `CallbackStarted` is answered by the first unused
  `CallbackActions` entry of its name (after the entry's `Delay`), with SendDurableExecutionCallback-
  Success/Failure/Heartbeat, as AWS's runner answers it; no new event for `NoProgressTimeoutSeconds`
  ends the polling;
- then the history is matched, GetDurableExecution's status and result checked, and the execution's log
  records (the function's log file, its JSON lines with the execution's ARN) against `ExpectedLogs`.

A history-only requirement (a wait of an hour) leaves its execution waiting: it is resumed with the plane's
time control (`POST /_local/durable/resume`) once checked, so no execution outlives its test.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conformance.spec import Placeholders, Requirement, check_logs, check_result, log_records, match_history

TERMINAL = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED", "ExecutionTimedOut": "TIMED_OUT"}
TERMINAL |= {"ExecutionStopped": "STOPPED", "ExecutionCancelled": "CANCELLED"}
POLL_S = 0.5  # AWS's runner polls every 2 s; the Delay of each callback action is what orders them
NO_PROGRESS_S = 30.0  # AWS's default, unless the requirement's AsyncConfig says otherwise
LOG_SETTLE_S = 1.0  # the plane writes a function's log lines from a thread of its own


@dataclass
class Outcome:
    """What one requirement's run found: `errors` empty when it conforms."""

    requirement: Requirement
    function: str
    errors: list[str] = field(default_factory=list)
    arn: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    execution: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.errors

    def report(self) -> str:
        """The errors, and the actual history to read them against."""
        lines = [f"{self.requirement.suite} {self.requirement.id} ({self.requirement.description}) on {self.function}:"]
        lines += [f"  - {error}" for error in self.errors]
        lines.append(f"  execution {self.arn}: {self.execution.get('Status')}, {self.execution.get('Error') or ''}")
        for event in self.events:
            shown = {k: v for k, v in event.items() if k not in ("EventTimestamp",)}
            lines.append(f"    {json.dumps(shown, default=str)[:600]}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Action:
    name: str
    operation: str
    payload: Any
    delay_s: float


class Driver:
    """Runs requirements against the plane at `endpoint` (`lam`: boto3's lambda client for it); the
    functions' log files are under `logs`."""

    def __init__(self, lam: Any, endpoint: str, logs: Path) -> None:
        self.lam = lam
        self.endpoint = endpoint
        self.logs = logs

    def run(self, requirement: Requirement, function: str) -> Outcome:
        outcome = Outcome(requirement, function)
        names = Placeholders(requirement.data.get("Variables"))
        started = time.monotonic()
        try:
            self._run(requirement, function, names, outcome)
        except Exception as exc:  # noqa: BLE001 - the run's failure is the requirement's, said in its report
            outcome.errors.append(f"the run failed: {type(exc).__name__}: {exc}")
        outcome.seconds = time.monotonic() - started
        return outcome

    def _run(self, requirement: Requirement, function: str, names: Placeholders, outcome: Outcome) -> None:
        payload = json.dumps(names.substitute(requirement.data.get("Input"))).encode()
        answer = self.lam.invoke(
            FunctionName=function,
            Qualifier="$LATEST",
            InvocationType="Event" if requirement.asynchronous else "RequestResponse",
            Payload=payload,
        )
        if "Payload" in answer:
            answer["Payload"].read()
        outcome.arn = answer.get("DurableExecutionArn")
        if not outcome.arn:
            outcome.errors.append(f"no DurableExecutionArn in the Invoke's answer: {answer.get('StatusCode')}")
            return
        history_only = requirement.asynchronous and requirement.result is None
        if requirement.asynchronous:
            outcome.errors += self._poll(requirement, outcome.arn, names, history_only)
        outcome.events = self.history(outcome.arn)
        outcome.execution = self.lam.get_durable_execution(DurableExecutionArn=outcome.arn)
        outcome.errors += match_history(requirement.history, outcome.events, names)
        if requirement.result is not None:
            outcome.errors += check_result(requirement.result, outcome.execution, names)
        if requirement.logs:
            time.sleep(LOG_SETTLE_S)
            outcome.errors += check_logs(requirement.logs, log_records(self._log_lines(), outcome.arn), names)
        if history_only and outcome.execution.get("Status") == "RUNNING":
            self.resume(outcome.arn)

    def history(self, arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        marker: dict[str, str] = {}
        while True:
            page = self.lam.get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True, **marker)
            events += page.get("Events", [])
            if not page.get("NextMarker"):
                return events
            marker = {"Marker": page["NextMarker"]}

    def _poll(self, requirement: Requirement, arn: str, names: Placeholders, history_only: bool) -> list[str]:
        actions = [
            Action(
                str(raw["CallbackName"]), str(raw["Operation"]).lower(), raw.get("Payload"), float(raw.get("Delay", 0))
            )
            for raw in requirement.data.get("CallbackActions") or []
        ]
        config = requirement.data.get("AsyncConfig") or {}
        patience = float(config.get("NoProgressTimeoutSeconds", NO_PROGRESS_S))
        handled: set[str] = set()
        used: set[int] = set()
        seen, progressed = 0, time.monotonic()
        errors: list[str] = []
        while True:
            time.sleep(POLL_S)
            events = self.history(arn)
            if any(event["EventType"] in TERMINAL for event in events):
                return errors
            if len(events) > seen:
                seen, progressed = len(events), time.monotonic()
            elif time.monotonic() - progressed >= patience:
                return [*errors, f"no new event for {patience:.0f} s (the execution is still running)"]
            for event in events:
                if event["EventType"] != "CallbackStarted":
                    continue
                callback_id = event.get("CallbackStartedDetails", {}).get("CallbackId", "")
                if not callback_id or callback_id in handled:
                    continue
                errors += self._answer(event, callback_id, actions, used, handled, names)
            if history_only and not match_history(requirement.history, events, names):
                return errors

    def _answer(
        self,
        event: dict[str, Any],
        callback_id: str,
        actions: list[Action],
        used: set[int],
        handled: set[str],
        names: Placeholders,
    ) -> list[str]:
        """Send the first unused action of the callback's name (none configured: the callback is left open)."""
        name = event.get("Name", "")
        for n, action in enumerate(actions):
            if n in used or names.substitute(action.name) not in ("*", name):
                continue
            used.add(n)
            if action.operation != "heartbeat":  # a heartbeat leaves the callback open for a later action
                handled.add(callback_id)
            time.sleep(action.delay_s)
            payload = names.substitute(action.payload)
            if action.operation == "success":
                result = {} if payload is None else {"Result": json.dumps(payload).encode()}
                self.lam.send_durable_execution_callback_success(CallbackId=callback_id, **result)
            elif action.operation == "failure":
                keys = ("ErrorType", "ErrorMessage", "ErrorData", "StackTrace")
                error = {k: payload[k] for k in keys if k in (payload or {})}
                fields = {"Error": error} if error else {}
                self.lam.send_durable_execution_callback_failure(CallbackId=callback_id, **fields)
            else:
                self.lam.send_durable_execution_callback_heartbeat(CallbackId=callback_id)
            return []
        handled.add(callback_id)
        return [f"no CallbackAction for the callback {name!r}"] if actions else []

    def resume(self, arn: str) -> None:
        """Time control: the execution's pending waits end now (a history-only requirement is done with it)."""
        request = urllib.request.Request(
            f"{self.endpoint}/_local/durable/resume",
            data=json.dumps({"arn": arn}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30):
                pass
        except urllib.error.HTTPError:
            pass  # nothing pending any more: it closed meanwhile

    def _log_lines(self) -> list[str]:
        lines: list[str] = []
        for path in sorted(self.logs.glob("*.log*")):
            lines += path.read_text(errors="replace").splitlines()
        return lines
