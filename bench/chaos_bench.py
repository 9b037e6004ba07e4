"""`make chaos`: is anything the plane accepted lost when it is killed? Mixed load on a probe plane
(its own ports and state folder, the stack's AWS endpoint) while the plane is SIGKILLed at random
moments and restarted, ROUNDS times:

- sync (`RequestResponse`) and `Event` invokes of two functions counting the id they are given;
- messages to a queue with an SQS event source mapping;
- records to a Kinesis stream with a stream mapping (TRIM_HORIZON, checkpointed);
- uploads to a bucket with an S3 trigger (delivered through the trigger's SQS queue).

The functions are the probe functions (tests/support/probe/): each records in a DynamoDB table, by the
id the bench put in the payload, how many times it processed it. Accepted means acknowledged: a 200
without a function error (sync), a 202 (Event), a successful SendMessage, PutRecord or PutObject on
the AWS endpoint. A sync invoke cut by the kill, or any invoke sent while the plane is down, was never
acknowledged: it is counted as refused, not accepted. After the last restart the load stops and the
bench waits until everything is settled (the durable event store, the queues and the stream
checkpoint empty or caught up) or a deadline passes, then stops the plane and prints, per kind:
accepted, ran (distinct ids processed), lost (accepted, never ran and not handed to the on-failure
destination), duplicates (at-least-once allows them), and the runtimes left alive LEFTOVER_GRACE_S after
each kill and after the final stop. It exits 1 on any loss or leftover, or a plane that does not start.

The kill is of the plane's process alone (a crash, the OOM killer), not of its process group: that its
runtimes die with it is part of what is checked. The plane under test runs host-mode environments in
either stack mode (the probe functions have no images; Docker mode's own plane, the compose service,
serves the project's template, whose functions record nothing by id): with STACK_MODE=docker only the
AWS endpoint is a container.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml
from botocore.config import Config

import stack
from lambda_local.providers import load_yaml
from stack import moto
from tests.support.probe_plane import INVOKE_PORT, TEMPLATE, ProbePlane

UP_S = (2.0, 12.0)  # how long the plane runs under load before each kill (uniform)
DOWN_S = (0.5, 3.0)  # how long it stays dead before the restart (the load goes on)
# A runtime notices its plane died when it next calls its (dead) RIE: one busy importing on a loaded
# machine takes a while. Alive after this long, it is a leftover (the next plane would kill it).
LEFTOVER_GRACE_S = 20.0
DRAIN_S = 150.0  # after the last restart: the S3 trigger's messages a dead plane held come back after 30 s
RATES = {"sync": 2.0, "event": 5.0, "sqs": 5.0, "kinesis": 5.0, "s3": 1.0}  # per second
WORKERS = 8  # concurrent senders per kind
FUNCTIONS = {
    "sync": "chaosSync",
    "event": "chaosEvent",
    "queue": "chaosQueue",
    "stream": "chaosStream",
    "uploads": "chaosUploads",
}
STREAM_MAPPING = f"{FUNCTIONS['stream']}-Restart"  # <function>-<event>: the mapping's checkpoint file
TRIGGER_QUEUE = f"lambda-local-{FUNCTIONS['uploads']}-Upload"  # the S3 trigger's queue (queue_sources.py)


def invoke_url(function: str) -> str:
    return f"http://127.0.0.1:{INVOKE_PORT}/2015-03-31/functions/{function}/invocations"


def chaos_template(folder: Path) -> Path:
    """The probe templates' stream consumer (RestartConsumer), upload counter (Counter) and SQS consumer
    (PartialConsumer), with two counting functions for sync and `Event` invokes, under names of their own
    (no other probe plane's queue or bucket notification is touched); written to `folder`, its functions
    where they are.

    Concurrency is bounded (reserved concurrency, the SQS mapping's MaximumConcurrency), and the timeout is
    30 s: unbounded, each restart resumes the backlog into as many cold starts at once, which on a small
    machine run into the timeout, and the bench would measure the machine instead of the plane."""
    probe, mapped = load_yaml(TEMPLATE), load_yaml(TEMPLATE.parent / "mappings.yaml")
    resources = {name: deepcopy(probe["Resources"][name]) for name in ("RestartConsumer", "RestartStream")}
    resources |= {name: deepcopy(probe["Resources"][name]) for name in ("Counter", "CounterUploads", "SeenTable")}
    resources |= {name: deepcopy(mapped["Resources"][name]) for name in ("PartialConsumer", "JobsQueue")}
    resources["SyncCounter"] = {
        "Type": "AWS::Serverless::Function",
        "Metadata": {"DockerBuildArgs": {"FUNCTION": "probe"}},
        "Properties": {
            "PackageType": "Image",
            "FunctionName": FUNCTIONS["sync"],
            "ImageConfig": {"Command": ["queues.count_records"]},  # given {"Records": [{"body": ...}]}
            "ReservedConcurrentExecutions": 2,
        },
    }
    # One at a time and slower than the events come: a backlog the plane holds in its durable store grows
    # through the run, so every kill cuts one in flight and leaves others stored.
    resources["EventCounter"] = deepcopy(resources["Counter"])  # given {"Records": [{"s3": ...}]}
    resources["EventCounter"]["Properties"] |= {
        "FunctionName": FUNCTIONS["event"],
        "Environment": {"Variables": {"EVENT_DELAY_S": "0.25"}},
    }
    del resources["EventCounter"]["Properties"]["Events"]
    # Where retries run out (an event whose every attempt a kill cut), AWS hands the event to the
    # on-failure destination: accounted for, not lost.
    resources["FailuresQueue"] = {"Type": "AWS::SQS::Queue"}
    on_failure = {
        "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["FailuresQueue", "Arn"]}}}
    }
    names = {"RestartConsumer": "stream", "Counter": "uploads", "PartialConsumer": "queue"}
    for logical, key in names.items():
        resources[logical]["Properties"]["FunctionName"] = FUNCTIONS[key]
    for logical in ("RestartConsumer", "Counter", "PartialConsumer"):
        resources[logical]["Metadata"].pop("LocalPort", None)  # no fixed ports beside another probe plane
    del resources["Counter"]["Properties"]["Events"]["Tick"]
    for logical in ("EventCounter", "Counter"):
        resources[logical]["Properties"]["EventInvokeConfig"] = deepcopy(on_failure)
    # No redrive: a message a killed plane had received counts as a receive, and a dead-letter queue after
    # two would move it on for the kills' sake. The visibility timeout covers the functions' timeout.
    resources["JobsQueue"]["Properties"] = {"VisibilityTimeout": 30}
    resources["PartialConsumer"]["Properties"]["Events"]["Jobs"]["Properties"]["ScalingConfig"] = {
        "MaximumConcurrency": 2
    }
    data = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "make chaos: the probe functions under a plane killed and restarted (bench/chaos_bench.py)",
        "Metadata": {
            "FunctionsFolder": str(TEMPLATE.parent / "functions"),
            "LocalNames": {
                "RestartStream": "chaos-stream",
                "CounterUploads": "chaos-uploads",
                "JobsQueue": "chaos-jobs",
                "FailuresQueue": "chaos-failures",
                "SeenTable": "chaos-seen",
            },
        },
        "Globals": {"Function": {"Timeout": 30, "Environment": {"Variables": {"SEEN_TABLE": "chaos-seen"}}}},
        "Resources": resources,
    }
    path = folder / "template.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class Refused(Exception):
    """Not acknowledged: the reason is the argument."""


@dataclass
class Kind:
    """One kind of input: how one is sent, and what became of those sent."""

    name: str
    rate: float
    send: Callable[[str], str]  # sends the id; returns a trace to find it by in the logs, or raises Refused
    seen_key: Callable[[str], str] = lambda identifier: identifier  # its key in the seen table
    accepted: dict[str, str] = field(default_factory=dict)  # id -> trace
    refused: Counter[str] = field(default_factory=Counter)  # reason -> how many
    sent: int = 0
    skipped: int = 0  # sends not made: every sender was still waiting for an answer
    lock: threading.Lock = field(default_factory=threading.Lock)
    senders: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(WORKERS))

    def one(self, identifier: str) -> None:
        try:
            trace = self.send(identifier)
        except Refused as exc:
            with self.lock:
                self.refused[str(exc)] += 1
            return
        finally:
            self.senders.release()
        with self.lock:
            self.accepted[identifier] = trace


class Load:
    """Sends each kind at its rate from a thread of its own (WORKERS senders each) until stopped."""

    def __init__(self, kinds: list[Kind], run: str) -> None:
        self.kinds, self.run = kinds, run
        self.stopping = threading.Event()
        self.pools = {kind.name: ThreadPoolExecutor(WORKERS, thread_name_prefix=kind.name) for kind in kinds}
        self.threads = [threading.Thread(target=self._drive, args=(kind,), daemon=True) for kind in kinds]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _drive(self, kind: Kind) -> None:
        due = time.monotonic()
        while not self.stopping.is_set():
            # A send never waits for a sender: one sent late, after a restart, would not be the load asked for.
            if kind.senders.acquire(blocking=False):
                identifier = f"{kind.name}-{self.run}-{kind.sent:06}"
                kind.sent += 1
                self.pools[kind.name].submit(kind.one, identifier)
            else:
                kind.skipped += 1
            due += 1 / kind.rate
            self.stopping.wait(max(0.0, due - time.monotonic()))

    def stop(self) -> None:
        """No more sends; those under way finish (or fail)."""
        self.stopping.set()
        for thread in self.threads:
            thread.join()
        for pool in self.pools.values():
            pool.shutdown(wait=True)


def invoker(function: str, invocation_type: str) -> Callable[[str], str]:
    """Sends an invoke of a counting function on a fresh connection (a kept-alive one the kill broke
    would fail the next call for the kill's sake): the id as an SQS message's body (sync: count_records)
    or an S3 object's key (Event: count_event)."""
    expected = 202 if invocation_type == "Event" else 200

    def send(identifier: str) -> str:
        record = {"s3": {"object": {"key": identifier}}} if invocation_type == "Event" else {"body": identifier}
        payload = json.dumps({"Records": [record]})
        try:
            response = httpx.post(
                invoke_url(function), content=payload, headers={"X-Amz-Invocation-Type": invocation_type}, timeout=60
            )
        except httpx.TransportError as exc:
            raise Refused(type(exc).__name__) from None
        if response.status_code != expected:
            raise Refused(f"HTTP {response.status_code}")
        if response.headers.get("X-Amz-Function-Error"):
            raise Refused("function error")
        return str(response.headers.get("x-amzn-RequestId", ""))

    return send


def aws(service: str) -> Any:
    """A client of the AWS endpoint that tries once: accepted means one acknowledged call."""
    return moto.client(service, Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=WORKERS))


def kinds(plane: ProbePlane, rates: dict[str, float], last_sequence: dict[str, int]) -> list[Kind]:
    sqs, kinesis, s3 = aws("sqs"), aws("kinesis"), aws("s3")
    queue_url = sqs.get_queue_url(QueueName=plane.names["JobsQueue"])["QueueUrl"]
    stream, bucket = plane.names["RestartStream"], plane.names["CounterUploads"]
    lock = threading.Lock()

    def guarded(call: Callable[[str], str]) -> Callable[[str], str]:
        def send(identifier: str) -> str:
            try:
                return call(identifier)
            except Exception as exc:  # noqa: BLE001 - the endpoint said no: not accepted, counted by its name
                raise Refused(type(exc).__name__) from None

        return send

    def message(identifier: str) -> str:
        return str(sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"id": identifier}))["MessageId"])

    def record(identifier: str) -> str:
        data = json.dumps({"id": identifier}).encode()
        put = kinesis.put_record(StreamName=stream, Data=data, PartitionKey=identifier)
        with lock:
            shard, sequence = put["ShardId"], int(put["SequenceNumber"])
            last_sequence[shard] = max(last_sequence.get(shard, 0), sequence)
        return str(put["SequenceNumber"])

    def upload(identifier: str) -> str:
        s3.put_object(Bucket=bucket, Key=identifier, Body=b"chaos")
        return identifier

    return [
        Kind("sync", rates["sync"], invoker(FUNCTIONS["sync"], "RequestResponse")),
        Kind("event", rates["event"], invoker(FUNCTIONS["event"], "Event"), seen_key=lambda i: f"s3#{i}"),
        Kind("sqs", rates["sqs"], guarded(message)),
        Kind("kinesis", rates["kinesis"], guarded(record)),
        Kind("s3", rates["s3"], guarded(upload), seen_key=lambda i: f"s3#{i}"),
    ]


