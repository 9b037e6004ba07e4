"""How the RIE's answers become Lambda's answers, and how a function's execution environments scale out,
are reused, throttled and reaped (stub environments: the pool's logic without processes)."""

import asyncio
import json
from dataclasses import replace

import httpx
import pytest

from lambda_local.environments.instance import Instance, classify
from lambda_local.environments.log_buffer import LogBuffer
from lambda_local.environments.pool import (
    ACCOUNT_LIMIT,
    RESERVED_LIMIT,
    AccountConcurrency,
    FunctionRuntime,
    MemoryGauge,
    Throttled,
)
from lambda_local.plane import Settings, account_limit
from lambda_local.providers import load

RID = "8476a536-e9f4-4b8a-9b2e-6e5a1b3c4d5e"


def test_a_raised_exception_is_a_function_error_but_a_returned_lookalike_is_not():
    raised = json.dumps({"errorMessage": "x", "errorType": "ValueError", "requestId": RID, "stackTrace": []}).encode()
    assert classify(200, raised, RID, 3) == (raised, "Unhandled")
    returned = json.dumps({"errorMessage": "x", "errorType": "ValueError"}).encode()
    assert classify(200, returned, RID, 3) == (returned, None)
    other_id = json.dumps({"errorMessage": "x", "errorType": "E", "requestId": "someone-else"}).encode()
    assert classify(200, other_id, RID, 3)[1] is None


@pytest.mark.parametrize(
    ("status", "body", "error_type"),
    [
        (0, b"", "Runtime.ExitError"),
        (200, b"Task timed out after 3.00 seconds", "Sandbox.Timedout"),
        (502, b"oops", "Runtime.Unknown"),
    ],
)
def test_crashes_timeouts_and_emulator_errors_become_lambda_shaped_errors(status, body, error_type):
    payload, function_error = classify(status, body, RID, 3)
    assert function_error == "Unhandled"
    assert json.loads(payload)["errorType"] == error_type
    assert RID in json.loads(payload)["errorMessage"] or error_type == "Runtime.Unknown"


class StubEnvironment(Instance):
    """An environment whose "RIE" is the test's HTTP transport: the pool's logic, no process."""

    started = 0

    def __init__(self, fn, log):  # type: ignore[no-untyped-def]
        StubEnvironment.started += 1
        super().__init__(fn, f"http://env-{StubEnvironment.started}", log)
        self.stopped = False

    async def start(self) -> None:
        await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.stopped = True

    def alive(self) -> bool:
        return not self.stopped

    def memory_mb(self) -> float:
        return 42.0


