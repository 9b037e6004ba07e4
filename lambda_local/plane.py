"""The local Lambda plane: every function's runtime and event queue, built from template.yaml.

LAMBDA_LOCAL_MODE=host    start and supervise an RIE process per instance (default)
LAMBDA_LOCAL_MODE=docker  the instances are the compose services at http://<folder>:8080, whose
                          output reaches the plane by syslog (container_logs.py)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import httpx

from lambda_local.durable import DurableEngine
from lambda_local.environments import container_logs, containers, function_envs, log_format, reload
from lambda_local.environments.containers import Container, ContainerEnvironment
from lambda_local.environments.debug_guard import DebugGuard, host_peers
from lambda_local.environments.instance import Instance
from lambda_local.environments.log_buffer import LogBuffer
from lambda_local.environments.pool import AccountConcurrency, FunctionRuntime
from lambda_local.environments.processes import RieProcess, free_port, private_host, stop_leftovers
from lambda_local.environments.sandbox import Sandbox, sandbox
from lambda_local.environments.variables import LOCAL_ENV, function_env, read_env_file
from lambda_local.events import recursion
from lambda_local.invocation.asynchronous import AsyncInvoker, Done
from lambda_local.invocation.deliveries import report
from lambda_local.invocation.event_store import EventStore, StoreError
from lambda_local.invocation.sent_records import SENT
from lambda_local.logs import LOG
from lambda_local.providers import (
    LOCAL_ACCOUNT,
    Destination,
    FunctionSpec,
    QueueTrigger,
    SqsTrigger,
    StreamTrigger,
    Template,
    filters,
    load,
)
from lambda_local.settings import DEBUG_ADDRESS, LOOPBACK, RIE_PORT, TRACES_FILE, Settings
from lambda_local.sources import provision
from lambda_local.sources.notifications import TRIGGER_VISIBILITY_S, QueuePoller
from lambda_local.sources.schedules import Scheduler
from lambda_local.sources.sqs import SqsMapping
from lambda_local.sources.streams import CheckpointError, DynamoDBStream, KinesisStream, StreamMapping, StreamSource
from lambda_local.traces import recorder
from lambda_local.traces.store import TraceStore

ACCOUNT = LOCAL_ACCOUNT


def keeper(patterns: tuple[str, ...], source: str, name: str) -> Callable[[dict[str, Any]], bool] | None:
    """What a mapping's FilterCriteria keep of a record (filters.py); None without filters."""
    if not patterns:
        return None
    parsed = filters.parse_filters({"Filters": [{"Pattern": p} for p in patterns]}, name)
    return partial(filters.keep, parsed, source=source)


LAMBDA_ACCOUNT_LIMIT = 1000  # Lambda's default concurrent executions per account and region


def account_limit(settings: Settings) -> tuple[int, str]:
    """The account's concurrency limit and why it is that: LAMBDA_LOCAL_ACCOUNT_CONCURRENCY, else Lambda's
    default. Either way the machine's memory bounds the environments (runtimes.AccountConcurrency)."""
    memory = "environments as many as this machine's available memory holds, idle ones retired first"
    if settings.account_concurrency:
        return settings.account_concurrency, f"LAMBDA_LOCAL_ACCOUNT_CONCURRENCY; {memory}"
    return LAMBDA_ACCOUNT_LIMIT, f"Lambda's default; {memory}"