def state_processes(state: Path) -> list[psutil.Process]:
    """Processes of the plane's state folder (its runtimes carry LAMBDA_LOCAL_STATE, as stop_leftovers
    finds them), the bench excepted."""
    found = []
    for process in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            ours = process.pid != os.getpid() and process.environ().get("LAMBDA_LOCAL_STATE") == str(state)
            if ours and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
    return found


def leftovers(state: Path, grace_s: float = LEFTOVER_GRACE_S) -> tuple[float, list[str]]:
    """Seconds until the state folder's processes were all gone (at most `grace_s`), and those still alive
    then, described; they are killed, so the next round starts clean (as the next plane would:
    stop_leftovers)."""
    started = time.monotonic()
    while (alive := state_processes(state)) and time.monotonic() - started < grace_s:
        time.sleep(0.2)
    described = []
    for process in alive:
        with contextlib.suppress(psutil.Error):
            described.append(f"pid {process.pid}: {' '.join(process.cmdline())[:160]}")
            process.kill()
    return time.monotonic() - started, described


def kill_plane(plane: ProbePlane) -> None:
    """SIGKILL of the plane's process alone; then its process group, once the leftovers were counted."""
    assert plane.process is not None
    os.kill(plane.process.pid, signal.SIGKILL)
    plane.process.wait()