def sleepy_client(seconds: float, busy: dict[str, int]) -> httpx.AsyncClient:
    """Answers every invocation after `seconds`, counting how many run at once per environment."""

    async def answer(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        busy[host] = busy.get(host, 0) + 1
        busy["max"] = max(busy.get("max", 0), busy[host])
        busy["now"] = busy.get("now", 0) + 1
        busy["peak"] = max(busy.get("peak", 0), busy["now"])
        await asyncio.sleep(seconds)
        busy[host] -= 1
        busy["now"] -= 1
        return httpx.Response(200, content=b'{"ok": true}')

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


def pool(tmp_path, account: AccountConcurrency, busy: dict[str, int], seconds: float = 0.05, **fn_changes):  # type: ignore[no-untyped-def]
    fn = replace(load().function("weatherApi"), **fn_changes)
    log = LogBuffer(tmp_path / "log")
    return FunctionRuntime(fn, lambda: StubEnvironment(fn, log), sleepy_client(seconds, busy), account, idle_s=300)


def test_environments_scale_out_on_demand_one_invocation_each_and_are_reused_warm(tmp_path):  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        busy: dict[str, int] = {}
        runtime = pool(tmp_path, AccountConcurrency(100), busy)
        results = await asyncio.gather(*(runtime.invoke(b"{}") for _ in range(8)))
        assert len(runtime.environments) == 8 and busy["max"] == 1 and busy["peak"] == 8
        assert [r.cold_start for r in results] == [True] * 8 and runtime.cold_starts == 8
        again = await runtime.invoke(b"{}")
        assert not again.cold_start and len(runtime.environments) == 8
        assert runtime.state()["idle"] == 8 and runtime.state()["busy"] == 0

    asyncio.run(scenario())


def test_reserved_concurrency_throttles_sync_invokes_with_lambdas_reason_and_queues_async_ones(tmp_path):  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        busy: dict[str, int] = {}
        runtime = pool(tmp_path, AccountConcurrency(100), busy, reserved_concurrency=1)
        outcomes = await asyncio.gather(*(runtime.invoke(b"{}") for _ in range(8)), return_exceptions=True)
        throttled = [o for o in outcomes if isinstance(o, Throttled)]
        assert len(throttled) == 7 and {t.reason for t in throttled} == {RESERVED_LIMIT}
        assert runtime.throttles == 7
        waited = await asyncio.gather(*(runtime.invoke_when_free(b"{}") for _ in range(8)))
        assert len(waited) == 8 and busy["peak"] == 1 and len(runtime.environments) == 1

    asyncio.run(scenario())


def test_reserved_zero_throttles_everything(tmp_path):  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        runtime = pool(tmp_path, AccountConcurrency(100), {}, reserved_concurrency=0)
        with pytest.raises(Throttled) as caught:
            await runtime.invoke(b"{}")
        assert caught.value.reason == RESERVED_LIMIT and runtime.environments == []
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(runtime.invoke_when_free(b"{}"), 0.3)  # waits: never dropped, never run

    asyncio.run(scenario())


def test_the_account_limit_caps_all_functions_together(tmp_path):  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        account, busy = AccountConcurrency(2), {}
        first = pool(tmp_path, account, busy, seconds=0.2)
        second = pool(tmp_path, account, busy, seconds=0.2, lambda_name="other")
        running = [asyncio.create_task(first.invoke(b"{}")), asyncio.create_task(first.invoke(b"{}"))]
        await asyncio.sleep(0.05)
        with pytest.raises(Throttled) as caught:
            await second.invoke(b"{}")
        assert caught.value.reason == ACCOUNT_LIMIT
        await asyncio.gather(*running)
        assert (await second.invoke(b"{}")).cold_start  # room again; the idle ones of `first` made way
        assert account.environments() <= 2 and account.in_flight == 0

    asyncio.run(scenario())


def test_idle_environments_are_reaped_and_provisioned_ones_are_kept_warm(tmp_path):  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        runtime = pool(tmp_path, AccountConcurrency(100), {}, provisioned_concurrency=1)
        runtime.idle_s = 0.1
        await runtime.start()
        assert len(runtime.environments) == 1
        first = await runtime.invoke(b"{}")
        assert not first.cold_start  # provisioned: its Init ran ahead
        await asyncio.gather(*(runtime.invoke(b"{}") for _ in range(4)))
        assert len(runtime.environments) == 4
        await asyncio.sleep(0.6)
        assert len(runtime.environments) == 1  # back to the provisioned one
        await runtime.stop()

    asyncio.run(scenario())


def test_a_dead_idle_environment_is_replaced_by_a_fresh_one(tmp_path):  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        runtime = pool(tmp_path, AccountConcurrency(100), {})
        await runtime.invoke(b"{}")
        (env,) = runtime.environments
        env.stopped = True  # as a SIGKILL would
        result = await runtime.invoke(b"{}")
        assert result.cold_start and runtime.died == 1 and env not in runtime.environments

    asyncio.run(scenario())


def test_the_default_account_limit_is_lambdas_and_a_set_one_is_kept_each_saying_why() -> None:
    limit, why = account_limit(Settings())
    assert limit == 1000 and "Lambda's default" in why and "memory" in why
    limit, why = account_limit(Settings(account_concurrency=7))
    assert limit == 7 and why.startswith("LAMBDA_LOCAL_ACCOUNT_CONCURRENCY")


def test_under_memory_pressure_idle_environments_are_retired_before_anything_is_throttled(tmp_path):  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        free = {"mb": 10_000.0}
        gauge = MemoryGauge(lambda: free["mb"], total_mb=8192)  # reserve: 819 MB
        account = AccountConcurrency(1000, gauge)
        busy: dict[str, int] = {}
        first, second = pool(tmp_path, account, busy), pool(tmp_path, account, busy)
        await asyncio.gather(*(first.invoke(b"{}") for _ in range(3)))  # three idle environments
        assert len(first.idle) == 3
        free["mb"] = 850.0  # the machine filled up: a new (42 MB, as measured) environment eats into the reserve
        result = await second.invoke(b"{}")
        assert result.function_error is None and len(first.idle) == 2  # one idle environment made room
        free["mb"] = 100.0
        with pytest.raises(Throttled) as throttled:  # one reuses second's idle environment, one needs a new one
            await asyncio.gather(second.invoke(b"{}"), second.invoke(b"{}"))
        assert first.idle == []  # every idle environment went first
        assert throttled.value.reason == ACCOUNT_LIMIT and account.memory_throttles == 1
        free["mb"] = 10_000.0
        results = await asyncio.gather(*(second.invoke(b"{}") for _ in range(32)))  # room again: a 32-call burst
        assert all(r.function_error is None for r in results)

    asyncio.run(scenario())


def test_an_environments_memory_is_measured_after_its_first_invocation(tmp_path):  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        runtime = pool(tmp_path, AccountConcurrency(10), {})
        await runtime.invoke(b"{}")
        (env,) = runtime.environments
        assert env.measured_mb == 42.0 and runtime.need_mb() == 42.0

    asyncio.run(scenario())


def test_host_mode_ports_come_from_below_the_ephemeral_range_and_are_never_given_twice():
    from lambda_local.environments.processes import RIE_PORTS, free_port

    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(RIE_PORTS[0] <= p <= RIE_PORTS[1] < 32768 for p in ports)


def test_an_rie_whose_port_was_taken_meanwhile_starts_again_on_fresh_ports(tmp_path):  # type: ignore[no-untyped-def]
    import socket

    from lambda_local.environments.log_buffer import LogBuffer
    from lambda_local.environments.processes import RieProcess, free_port
    from lambda_local.environments.variables import function_env
    from stack.host_mode import rie_binary

    template = load()
    fn = template.function("weatherApi")
    env = function_env(template, fn, "http://127.0.0.1:1", "http://127.0.0.1:1")
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", free_port()))
    squatter.listen(1)
    taken = squatter.getsockname()[1]
    instance = RieProcess(fn, free_port(), taken, env, rie_binary(), LogBuffer(tmp_path / "rie.log"))

    async def scenario() -> None:
        try:
            await instance.start()
            assert instance.api_port != taken and instance.url == f"http://127.0.0.1:{instance.port}"
            assert instance.process is not None and instance.process.returncode is None
        finally:
            await instance.stop()

    try:
        asyncio.run(scenario())
    finally:
        squatter.close()
    assert any("new ports" in line for line in instance.log.since(0))


def test_runtime_output_is_drained_whatever_its_length(tmp_path):  # type: ignore[no-untyped-def]
    """A 40 MB line (a 6 MB body of control bytes logged as an escaped event) neither kills the reader nor
    blocks the runtime: it is cut, and what follows is read."""
    import sys

    from lambda_local.environments.log_buffer import LINE_LIMIT, drain

    log = LogBuffer(tmp_path / "out.log")
    script = "import sys; sys.stdout.write('x' * 40_000_000 + '\\nafter\\n'); sys.stdout.flush(); print('end')"

    async def scenario() -> int:
        process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE)
        assert process.stdout is not None
        await asyncio.wait_for(drain(process.stdout, log), 60)
        return await asyncio.wait_for(process.wait(), 10)

    assert asyncio.run(scenario()) == 0
    assert log.flush()
    lines = (tmp_path / "out.log").read_text().splitlines()
    assert lines[0].endswith(f"[line cut at {LINE_LIMIT} characters]") and len(lines[0]) < LINE_LIMIT + 100
    assert lines[1:] == ["after", "end"] == log.since(0)[1:]


