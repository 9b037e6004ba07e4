"""Host mode's one request id: the runtime shim takes the plane's id and trace header out of the client
context, and the log buffer renames the RIE's id in the START/END/REPORT lines to the plane's."""

import base64
import json
from pathlib import Path

from lambda_local.environments.instance import client_context
from lambda_local.environments.log_buffer import LogBuffer
from lambda_local.environments.runtime_shim import taken


def test_the_plane_s_part_of_the_client_context_is_taken_out_and_the_caller_s_kept() -> None:
    sent = json.loads(base64.b64decode(client_context("req-1", "Root=1-abc")))
    ours, rest = taken(json.dumps(sent))
    assert ours == {"requestId": "req-1", "traceId": "Root=1-abc"} and rest is None
    sent["custom"]["app"] = "mobile"
    sent["env"] = {"locale": "fr"}
    ours, rest = taken(json.dumps(sent))
    assert ours is not None and json.loads(rest or "") == {"custom": {"app": "mobile"}, "env": {"locale": "fr"}}
    assert taken(None) == (None, None)
    assert taken('{"custom": {"app": "x"}}') == (None, '{"custom": {"app": "x"}}')
    assert taken("not json") == (None, "not json")


def test_the_rie_s_id_becomes_the_plane_s_in_the_invocation_s_lines(tmp_path: Path) -> None:
    log = LogBuffer(tmp_path / "fn.log")
    log.append("START RequestId: before Version: $LATEST")  # not expected: kept as it is
    log.expect("plane-id")
    for line in (
        "START RequestId: rie-id Version: $LATEST",
        "hello",
        "END RequestId: rie-id",
        "REPORT RequestId: rie-id",
    ):
        log.append(line)
    assert log.request_ids(0) == ["before", "plane-id"]
    assert log.flush()
    assert (tmp_path / "fn.log").read_text().splitlines()[1:] == [
        "START RequestId: plane-id Version: $LATEST",
        "hello",
        "END RequestId: plane-id",
        "REPORT RequestId: plane-id",
    ]


def test_the_init_invocation_s_lines_leave_the_log_and_its_duration_goes_to_the_first_report(tmp_path: Path) -> None:
    log = LogBuffer(tmp_path / "fn.log")
    log.expect_init()
    assert log.initializing
    for line in (
        "imported",  # the module's own output during init: the function's
        "START RequestId: rie-init Version: $LATEST",
        "END RequestId: rie-init",
        "REPORT RequestId: rie-init\tInit Duration: 0.02 ms\tDuration: 1512.40 ms\tBilled Duration: 1513 ms\t",
    ):
        log.append(line)
    assert not log.initializing
    log.expect("plane-id")
    for line in (
        "START RequestId: rie-1 Version: $LATEST",
        "END RequestId: rie-1",
        "REPORT RequestId: rie-1\tDuration: 3.10 ms\tBilled Duration: 4 ms\t",
        "REPORT RequestId: rie-2\tDuration: 2.00 ms\t",  # a later invocation's: no init of its own
    ):
        log.append(line)
    assert log.request_ids(0) == ["plane-id"]
    assert log.flush()
    assert (tmp_path / "fn.log").read_text().splitlines() == [
        "imported",
        "START RequestId: plane-id Version: $LATEST",
        "END RequestId: plane-id",
        "REPORT RequestId: plane-id\tInit Duration: 1512.40 ms\tDuration: 3.10 ms\tBilled Duration: 4 ms\t",
        "REPORT RequestId: rie-2\tDuration: 2.00 ms\t",
    ]


def test_the_init_invocation_is_answered_by_the_shim_and_never_reaches_the_handler() -> None:
    """The runtime interface client's next invocation, as the shim patches it: an init invocation (the plane's
    marker in its client context) is answered at once with INITIALIZED, and the next one is returned."""
    from types import SimpleNamespace

    from lambda_local.environments import runtime_shim
    from lambda_local.environments.instance import INIT_CONTEXT, INITIALIZED

    init = SimpleNamespace(invoke_id="rie-init", client_context=base64.b64decode(INIT_CONTEXT).decode())
    real = SimpleNamespace(invoke_id="rie-1", client_context=None, x_amzn_trace_id=None, tenant_id=None)
    queue, posted = [init, real], []
    saved = runtime_shim._next, runtime_shim._result
    runtime_shim._next = lambda _self: queue.pop(0)  # type: ignore[assignment]
    runtime_shim._result = lambda _self, invoke_id, data, *a, **k: posted.append((invoke_id, data))  # type: ignore[assignment]
    try:
        assert runtime_shim.wait_next_invocation(object()) is real
    finally:
        runtime_shim._next, runtime_shim._result = saved
    assert posted == [("rie-init", INITIALIZED)] and runtime_shim.INITIALIZED == INITIALIZED


def test_the_runtime_dies_with_its_emulator_even_stuck_in_a_handler() -> None:
    """The RIE dies with its plane (PR_SET_PDEATHSIG); the runtime under it must follow at once, not at
    its next call to a dead RIE: a handler that hangs would otherwise outlive a killed plane."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    runtime = (
        "from lambda_local.environments.runtime_shim import die_with_the_emulator; import time; "
        "die_with_the_emulator(); print('ready', flush=True); time.sleep(60)"
    )
    emulator = (
        "import subprocess, sys, time; "
        f"child = subprocess.Popen([sys.executable, '-c', {runtime!r}]); print(child.pid, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", emulator], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = psutil.Process(int(parent.stdout.readline()))
    time.sleep(1.0)  # the child has set its death signal (it imports, then sets it)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    child.wait(timeout=10)  # raises TimeoutExpired while it lives on
    assert not child.is_running()


def test_the_tenant_id_reaches_the_functions_context_as_lambdas_runtime_sets_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from lambda_local.environments import runtime_shim

    request = SimpleNamespace(
        client_context=base64.b64decode(client_context("req-2", "Root=1-def", "blue")).decode(),
        invoke_id="rie-id",
        x_amzn_trace_id=None,
        tenant_id=None,
    )
    monkeypatch.setattr(runtime_shim, "_next", lambda self: request)
    got = runtime_shim.wait_next_invocation(object())
    assert (got.invoke_id, got.x_amzn_trace_id, got.tenant_id) == ("req-2", "Root=1-def", "blue")
    assert got.client_context is None  # the caller sent none: the function sees none
    plain = SimpleNamespace(
        client_context=base64.b64decode(client_context("req-3", "Root=1-0")).decode(),
        invoke_id="rie-id-2",
        x_amzn_trace_id=None,
        tenant_id=None,
    )
    monkeypatch.setattr(runtime_shim, "_next", lambda self: plain)
    assert runtime_shim.wait_next_invocation(object()).tenant_id is None  # no tenant: none set