def reap_group(plane_pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(plane_pid, signal.SIGKILL)


def stored_events(state: Path) -> int:
    """Events accepted and not yet settled (the plane's durable store)."""
    path = state / "events.sqlite"
    if not path.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as db:
            return int(db.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.Error:
        return -1  # not readable now (created or locked this moment): unsettled


def queue_left(sqs: Any, name: str) -> int:
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        return 0
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[n]) for n in names)


def counts(plane: ProbePlane) -> dict[str, int]:
    """id -> times processed (the seen table's order#... lists left out)."""
    return {key: value for key, value in plane.seen().items() if isinstance(value, int)}


def failed_over(plane: ProbePlane, run: str) -> set[str]:
    """Ids of this run in the on-failure destination's records (AWS's answer to retries run out)."""
    sqs = moto.client("sqs")
    url = sqs.get_queue_url(QueueName=plane.names["FailuresQueue"])["QueueUrl"]
    found: set[str] = set()
    pattern = re.compile(rf"[a-z0-9]+-{run}-\d{{6}}")
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
        for message in messages:
            found |= set(pattern.findall(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def unsettled(plane: ProbePlane, last_sequence: dict[str, int]) -> dict[str, int]:
    """What is still under way: events stored, messages on the mapped and trigger queues, stream shards
    whose checkpoint is behind the last record put."""
    sqs = moto.client("sqs")
    checkpoint = plane.checkpoint(STREAM_MAPPING)
    behind = sum(1 for shard, last in last_sequence.items() if int(checkpoint.get(shard, "0")) < last)
    left = {
        "events stored": stored_events(plane.state),
        "messages on the mapped queue": queue_left(sqs, plane.names["JobsQueue"]),
        "messages on the S3 trigger's queue": queue_left(sqs, TRIGGER_QUEUE),
        "stream shards behind": behind,
    }
    return {what: n for what, n in left.items() if n}


def log_lines_naming(state: Path, traces: list[str], context: int = 2, limit: int = 40) -> list[str]:
    """The plane's and the functions' log lines naming any of `traces`, with `context` lines around."""
    shown: list[str] = []
    for path in [state / "plane.log", *sorted((state / "logs").glob("*.log"))]:
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        for index, line in enumerate(lines):
            if any(trace and trace in line for trace in traces):
                shown.append(f"--- {path.relative_to(state)}:{index + 1}")
                shown += lines[max(0, index - context) : index + context + 1]
                if len(shown) >= limit:
                    return shown
    return shown


@dataclass
class Round:
    up_s: float  # under load before the kill
    stored: int  # events accepted and not settled at the kill
    runtimes: int  # processes of the plane's state folder alive just after the kill
    gone_s: float  # until they were all gone (or LEFTOVER_GRACE_S)
    left: list[str]  # alive after LEFTOVER_GRACE_S
    down_s: float  # from the kill to the restart
    restart_s: float  # until the new plane answered


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "5")), help="kills (default 5)")
    parser.add_argument("--seed", type=int, default=None, help="the kill moments' random seed (default: random)")
    parser.add_argument("--drain", type=float, default=DRAIN_S, help="seconds to wait for everything to settle")
    for name, rate in RATES.items():
        parser.add_argument(f"--rate-{name}", type=float, default=rate, help=f"{name} sends per second ({rate:g})")
    return parser.parse_args()