def test_a_runtime_dies_with_its_plane_even_when_the_plane_is_killed(tmp_path):  # type: ignore[no-untyped-def]
    """PR_SET_PDEATHSIG: a child started with die_with_parent is killed when its parent is SIGKILLed."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    parent = (
        "import subprocess, sys, time\n"
        "from lambda_local.environments.processes import die_with_parent\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], preexec_fn=die_with_parent)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    child = int(process.stdout.readline())
    assert psutil.pid_exists(child)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the child outlived its killed parent"
        time.sleep(0.05)


def test_a_response_over_6_mb_is_function_response_size_too_large() -> None:
    payload, error = classify(200, b'"' + b"x" * (6 * 1024 * 1024) + b'"', "rid", 3)
    assert error == "Unhandled"
    assert json.loads(payload)["errorType"] == "Function.ResponseSizeTooLarge"
    assert "(6291458 bytes)" in json.loads(payload)["errorMessage"]


# An invocation's output as the RIE prints it (host mode, a cold start): its own "(rapid)" lines among
# the platform's START / END / REPORT and the function's.
RIE_OUTPUT = [
    "START RequestId: 6f1c Version: $LATEST",
    "06 Dec 2026 02:17:30,823 [INFO] (rapid) INIT START(type: on-demand, phase: init)",
    '06 Dec 2026 02:17:30,823 [INFO] (rapid) The extension\'s directory "/opt/extensions" does not exist, assuming '
    "no extensions to be loaded.",
    "06 Dec 2026 02:17:31,132 [INFO] (rapid) INIT REPORT(durationMs: 309.325000)",
    "06 Dec 2026 02:17:31,133 [INFO] (rapid) INVOKE START(requestId: 6f1c)",
    "hello from the function",
    "[ERROR] InvalidEventError: event.date must be a YYYY-MM-DD string",
    "06 Dec 2026 02:17:31,315 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 1.7ms)",
    "06 Dec 2026 02:17:31,316 [WARNING] (rapid) Reset initiated: SandboxTerminated",
    "END RequestId: 6f1c",
    "REPORT RequestId: 6f1c\tInit Duration: 0.04 ms\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
    "Max Memory Used: 128 MB\t",
]


@pytest.mark.parametrize("log_format", ["Text", "JSON"])
def test_the_log_tail_and_file_show_the_platforms_lines_and_the_functions_not_the_emulators(tmp_path, log_format):  # type: ignore[no-untyped-def]
    from lambda_local.environments.log_format import formatter
    from lambda_local.providers.functions import LoggingSpec

    fn = load().function("weatherApi")
    log = LogBuffer(tmp_path / "fn.log", formatter(LoggingSpec(log_format, "INFO", "INFO")))

    async def answer(request: httpx.Request) -> httpx.Response:
        for line in RIE_OUTPUT:
            log.append(line)
        return httpx.Response(200, content=b'{"ok": true}')

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    runtime = FunctionRuntime(fn, lambda: StubEnvironment(fn, log), client, AccountConcurrency(10))
    result = asyncio.run(runtime.invoke(b"{}", tail=True))
    shown = result.log_tail.splitlines()
    assert not [line for line in shown if "(rapid)" in line]
    assert "hello from the function" in shown and "[ERROR] InvalidEventError" in result.log_tail
    if log_format == "Text":
        assert shown == [RIE_OUTPUT[0], RIE_OUTPUT[5], RIE_OUTPUT[6], RIE_OUTPUT[9], RIE_OUTPUT[10]]
    else:
        assert [json.loads(line).get("type") for line in shown if line.startswith("{")] == [
            "platform.start",
            "platform.report",
        ]
    assert log.flush()
    assert (tmp_path / "fn.log").read_text().splitlines() == shown
    assert list(log.lines) == RIE_OUTPUT  # the plane still reads every line (a crash's last lines)
    assert result.request_id == "6f1c"


def test_a_compose_container_left_mid_invocation_takes_no_other_call_until_its_runtime_has_finished(tmp_path):  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        busy: dict[str, int] = {}
        fn = load().function("weatherApi")
        container = StubEnvironment(fn, LogBuffer(tmp_path / "log"))
        container.timeout_s = 0.2  # the function's timeout: it runs at most this long still
        runtime = FunctionRuntime(fn, None, sleepy_client(0.15, busy), AccountConcurrency(10), fixed=[container])
        call = asyncio.ensure_future(runtime.invoke(b"{}"))
        await asyncio.sleep(0.05)
        call.cancel()  # its caller went away; the RIE is still at work
        await asyncio.gather(call, return_exceptions=True)
        assert runtime.idle == [] and runtime.in_flight == 0
        await asyncio.sleep(1.3)
        assert runtime.idle == [container] and busy["max"] == 1

    asyncio.run(scenario())


def test_host_mode_runtimes_listen_on_a_private_loopback_address() -> None:
    import socket

    from lambda_local.environments.processes import free_port, private_host

    hosts = {private_host() for _ in range(20)}
    assert len(hosts) > 15 and all(h.startswith("127.") for h in hosts) and "127.0.0.1" not in hosts
    host = hosts.pop()
    with socket.socket() as sock:
        sock.bind((host, free_port(host)))  # the kernel routes all of 127.0.0.0/8 to lo


def test_in_tenant_isolation_mode_an_environment_serves_one_tenant_all_its_life(tmp_path):  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        busy: dict[str, int] = {}
        runtime = pool(tmp_path, AccountConcurrency(100), busy, tenant_isolation=True)
        first = [await runtime.invoke(b"{}", tenant=t) for t in ("blue", "green", "blue", "green", "blue")]
        assert [r.cold_start for r in first] == [True, True, False, False, False]  # warm for the same tenant
        assert sorted(env.tenant or "" for env in runtime.environments) == ["blue", "green"]
        # blue busy: another blue call gets a new blue environment, never green's idle one
        both = await asyncio.gather(runtime.invoke(b"{}", tenant="blue"), runtime.invoke(b"{}", tenant="blue"))
        assert sum(r.cold_start for r in both) == 1
        assert sorted(env.tenant or "" for env in runtime.environments) == ["blue", "blue", "green"]
        state = runtime.state()
        assert state["tenant_isolation"] and sorted(i["tenant"] for i in state["instances"]) == [
            "blue",
            "blue",
            "green",
        ]

    asyncio.run(scenario())


def test_without_tenant_isolation_environments_are_shared_and_carry_no_tenant(tmp_path):  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        runtime = pool(tmp_path, AccountConcurrency(100), {})
        results = [await runtime.invoke(b"{}") for _ in range(3)]
        assert [r.cold_start for r in results] == [True, False, False]
        assert [env.tenant for env in runtime.environments] == [None]

    asyncio.run(scenario())