class Plane:
    def __init__(self, template: Template, settings: Settings) -> None:
        self.template = template
        self.settings = settings
        self.client = httpx.AsyncClient(limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200))
        limit, why = account_limit(settings)
        self.account = AccountConcurrency(limit, why=why)
        self.engine: containers.Engine | None = None
        self.runtimes: dict[str, FunctionRuntime] = {}
        self.logs: dict[str, LogBuffer] = {}  # by function folder (the compose service in Docker mode)
        self._syslog: asyncio.DatagramTransport | None = None
        self.invokers: dict[str, AsyncInvoker] = {}
        self.by_port = {fn.port: fn.lambda_name for fn in template.functions if fn.port is not None}
        self._sqs: Any = None
        self.pollers: list[QueuePoller] = []
        self.mappings: list[StreamMapping] = []
        self.sqs_mappings: list[SqsMapping] = []
        self.problems: list[str] = []
        self.broken: dict[str, str] = {}  # function -> why its current code does not load (hot reload)
        self.environments: dict[str, dict[str, str]] = {}  # host mode: each function's runtime environment
        self.function_envs = function_envs.FunctionEnvs(LOG.info)  # host mode: each function's own Python
        self.store = EventStore(
            settings.state_dir / "events.sqlite"
        )  # what does not run (`make status` shows them and exits 1)
        self.traces = TraceStore(settings.state_dir / TRACES_FILE)  # spans: the plane's own and the functions'
        self.scheduler = Scheduler(list(template.schedules), ACCOUNT, settings.region, self.submit)
        self._watching = asyncio.Event()  # set: the code watcher stops (reload.py)
        self._watcher: asyncio.Task[None] | None = None
        self._debug_guard: DebugGuard | None = None
        self.durable: DurableEngine | None = None  # durable executions (AWS's runner, lambda_local/durable)

    def aws(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.settings.aws_endpoint, region_name=self.settings.region)

    def submit(
        self,
        function: str,
        payload: bytes,
        source: str,
        done: Done | None = None,
        durable: bool = False,
        trace: str | None = None,
    ) -> str:
        """Hand an event to `function`'s asynchronous queue (what an AWS event source does); `trace`: the
        trace header its invocation continues (recorder.onward)."""
        return self.invokers[function].submit(payload, source, done=done, durable=durable, trace=trace)

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.settings.region}:{ACCOUNT}:function:{name}"

    def _sandbox(self, fn: FunctionSpec) -> Sandbox:
        """Docker mode: `fn`'s container settings, reaching this plane by its service name and syslog port."""
        return sandbox(self.template, fn, self.settings.function_lambda_endpoint, self.settings.syslog_address)

    def _runtime(self, fn: FunctionSpec) -> FunctionRuntime:
        """Host mode: environments made on demand, each an RIE process with a log buffer of its own (its
        request ids and log tail are its own) writing to the function's log file. Docker mode: the
        function's compose container, a fixed pool of one; with the engine's socket, more containers on
        demand (without compose containers, LAMBDA_LOCAL_COMPOSE_FUNCTIONS=0: only those)."""
        path = self.settings.log_dir / f"{fn.directory}.log"
        fmt = log_format.formatter(fn.logging)  # LoggingConfig: JSON platform lines, or the text as printed
        if self.settings.mode == "docker":
            fixed: list[Instance] = []
            if self.settings.compose_functions:
                log = LogBuffer(path, fmt)
                self.logs[fn.directory] = log
                fixed.append(Container(fn, f"http://{fn.directory}:{RIE_PORT}", log))
            if self.engine is None:
                return FunctionRuntime(fn, None, self.client, self.account, self.settings.idle_s, fixed=fixed)
            box, found, local_env = self._sandbox(fn), self.engine, read_env_file(LOCAL_ENV)

            def container_environment() -> Instance:
                debug = docker_runtime.debugging  # `make debug`: a container of the function's debug image
                return ContainerEnvironment(fn, box, found, local_env, LogBuffer(path, fmt), self.logs, debug)

            docker_runtime = FunctionRuntime(
                fn, container_environment, self.client, self.account, self.settings.idle_s, fixed=fixed
            )
            return docker_runtime
        env = function_env(self.template, fn, self.settings.aws_endpoint, self.settings.lambda_endpoint)
        env["LAMBDA_LOCAL_STATE"] = str(self.settings.state_dir)  # whose runtime it is (stop_leftovers)
        self.environments[fn.lambda_name] = env

        def environment() -> Instance:
            debug = runtime.debugging  # `make debug`: this environment waits for an editor (debugpy)
            host = private_host()  # unpublished, unguessable: the RIE itself checks no Host or Origin
            log = LogBuffer(path, fmt)
            python = self.function_envs.python(fn)
            return RieProcess(
                fn, free_port(host), free_port(host), env, self.settings.rie, log, debug=debug, host=host, python=python
            )

        runtime = FunctionRuntime(fn, environment, self.client, self.account, self.settings.idle_s)
        return runtime

    async def _send(self, destination: Destination, record: dict[str, Any]) -> None:
        """A destination record to its queue, topic, or function (an asynchronous invocation of it)."""
        body = json.dumps(record)
        if destination.type == "Lambda":  # its invocation continues the destination span's trace
            sent = recorder.current()
            trace = recorder.onward(sent, destination.name) if sent else None
            self.submit(destination.name, body.encode(), "destination", durable=True, trace=trace)
            return
        if destination.type == "SNS":
            topic = f"arn:aws:sns:{self.settings.region}:{ACCOUNT}:{destination.name}"
            await asyncio.to_thread(self.aws("sns").publish, TopicArn=topic, Message=body)
            return
        if self._sqs is None:
            self._sqs = self.aws("sqs")
        url = (await asyncio.to_thread(self._sqs.get_queue_url, QueueName=destination.name))["QueueUrl"]
        sent = await asyncio.to_thread(self._sqs.send_message, QueueUrl=url, MessageBody=body)
        SENT.record(destination.name, sent, body)  # the console lists it without receiving from the queue

    def _sender(self, destination: Destination | None) -> Any:
        """What sends a record (on failure or on success) to `destination`; None without one."""
        return partial(self._send, destination) if destination else None

    async def start(self) -> None:
        self.traces.start()
        recorder.RECORDER.attach(self.traces)
        if self.settings.mode == "host" and (
            left := await asyncio.to_thread(stop_leftovers, str(self.settings.state_dir))
        ):
            LOG.info(f"stopped {left} runtimes an earlier plane left")
        if self.settings.mode == "host":  # `make up` made them: a no-op then (function_envs.py)
            await asyncio.to_thread(self.function_envs.prepare, self.template.functions)
        if self.settings.mode == "docker":
            self.engine = await asyncio.to_thread(containers.engine)
            if self.engine is None and not self.settings.compose_functions:
                raise RuntimeError(
                    "LAMBDA_LOCAL_COMPOSE_FUNCTIONS=0: the plane starts every environment itself, which needs the "
                    "Docker engine's socket (mount /var/run/docker.sock into its container)"
                )
            if self.engine is None:
                LOG.info("no Docker engine socket: one container per function")
            elif removed := await asyncio.to_thread(containers.remove_leftovers, self.engine):
                LOG.info(f"removed {removed} environments an earlier plane left")
        for fn in self.template.functions:
            runtime = self._runtime(fn)
            self.runtimes[fn.lambda_name] = runtime
            invoker = AsyncInvoker(
                runtime,
                fn.async_config,
                self.function_arn(fn.lambda_name),
                self._sender(fn.async_config.on_failure),
                report,
                self.settings.retry_delays,
                self.store,
                send_success=self._sender(fn.async_config.on_success),
            )
            self.invokers[fn.lambda_name] = invoker
        if self.settings.mode == "docker":  # the containers' output, into the buffers _instances made
            self._syslog, _ = await container_logs.receive(
                self.logs, self.settings.bind_host, self.settings.syslog_port, host_peers()
            )
        if self.settings.debug:
            await self.debug(self.settings.debug, True)
        await asyncio.gather(*(runtime.start() for runtime in self.runtimes.values()))
        for invoker in self.invokers.values():
            invoker.start()
        self._resume()
        await self._start_durable()
        for warning in self.template.warnings:
            LOG.warning(warning)
        self.pollers = [await asyncio.to_thread(self._connect, t) for t in self.template.queue_triggers]
        for t in self.template.queue_triggers:
            LOG.info(f"{t.event.type} {t.source_name} -> {t.function} (queue {t.queue_name})")
        for poller in self.pollers:
            poller.start()
        for trigger in self.template.stream_triggers:
            fn = self.template.function(trigger.function)
            source = await asyncio.to_thread(self._stream_source, fn, trigger)
            try:
                mapping = StreamMapping(
                    fn,
                    trigger,
                    source,
                    self.runtimes[fn.lambda_name],
                    self.function_arn(fn.lambda_name),
                    self._sender(trigger.on_failure),
                    report,
                    self.settings.state_dir / "checkpoints",
                )
            except CheckpointError as exc:  # this mapping stops; the rest of the plane runs
                problem = f"{fn.lambda_name}.{trigger.event.name} stopped: {exc}"
                self.problems.append(problem)
                LOG.warning(problem)
                continue
            mapping.keep = keeper(
                trigger.settings.filters, trigger.kind.lower(), f"{fn.lambda_name}.{trigger.event.name}"
            )
            await mapping.start()
            self.mappings.append(mapping)
        for sqs_trigger in self.template.sqs_triggers:
            sqs_mapping = await asyncio.to_thread(self._sqs_mapping, sqs_trigger)
            sqs_mapping.start()
            self.sqs_mappings.append(sqs_mapping)
            LOG.info(
                f"SQS {sqs_trigger.queue_name} -> {sqs_trigger.function} "
                f"(batch {sqs_trigger.settings.batch_size}, {sqs_mapping.pollers} pollers)"
            )
        self.scheduler.start()
        if reload.enabled():
            say = LOG.info
            watcher = reload.watch(self.template, self.reload_function, self._watching, say)
            self._watcher = asyncio.create_task(watcher)
            self._watcher.add_done_callback(reload.said_if_failed(say))

    async def reload_function(self, function: str, files: list[Path]) -> None:
        """New environments on `function`'s changed code (reload.py); busy ones retire after their invocation.
        Code that does not load (a syntax error; host mode: any error importing its handler's module) is
        said on one line naming the file and line, and kept among the problems until an edit fixes it;
        the new environments start anyway, so invocations answer that error, as Lambda's would."""
        runtime, started = self.runtimes[function], time.perf_counter()
        root, detail = self.template.path.parent, ""
        if self.settings.mode == "host" and reload.packages_changed(files):  # re-locked and re-synced first
            made = await asyncio.to_thread(self.function_envs.update, runtime.fn)
            if reload.only_lock(files) and not made.made and made.problem is None:
                return  # the lock its own re-lock just wrote: the environment has it already
            detail = f"environment updated in {made.took_s:.1f}s, " if made.made else ""
        broken = reload.syntax_error(files, root)
        if broken is None and self.settings.mode == "host" and function in self.environments:
            python = self.function_envs.python(runtime.fn)
            broken = await reload.import_error(runtime.fn, self.environments[function], root, python=python)
        try:
            if self.settings.mode == "docker":  # environments are containers of the function's image
                if self.engine is None:
                    raise RuntimeError("Docker mode reloads need the engine's socket (compose.yaml mounts it)")
                took = await asyncio.to_thread(containers.build_image, self.engine, runtime.fn, root)
                detail = f"image {runtime.fn.image} rebuilt in {took:.2f}s, "
                if broken is None:
                    box, local_env = self._sandbox(runtime.fn), read_env_file(LOCAL_ENV)
                    broken = await asyncio.to_thread(containers.import_error, self.engine, runtime.fn, box, local_env)
            await runtime.restart(replace_fixed=self.settings.mode == "docker")
        except Exception as exc:  # the build failed, or the new environment did not start
            LOG.info(f"{reload.timed_line(function, files, root, started, str(exc))}")
            return
        if broken is not None:
            self.broken[function] = broken
            LOG.info(reload.broken_line(function, files, root, broken))
            return
        self.broken.pop(function, None)
        LOG.info(reload.timed_line(function, files, root, started, detail=detail))

    async def debug(self, function: str, on: bool) -> FunctionRuntime:
        """Run `function` (name, ARN, folder or logical id) in a debug environment from its next
        invocation on, or no longer; KeyError when there is no such function, RuntimeError when its
        environments cannot be debugged here."""
        runtime = self.runtime(function) or next(
            (
                self.runtimes[fn.lambda_name]
                for fn in self.template.functions
                if function in (fn.directory, fn.logical_id)
            ),
            None,
        )
        if runtime is None:
            raise KeyError(function)
        if self.settings.mode == "docker" and self.engine is None:
            raise RuntimeError("Docker mode debugs in containers the plane starts: it needs the engine's socket")
        await runtime.debug(on)
        if self.settings.mode == "host":
            self._guard_debugger()
        host, port = DEBUG_ADDRESS
        if on:
            LOG.info(
                f"{runtime.fn.lambda_name}: its next invocation waits for a debugger on {host}:{port} "
                f"(one invocation at a time; its {runtime.fn.timeout_s} s timeout is suspended while debugging)"
            )
        else:
            LOG.info(f"{runtime.fn.lambda_name}: debugging off")
        return runtime

    def _debug_target(self) -> tuple[str, int] | None:
        """Where the newest debug environment's debugpy listens (host mode), for the debugger's guard."""
        addresses = [
            (env.last_used, address)
            for runtime in self.runtimes.values()
            if runtime.debugging
            for env in runtime.environments
            if (address := getattr(env, "debug_address", None)) is not None and env.alive()
        ]
        return max(addresses)[1] if addresses else None

    def _guard_debugger(self) -> None:
        """Host mode: the debugger's guard listens on DEBUG_ADDRESS while any function is debugged."""
        debugging = any(runtime.debugging for runtime in self.runtimes.values())
        if debugging and self._debug_guard is None:
            self._debug_guard = DebugGuard(DEBUG_ADDRESS, self._debug_target)
            try:
                self._debug_guard.start()
            except OSError as exc:
                self._debug_guard = None
                raise RuntimeError(f"cannot listen on {DEBUG_ADDRESS[0]}:{DEBUG_ADDRESS[1]}: {exc.strerror}") from None
        elif not debugging and self._debug_guard is not None:
            self._debug_guard.close()
            self._debug_guard = None

    def _resume(self) -> None:
        """The events a plane before this one accepted and did not settle."""
        resumed = 0
        try:
            for stored in self.store.pending():  # read a page at a time
                if stored.function in self.invokers:
                    self.invokers[stored.function].resume(stored)
                    resumed += 1
                    continue
                LOG.info(f"{stored.request_id} is for {stored.function}, gone from the template")
                with contextlib.suppress(StoreError):  # counted in the store's problem: the next start drops it
                    self.store.remove(stored.request_id)
        except StoreError as exc:  # the rest stay stored, for the next start
            problem = f"resuming stored events stopped after {resumed}: {exc}"
            self.problems.append(problem)
            LOG.warning(problem)
        if resumed:
            LOG.info(f"resumed {resumed} accepted events an earlier plane did not settle")

    async def _start_durable(self) -> None:
        """The durable engine, its handler invocations sent to this plane's own Invoke API (listening
        already: __main__ opens the sockets first), and what a plane before this one left running."""
        endpoint = f"http://{LOOPBACK}:{self.settings.invoke_port}"
        self.durable = DurableEngine(
            self.template.functions, self.settings.state_dir, endpoint, self.settings.region, ACCOUNT
        )
        if resumed := await asyncio.to_thread(self.durable.start):
            LOG.info(f"durable: resumed {resumed} executions an earlier plane left running")

    def _stream_source(self, fn: FunctionSpec, trigger: StreamTrigger) -> StreamSource:
        """The table's stream (DynamoDB) or the Kinesis stream of a stream trigger, on the local endpoint."""
        name = trigger.stream_name
        if trigger.kind == "DynamoDB":
            table = self.aws("dynamodb").describe_table(TableName=name)["Table"]
            if "LatestStreamArn" not in table:
                raise RuntimeError(f"table {name} has no stream: enable StreamSpecification")
            return DynamoDBStream(self.aws("dynamodbstreams"), table["LatestStreamArn"], self.settings.region)
        role = f"arn:aws:iam::{ACCOUNT}:role/{fn.lambda_name}-role"
        return KinesisStream(self.aws("kinesis"), name, self.settings.region, role)

    def _sqs_mapping(self, trigger: SqsTrigger) -> SqsMapping:
        """The mapping of an SQS event to the template's queue (provisioned with the stack's resources)."""
        sqs = self.aws("sqs")
        url = sqs.get_queue_url(QueueName=trigger.queue_name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        keep = keeper(trigger.settings.filters, "sqs", f"{trigger.function}.{trigger.event.name}")
        runtime = self.runtimes[trigger.function]
        policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
        dead_letters = recursion.dead_letter_queue(policy.get("RedrivePolicy"))
        dead_letter_url = sqs.get_queue_url(QueueName=dead_letters)["QueueUrl"] if dead_letters else None
        return SqsMapping(trigger, sqs, url, arn, runtime, report, self.settings.region, keep, dead_letter_url)

    def _connect(self, trigger: QueueTrigger) -> QueuePoller:
        """The poller of a trigger's queue, the queue and its topic's or bucket's notification to it made first."""
        # Short: the poller extends it while a message waits or runs, and a plane killed meanwhile leaves
        # its messages to the next one within this many seconds.
        url, subscription = provision.connect_trigger(trigger, self.aws, TRIGGER_VISIBILITY_S)
        fn = self.template.function(trigger.function)
        fail = self._sender(fn.async_config.on_failure)
        return QueuePoller(
            trigger,
            self.aws("sqs"),
            url,
            subscription,
            self.submit,
            fail,
            self.function_arn(fn.lambda_name),
            TRIGGER_VISIBILITY_S,
        )

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watching.set()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._watcher, 2)
        self.scheduler.stop()
        for mapping in self.mappings:
            mapping.stop()
        for poller in self.pollers:
            poller.stop()
        for sqs_mapping in self.sqs_mappings:
            sqs_mapping.stop()
        for invoker in self.invokers.values():
            invoker.stop()
        await asyncio.gather(*(runtime.stop() for runtime in self.runtimes.values()), return_exceptions=True)
        if self._syslog is not None:
            self._syslog.close()
        if self._debug_guard is not None:
            self._debug_guard.close()
        if self.durable is not None:
            await asyncio.to_thread(self.durable.stop)
        self.store.close()
        recorder.RECORDER.attach(None)
        await asyncio.to_thread(self.traces.close)
        await self.client.aclose()

    def all_problems(self) -> list[str]:
        """What does not run as declared, for `make status` (which then exits 1) and the console: stopped
        mappings, crash-looping runtimes, code that does not load, the event store's failures."""
        crashing = [
            f"{name} {runtime.supervision.describe()}"
            for name, runtime in self.runtimes.items()
            if runtime.supervision.crash_looping
        ]
        broken = [f"{name}: its code does not load: {why}" for name, why in self.broken.items()]
        store = self.store.problem()
        return self.problems + crashing + broken + self.function_envs.problems() + ([store] if store else [])

    def runtime(self, name: str) -> FunctionRuntime | None:
        """A runtime by function name, ARN (`arn:aws:lambda:...:function:name[:qualifier]`) or
        partial ARN (`account:function:name`)."""
        if ":function:" in name:
            name = name.split(":function:", 1)[1]
        name = name.split(":", 1)[0]
        return self.runtimes.get(name)


def build(settings: Settings | None = None) -> Plane:
    """The plane of LAMBDA_LOCAL_TEMPLATE (default: the project's template.yaml)."""
    path = os.environ.get("LAMBDA_LOCAL_TEMPLATE")
    return Plane(load(Path(path).resolve()) if path else load(), settings or Settings.from_env())