def main() -> int:
    args = parse()
    if not stack.stack_is_up():
        raise SystemExit("the stack is not up: run `make up`")
    seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
    chance = random.Random(seed)
    rates = {name: float(getattr(args, f"rate_{name}")) for name in RATES}
    run = secrets.token_hex(3)
    state = Path(tempfile.mkdtemp(prefix="chaos-"))
    settings = (
        f"settings: stack mode {stack.mode()}, plane: a probe plane (host processes); rounds {args.rounds}, "
        f"seed {seed}, "
        f"up {UP_S[0]:g}-{UP_S[1]:g} s then SIGKILL, down {DOWN_S[0]:g}-{DOWN_S[1]:g} s, drain <= {args.drain:g} s; "
        "load per second: " + ", ".join(f"{name} {rate:g}" for name, rate in rates.items())
    )
    print(settings, flush=True)
    plane = ProbePlane(state, chaos_template(state))
    plane.create_resources()
    last_sequence: dict[str, int] = {}
    load_kinds = kinds(plane, rates, last_sequence)
    load = Load(load_kinds, run)
    rounds: list[Round] = []
    final_left: list[str] = []
    drained_s, left_over = 0.0, {}
    failure = ""
    try:
        plane.start()
        load.start()
        for number in range(1, args.rounds + 1):
            up_s, down_s = chance.uniform(*UP_S), chance.uniform(*DOWN_S)
            time.sleep(up_s)
            assert plane.process is not None
            pid = plane.process.pid
            kill_plane(plane)
            killed = time.monotonic()
            runtimes = len(state_processes(state))
            with (state / "plane.log").open("a") as log:  # where each kill fell, for whoever reads the log
                log.write(f"=== make chaos: SIGKILL of the plane (round {number}) at {time.strftime('%H:%M:%S')}\n")
            stored = stored_events(state)
            gone_s, left = leftovers(state)
            reap_group(pid)
            plane.process = None
            time.sleep(max(0.0, down_s - (time.monotonic() - killed)))  # down at least as long as the watch
            down_s = time.monotonic() - killed
            started = time.monotonic()
            plane.start()
            done = Round(up_s, stored, runtimes, gone_s, left, down_s, time.monotonic() - started)
            rounds.append(done)
            print(
                f"round {number}: killed after {up_s:.1f} s ({stored} events stored, {runtimes} runtimes alive); "
                f"runtimes gone after {gone_s:.1f} s, {len(left)} left after {LEFTOVER_GRACE_S:g} s; "
                f"down {down_s:.1f} s, answering again {done.restart_s:.1f} s after the restart",
                flush=True,
            )
        load.stop()
        drain_started = time.monotonic()
        while True:
            seen = counts(plane)
            missing = sum(1 for kind in load_kinds for i in kind.accepted if kind.seen_key(i) not in seen)
            left_over = unsettled(plane, last_sequence)
            if not missing and not left_over:
                break
            if time.monotonic() - drain_started > args.drain:
                break
            time.sleep(2)
        drained_s = time.monotonic() - drain_started
    except RuntimeError as exc:  # a plane that did not start again
        failure = str(exc)
    finally:
        load.stopping.set()
        if plane.process is not None:
            pid = plane.process.pid
            plane.stop()
            final_left = leftovers(state)[1]
            reap_group(pid)
    if failure:
        print(f"\nFAILED: {failure}\nthe plane's state folder is kept: {state}")
        return 1
    return report(plane, load_kinds, run, rounds, final_left, drained_s, left_over, settings)


