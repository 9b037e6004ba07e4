"""Per function: its runtime instances (RIE processes, or containers) behind one bounded queue.

The RIE serves one invocation at a time (a second overlapping request crashes it), so every
invocation of a function waits in that function's queue until one of its instances is free; a full
queue is Lambda's throttle. In host mode the instances are processes this module starts and restarts
when they die; in Docker mode they are the compose services (compose restarts them). This is the
only code that opens a connection to an RIE.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import psutil

from lambda_local.environments.instance import (
    INIT_CONTEXT,
    INITIALIZED,
    RIE_INVOKE_PATH,
    TAIL_BYTES,
    Instance,
    InvokeResult,
    NotReached,
    classify,
    client_context,
    error_payload,
)
from lambda_local.environments.supervision import Supervision
from lambda_local.events import recursion
from lambda_local.providers import FunctionSpec

# A synchronous invocation waits at most this long for a crash-looping runtime's next start; longer,
# and it is answered Runtime.ExitError at once (an asynchronous one waits: Lambda's queue holds it).
SUPERVISED_WAIT_S = 2.0


class Throttled(Exception):
    """A concurrency limit says no (Lambda answers 429 TooManyRequestsException); the reason is the
    exception's argument: ReservedFunctionConcurrentInvocationLimitExceeded or
    ConcurrentInvocationLimitExceeded."""

    @property
    def reason(self) -> str:
        return str(self.args[0]) if self.args else "ConcurrentInvocationLimitExceeded"


RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"


MB = 1024 * 1024
DEFAULT_ENVIRONMENT_MB = 128.0  # what an environment is taken to use before one of its function's is measured


class MemoryGauge:
    """This machine's memory as environments are made: a new one is made only while the memory available
    now, less what it is expected to take (the measured size of its function's environments), keeps a
    reserve for everything else (a tenth of the machine, at least 512 MB)."""

    def __init__(self, available_mb: Callable[[], float] | None = None, total_mb: float | None = None) -> None:
        self.available_mb = available_mb or (lambda: psutil.virtual_memory().available / MB)
        total = total_mb if total_mb is not None else psutil.virtual_memory().total / MB
        self.reserve_mb = max(512.0, total * 0.1)

    def room_for(self, need_mb: float) -> bool:
        return self.available_mb() - need_mb >= self.reserve_mb


class AccountConcurrency:
    """Lambda's account-level concurrency: the in-flight invocations of every function, capped (Lambda's
    default 1,000, or LAMBDA_LOCAL_ACCOUNT_CONCURRENCY); and, locally, the execution environments alive at
    once (idle ones included), bounded by the machine's memory: a new environment that does not fit in
    the memory available now first retires the least recently used idle environments of any function,
    and only when none is left is its invocation throttled (or, from an event source, made to wait)."""

    def __init__(self, limit: int, gauge: MemoryGauge | None = None, why: str = "") -> None:
        self.limit = limit
        self.gauge = gauge or MemoryGauge()
        self.why = why
        self.in_flight = 0
        self.memory_throttles = 0
        self.runtimes: list[FunctionRuntime] = []
        self._changed = asyncio.Event()

    def take(self) -> bool:
        if self.in_flight >= self.limit:
            return False
        self.in_flight += 1
        return True

    def give(self) -> None:
        self.in_flight -= 1
        self.changed()

    def changed(self) -> None:
        """Wake every invocation waiting for room (an invocation ended, an environment went idle)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, timeout: float = 0.5) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def environments(self) -> int:
        return sum(len(r.environments) for r in self.runtimes)

    def evict_idle(self) -> Instance | None:
        """The least recently used idle environment of any function, taken out of its pool."""
        idle = [(env.last_used, r, env) for r in self.runtimes for env in r.idle if env not in r.fixed]
        if not idle:
            return None
        _, runtime, env = min(idle, key=lambda entry: entry[0])
        runtime.retire(env)
        return env

    def room_for(self, need_mb: float) -> bool:
        """Whether a new environment of `need_mb` fits in memory, idle environments retired to make room
        (the memory of one being stopped counts as freed: its process is on its way out)."""
        freed = 0.0
        while not self.gauge.room_for(need_mb - freed):
            evicted = self.evict_idle()
            if evicted is None:
                self.memory_throttles += 1
                return False
            freed += evicted.measured_mb or DEFAULT_ENVIRONMENT_MB
        return True

    def state(self) -> dict[str, Any]:
        return {
            "concurrency_limit": self.limit,
            "in_flight": self.in_flight,
            "why": self.why,
            "environments": self.environments(),
            "available_mb": round(self.gauge.available_mb()),
            "reserve_mb": round(self.gauge.reserve_mb),
            "memory_throttles": self.memory_throttles,
        }