def report(
    plane: ProbePlane,
    load_kinds: list[Kind],
    run: str,
    rounds: list[Round],
    final_left: list[str],
    drained_s: float,
    left_over: dict[str, int],
    settings: str,
) -> int:
    seen = counts(plane)
    failed = failed_over(plane, run)
    print(f"\n{settings}")
    print(f"drained in {drained_s:.0f} s" + (f"; NOT settled: {left_over}" if left_over else ", all settled"))
    print(
        "\n| input | sent | accepted | ran | lost | to on-failure dest. | duplicates | refused/failed | ran, unacked |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    lost_any = False
    details = []
    for kind in load_kinds:
        accepted = kind.accepted
        ran = {i for i in accepted if kind.seen_key(i) in seen}
        handed = {i for i in accepted if i not in ran and i in failed}
        lost = sorted(set(accepted) - ran - handed)
        duplicates = {i: seen[kind.seen_key(i)] for i in ran if seen[kind.seen_key(i)] > 1}
        extra = sum(times - 1 for times in duplicates.values())
        ours = {kind.seen_key(i) for i in accepted}
        prefix = kind.seen_key(f"{kind.name}-{run}-")
        unacked = sum(1 for key in seen if key.startswith(prefix) and key not in ours)
        refused = sum(kind.refused.values())
        print(
            f"| {kind.name} | {kind.sent} | {len(accepted)} | {len(ran)} | {len(lost)} | {len(handed)} "
            f"| {len(duplicates)} ids ({extra} extra runs) | {refused} | {unacked} |"
        )
        if kind.skipped:
            details.append(f"{kind.name}: {kind.skipped} sends skipped, all {WORKERS} senders waiting for an answer")
        if kind.refused:
            details.append(
                f"{kind.name} refused/failed: " + ", ".join(f"{r} {n}" for r, n in kind.refused.most_common())
            )
        if lost:
            lost_any = True
            details.append(f"{kind.name} LOST {len(lost)}: {', '.join(lost[:20])}{' ...' if len(lost) > 20 else ''}")
            traces = [accepted[i] for i in lost[:5]] + lost[:5]
            details += ["  " + line for line in log_lines_naming(plane.state, traces)]
    kill_left = [line for r in rounds for line in r.left]
    print(
        f"\nleftovers: {len(kill_left)} runtimes alive {LEFTOVER_GRACE_S:g} s after the kills "
        f"(per round: {[len(r.left) for r in rounds]}), {len(final_left)} after the final stop"
    )
    for number, r in enumerate(rounds, 1):
        details += [f"round {number} leftover: {line}" for line in r.left]
    details += [f"final stop leftover: {line}" for line in final_left]
    if rounds:
        print(
            f"runtimes alive at the kills: {[r.runtimes for r in rounds]}, gone after (s): "
            f"{[round(r.gone_s, 1) for r in rounds]}; events stored at the kills: {[r.stored for r in rounds]}"
        )
        print(f"restarts: {min(r.restart_s for r in rounds):.1f}-{max(r.restart_s for r in rounds):.1f} s to answer")
    for line in details:
        print(line)
    if lost_any or kill_left or final_left:
        print(f"\nFAILED: see above; the plane's state folder (plane.log, logs/) is kept: {plane.state}")
        return 1
    shutil.rmtree(plane.state, ignore_errors=True)
    print("\nnothing accepted was lost, no runtime outlived its plane")
    return 0


if __name__ == "__main__":
    sys.exit(main())