# Errors after which the RIE runs the next invocation in a new runtime (a timeout, a runtime that exited).
_RESET_ERRORS = re.compile(rb'"errorType": ?"(Sandbox\.Timedout|Runtime\.ExitError)"')


class FunctionRuntime:
    """A function's execution environments: created on demand, one invocation at a time each, reused
    warm (the most recently used first), stopped after `idle_s` without work; capped by the function's
    reserved concurrency and the account's. `fixed` environments (Docker mode's compose container) are
    permanent: never retired or reaped; without a `factory` they are the whole pool, and an invocation
    waits for one of them to be free."""

    def __init__(
        self,
        fn: FunctionSpec,
        factory: Callable[[], Instance] | None,
        client: httpx.AsyncClient,
        account: AccountConcurrency,
        idle_s: float = 300.0,
        fixed: list[Instance] | None = None,
    ) -> None:
        self.fn = fn
        self.factory = factory
        self.client = client
        self.account = account
        self.idle_s = idle_s
        self.fixed = fixed or []
        self.environments: list[Instance] = list(self.fixed)
        self.idle: list[Instance] = list(self.fixed)
        self.in_flight = 0
        self.waiting = 0
        self.cold_starts = 0
        self.throttles = 0
        self.died = 0
        self.supervision = Supervision()
        self.debugging = False  # its environments run under debugpy, one invocation at a time
        self._tasks: list[asyncio.Task[None]] = []
        account.runtimes.append(self)

    @property
    def instances(self) -> list[Instance]:
        return self.environments

    @property
    def concurrency(self) -> int:
        """How many invocations of this function may run at once."""
        if self.factory is None:
            return len(self.fixed)
        cap = self.account.limit
        return cap if self.fn.reserved_concurrency is None else min(cap, self.fn.reserved_concurrency)

    async def start(self) -> None:
        await asyncio.gather(*(instance.start() for instance in self.fixed))
        if self.factory is not None:
            await self._warm(max(0, self.fn.provisioned_concurrency - len(self.fixed)))
            self._tasks.append(asyncio.create_task(self._reap()))

    async def _warm(self, count: int, initialize: bool = True) -> None:
        """`count` environments started ahead of any invocation (provisioned concurrency: initialized too,
        as Lambda's run their init ahead; a restart: their init runs at their first invocation)."""
        fresh = [self._new() for _ in range(count)]
        await asyncio.gather(*(env.start() for env in fresh))
        if initialize:
            await asyncio.gather(*(self._initialize(env) for env in fresh))
        for env in fresh:
            env.warm = True
            env.last_used = time.monotonic()
            self.idle.append(env)
        self.account.changed()

    def _new(self) -> Instance:
        assert self.factory is not None
        while self.account.environments() >= self.account.limit and self.account.evict_idle():
            pass
        env = self.factory()
        self.environments.append(env)
        return env

    def retire(self, env: Instance) -> None:
        """Take `env` out of the pool and stop it in the background."""
        if env in self.idle:
            self.idle.remove(env)
        if env in self.environments:
            self.environments.remove(env)
        task = asyncio.get_running_loop().create_task(env.stop())
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*(env.stop() for env in self.environments), return_exceptions=True)

    def _serves(self, env: Instance, tenant: str | None) -> bool:
        """Whether `env` may take an invocation of `tenant`: in tenant isolation mode an environment serves
        the one tenant it was made for, all its life (Lambda's PER_TENANT); compose's container (Docker mode
        without an engine the plane drives) is the only one there is, and serves all."""
        return not self.fn.tenant_isolation or env.tenant == tenant or (self.factory is None and env in self.fixed)

    def _take_idle(self, tenant: str | None) -> Instance | None:
        """The most recently used idle environment that may serve `tenant`, out of the idle list."""
        if not self.fn.tenant_isolation:  # every environment serves: the last one, as it is
            return self.idle.pop() if self.idle else None
        for index in range(len(self.idle) - 1, -1, -1):
            if self._serves(self.idle[index], tenant):
                return self.idle.pop(index)
        return None

    def _limit_reason(self, tenant: str | None = None) -> str | None:
        reserved = 1 if self.debugging else self.fn.reserved_concurrency  # one debugger port, one session
        if reserved is not None and self.in_flight >= reserved:
            return RESERVED_LIMIT
        if self.factory is None and not self.idle:
            return RESERVED_LIMIT  # the fixed pool is busy: wait for it
        if not self.account.take():
            return ACCOUNT_LIMIT
        new = self.factory is not None and not any(env.alive() for env in self.idle if self._serves(env, tenant))
        if new and not self.account.room_for(self.need_mb()):  # a new environment: does it fit in memory?
            self.account.give()
            return ACCOUNT_LIMIT
        return None

    def need_mb(self) -> float:
        """What a new environment of this function is expected to take: the largest measured of its
        environments, else the account's largest measured, else DEFAULT_ENVIRONMENT_MB."""
        own = [env.measured_mb for env in self.environments if env.measured_mb]
        if own:
            return max(own)
        anyone = [env.measured_mb for r in self.account.runtimes for env in r.environments if env.measured_mb]
        return max(anyone) if anyone else DEFAULT_ENVIRONMENT_MB

    async def _acquire(self, wait: bool, tenant: str | None = None) -> tuple[Instance, bool]:
        """An environment for one invocation, and whether this is its cold start; Throttled (with
        Lambda's reason) when a limit says no and `wait` is false, else wait for room."""
        self.waiting += 1
        try:
            while (reason := self._limit_reason(tenant)) is not None:
                if not wait:
                    self.throttles += 1
                    raise Throttled(reason)
                await self.account.wait()
        finally:
            self.waiting -= 1
        self.in_flight += 1
        try:
            while (env := self._take_idle(tenant)) is not None:
                if env.alive():
                    cold = not env.invocations and not env.warm
                    if not env.initialized:  # a restart's fresh one, or one whose runtime the RIE reset
                        try:
                            await self._initialize(env)
                        except BaseException:  # cancelled: a compose container stays, any other goes
                            self.idle.append(env) if env in self.fixed else self.retire(env)
                            raise
                    return env, cold
                self.died += 1
                self.retire(env)
            env = self._new()
            env.tenant = tenant if self.fn.tenant_isolation else None
            try:
                await env.start()
                await self._initialize(env)
            except BaseException:
                self.retire(env)
                raise
            return env, True
        except BaseException:
            self.in_flight -= 1
            self.account.give()
            raise

    async def _initialize(self, env: Instance) -> None:
        """A new environment's init phase, apart from its first invocation as in Lambda: an invocation marked
        `init`, which the runtime shim answers once the handler's module is imported, the handler never
        called (runtime_shim.py). Lambda counts no init against the function's Timeout; the RIE would count
        it against the first invocation's. Once per environment; not for a debug one (it waits for the
        editor first) or a runtime without the shim. A failed init is left to the first invocation, which
        the RIE runs it again for and answers with its error, as Lambda's first invocation does."""
        if env.initialized or not env.assigns_ids or self.debugging or env.timeout_s != self.fn.timeout_s:
            return
        env.initialized = True
        env.log.expect_init()
        try:
            response = await self.client.post(
                env.url + RIE_INVOKE_PATH,
                content=b"{}",
                headers={"X-Amz-Client-Context": INIT_CONTEXT},
                timeout=httpx.Timeout(env.timeout_s + 30, connect=10),
            )
            done = response.status_code == 200 and response.content == INITIALIZED
        except httpx.TransportError:
            done = False
        await env.log.wait_init(1.0 if done else 0.0)  # its lines, before the next invocation's (syslog)

    def _release(self, env: Instance, reusable: bool, busy_s: float = 0.0) -> None:
        """`env`'s invocation is over for its caller: back to the pool when `reusable`, else retired. A
        compose container (fixed) always comes back, but one left mid-invocation (`busy_s`: it may run
        that long still) only once its runtime has surely finished: the RIE takes one call at a time."""
        self.in_flight -= 1
        if env.invocations % 20 == 0:  # its first invocation (imports done) and now and then: measured
            env.measured_mb = env.memory_mb() or env.measured_mb
        env.invocations += 1
        env.last_used = time.monotonic()
        if env in self.fixed and busy_s > 0:
            asyncio.get_running_loop().call_later(busy_s + 1, self._back, env)
        elif env in self.fixed:
            self.idle.append(env)  # compose brings a dead container back in place
        elif reusable and not env.retiring and env in self.environments:
            self.idle.append(env)
        else:
            self.died += 0 if env.retiring else 1
            self.retire(env)
        self.account.give()

    def _back(self, env: Instance) -> None:
        if env in self.fixed and env not in self.idle:
            self.idle.append(env)
            self.account.changed()

    async def invoke(
        self,
        payload: bytes,
        tail: bool = False,
        wait: bool = False,
        request_id: str | None = None,
        trace_id: str | None = None,
        tenant: str | None = None,
    ) -> InvokeResult:
        """Run one invocation in a free environment (a new one when none is idle): Throttled with
        Lambda's reason when a concurrency limit says no, unless `wait` (an asynchronous or event-source
        invocation, which Lambda's internal queue holds until there is room). `request_id` and
        `trace_id` (default: new ones) are what the function sees, where its runtime takes them."""
        delay = self.supervision.wait_s()
        if delay > 0:  # the runtime keeps exiting: its next start is held back
            if not wait and delay > SUPERVISED_WAIT_S:
                return self._exit_result(f"{self.supervision.describe()}; next start in {delay:.0f}s")
            await asyncio.sleep(delay)
        for attempt in range(3):
            try:
                env, cold = await self._acquire(wait or self.factory is None, tenant)
            except RuntimeError as exc:  # its environment did not start (the RIE exited, no port)
                self.supervision.exited([f"environment did not start: {exc}"])
                return self._exit_result(f"environment did not start: {exc}")
            try:
                result = await self._call(env, tail, payload, request_id, trace_id, tenant)
            except NotReached:
                self._release(env, reusable=False)
                await asyncio.sleep(0.1 * attempt)
                continue
            except Exception as exc:  # the caller gets a Lambda-shaped error, never a dropped request
                result = InvokeResult(error_payload("Runtime.Unknown", str(exc)[:500]), "Unhandled", "", "", 0.0)
            except BaseException:  # cancelled mid-invocation: the runtime may still be at work
                self._release(env, reusable=False, busy_s=env.timeout_s)
                raise
            if result.function_error and _RESET_ERRORS.search(result.payload[:200]):
                env.initialized = False  # the RIE starts its runtime again at the next invocation: init first
            self._release(env, reusable=env.alive())
            if cold:
                self.cold_starts += 1
            if b'"Runtime.ExitError"' in result.payload[:200] and result.function_error:
                self.supervision.exited(list(env.log.lines)[-12:])
            else:
                self.supervision.healthy()
            return replace(result, cold_start=cold)
        message = f"{self.fn.lambda_name}: no execution environment could be reached"
        return InvokeResult(error_payload("Runtime.Unknown", message), "Unhandled", "", "", 0.0)

    def _exit_result(self, why: str) -> InvokeResult:
        request_id = str(uuid.uuid4())
        message = f"RequestId: {request_id} Error: Runtime exited ({self.fn.lambda_name} {why})"
        return InvokeResult(error_payload("Runtime.ExitError", message), "Unhandled", request_id, "", 0.0)

    async def invoke_when_free(
        self, payload: bytes, request_id: str | None = None, trace_id: str | None = None, tenant: str | None = None
    ) -> InvokeResult:
        """An event source's invocation: over a limit it waits for room (a throttled event or batch is
        not a failed one and uses up no retry)."""
        return await self.invoke(payload, wait=True, request_id=request_id, trace_id=trace_id, tenant=tenant)

    async def restart(self, replace_fixed: bool = False) -> None:
        """Retire every idle environment (busy ones after their invocation) and start one fresh: the
        next invocation is a plain cold start, not one that also waits for a process to start.
        `replace_fixed` (Docker mode's reload: the function's image was rebuilt): compose's container
        of the old image leaves the pool too, and environments of the new image take over."""
        if replace_fixed and self.factory is not None:
            for env in self.fixed:
                if env in self.idle:
                    self.idle.remove(env)
                if env in self.environments:
                    self.environments.remove(env)
                env.retiring = True  # busy: leaves after its invocation (compose keeps the container)
            self.fixed = []
        for env in list(self.environments):
            if env in self.fixed:
                continue  # Docker mode: `docker compose restart <service>` (the stack's restart_function)
            if env in self.idle:
                self.retire(env)
            else:
                env.retiring = True
        if self.fixed or self.factory is None or self.fn.tenant_isolation:  # a tenant's environment starts on its call
            return
        await self._warm(max(1, self.fn.provisioned_concurrency), initialize=self.fn.provisioned_concurrency > 0)
        for env in self.idle[-1:]:
            env.warm = False  # its first invocation is a cold start (its Init runs then)

    async def debug(self, on: bool) -> None:
        """From the next invocation on, run in a debug environment (or no longer): the environments
        there are retire, busy ones after their invocation."""
        if self.factory is None:
            raise RuntimeError("this function has no environments the plane starts (Docker mode without the engine)")
        self.debugging = on
        if on and self.fixed:  # Docker mode: compose's container runs no debugger; the plane's do
            for env in self.fixed:
                if env in self.idle:
                    self.idle.remove(env)
                if env in self.environments:
                    self.environments.remove(env)
                env.retiring = True
            self.fixed = []
        for env in list(self.environments):
            if env in self.fixed:
                continue
            if env in self.idle:
                self.retire(env)
            else:
                env.retiring = True

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.idle_s / 4))
            now = time.monotonic()
            keep = self.fn.provisioned_concurrency
            for env in sorted(self.idle, key=lambda e: e.last_used):
                if len(self.environments) <= keep:
                    break
                if env in self.fixed:
                    continue
                if not env.alive():  # died idle (killed, out of memory): counted as one found at its next use is
                    self.died += 1
                    self.retire(env)
                elif now - env.last_used >= self.idle_s:
                    self.retire(env)

    def state(self) -> dict[str, Any]:
        return {
            "function": self.fn.lambda_name,
            "queued": self.waiting,
            "idle": len(self.idle),
            "busy": self.in_flight,
            "cold_starts": self.cold_starts,
            "throttles": self.throttles,
            "died": self.died,
            "supervision": self.supervision.state(),
            "debugging": self.debugging,
            "reserved_concurrency": self.fn.reserved_concurrency,
            "provisioned_concurrency": self.fn.provisioned_concurrency,
            "tenant_isolation": self.fn.tenant_isolation,
            "instances": [env.state() | {"busy": env not in self.idle} for env in self.environments],
        }

    async def _call(
        self,
        instance: Instance,
        tail: bool,
        payload: bytes,
        request_id: str | None = None,
        trace_id: str | None = None,
        tenant: str | None = None,
    ) -> InvokeResult:
        status, body, mark, started = 0, b"", instance.log.count, time.perf_counter()
        headers = {}
        if instance.assigns_ids:
            assigned = request_id or str(uuid.uuid4())
            trace_id = trace_id or recursion.next_trace(None, self.fn.lambda_name)  # a chain starts here
            headers["X-Amz-Client-Context"] = client_context(assigned, trace_id, tenant)
        for attempt in range(3):
            if not instance.alive():
                raise NotReached
            mark = instance.log.count
            started = time.perf_counter()
            if instance.assigns_ids:
                instance.log.expect(assigned)
            try:
                response = await self.client.post(
                    instance.url + RIE_INVOKE_PATH,
                    content=payload,
                    headers=headers,
                    timeout=httpx.Timeout(instance.timeout_s + 30, connect=10),
                )
                status, body = response.status_code, response.content
            except httpx.ConnectError:
                # Never reached a runtime (it had just died): Lambda would use a fresh one. A compose
                # container is brought back in place by its restart policy: try it again.
                if instance.replaceable:
                    raise NotReached from None
                status, body = 0, b""
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            except httpx.TransportError:
                status, body = 0, b""  # the runtime died mid-invocation: the pool retires it
            break
        duration_ms = (time.perf_counter() - started) * 1000
        starts = instance.log.request_ids(mark)
        if not starts and status != 0:  # Docker mode: the lines come by syslog, a moment later
            await instance.log.wait_for(mark, "START RequestId", 0.5)
            starts = instance.log.request_ids(mark)
        request_id = starts[-1] if starts else str(uuid.uuid4())
        if not starts and status == 200:
            # No log line at all: trust the error keys awslambdaric always writes.
            with contextlib.suppress(ValueError, AttributeError):
                request_id = json.loads(body).get("requestId") or request_id
        result_payload, function_error = classify(status, body, request_id, instance.timeout_s)
        log_tail = ""
        if tail:
            await instance.log.wait_for(mark, "REPORT RequestId", 1.0)  # its last line (Docker mode: by syslog)
            text = "\n".join(instance.log.shown_since(mark)) + "\n"
            log_tail = text.encode()[-TAIL_BYTES:].decode(errors="ignore")
        return InvokeResult(result_payload, function_error, request_id, log_tail, duration_ms)
