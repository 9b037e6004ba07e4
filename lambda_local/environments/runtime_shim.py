"""The runtime the RIE runs: `python -m lambda_local.environments.runtime_shim <handler>` (host mode) or, in
Docker mode, this file mounted read-only into the function's container at /lambda-local/runtime_shim.py
and run by the image's own Python and awslambdaric (environments/sandbox.py). It is awslambdaric (the
runtime interface client every Python image runs) with one difference: the invocation's request id and
X-Ray trace header are the ones the plane assigned, as in Lambda, where the 202 of an `Event` invoke,
the function's `context.aws_request_id`, its retries and its destination record all carry one id, and
where the function's spans join the trace of what invoked it.

The RIE gives every invocation an id of its own and passes no trace header to the runtime. The plane
sends its own in the invocation's client context (which the RIE passes through), under a key of its
own that this module takes out again: the function sees the caller's client context unchanged, and
the RIE still gets its own id back when the result is posted. Standard library and awslambdaric only:
it runs in the function's process.

The init phase apart, as in Lambda: the RIE starts a runtime only at its first invocation and counts the
runtime's init (the handler module's imports) against that invocation's Timeout, which Lambda does not (its
init phase has a limit of its own). So the plane opens a new environment with an invocation marked `init`
(pool.py), which this module answers as soon as it is asked, the handler never called: the imports are done
by then, and the first real invocation's Timeout counts its handler alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
from collections.abc import MutableMapping
from typing import Any


def in_the_image(path: list[str], env: MutableMapping[str, str]) -> None:
    """Run as a file in a function's image (Docker mode), in place of the image's bootstrap, do what it does:
    the task root first on the path (where `python -m` would put the working directory), the runtime's
    own packages (awslambdaric, in LAMBDA_RUNTIME_DIR) after it, and AWS_EXECUTION_ENV set."""
    path[0] = env.get("LAMBDA_TASK_ROOT") or os.getcwd()
    runtime_dir = env.get("LAMBDA_RUNTIME_DIR")
    if runtime_dir and runtime_dir not in path:
        path.insert(1, runtime_dir)
    env.setdefault("AWS_EXECUTION_ENV", f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}")


if __name__ == "__main__" and __spec__ is None:  # a file, not a module: Docker mode's container
    in_the_image(sys.path, os.environ)

from awslambdaric import lambda_runtime_client  # noqa: E402
from awslambdaric.__main__ import main  # noqa: E402

KEY = "lambda-local"  # under the client context's `custom`

# The class whose calls are patched: awslambdaric 3 and later split it from the client the runtime makes.
_Client = getattr(lambda_runtime_client, "BaseLambdaRuntimeClient", lambda_runtime_client.LambdaRuntimeClient)
_next = _Client.wait_next_invocation
_result = _Client.post_invocation_result
_error = _Client.post_invocation_error
_rie_ids: dict[str, str] = {}  # the plane's id -> the RIE's, for the invocation in flight


def taken(client_context: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """The plane's part of a client context, and the caller's part as the function should see it."""
    if not client_context:
        return None, client_context
    try:
        parsed = json.loads(client_context)
    except ValueError:
        return None, client_context
    custom = parsed.get("custom") if isinstance(parsed, dict) else None
    if not isinstance(custom, dict) or not isinstance(custom.get(KEY), dict):
        return None, client_context
    ours = custom.pop(KEY)
    if not custom:
        parsed.pop("custom")
    return ours, (json.dumps(parsed) if parsed else None)


INITIALIZED = b'{"lambda-local": "initialized"}'  # the answer to the plane's init invocation


def wait_next_invocation(self: Any) -> Any:
    request = _next(self)
    ours, request.client_context = taken(request.client_context)
    while ours and ours.get("init") is True:  # the plane's init invocation: the module is imported by now
        _result(self, request.invoke_id, INITIALIZED)
        request = _next(self)
        ours, request.client_context = taken(request.client_context)
    if ours and isinstance(ours.get("requestId"), str):
        _rie_ids.clear()
        _rie_ids[ours["requestId"]] = request.invoke_id
        request.invoke_id = ours["requestId"]
        if isinstance(ours.get("traceId"), str):
            request.x_amzn_trace_id = ours["traceId"]
        if isinstance(ours.get("tenantId"), str):  # context.tenant_id, as Lambda's runtime sets it
            request.tenant_id = ours["tenantId"]
    return request


def post_invocation_result(self: Any, invoke_id: str, *args: Any, **kwargs: Any) -> Any:
    return _result(self, _rie_ids.get(invoke_id, invoke_id), *args, **kwargs)


def post_invocation_error(self: Any, invoke_id: str, *args: Any, **kwargs: Any) -> Any:
    return _error(self, _rie_ids.get(invoke_id, invoke_id), *args, **kwargs)


def die_with_the_emulator() -> None:
    """The kernel kills this runtime when its RIE dies (Linux's PR_SET_PDEATHSIG), as the RIE dies with
    its plane: a runtime stuck in a handler or waiting for a debugger never outlives a killed plane."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the RIE died before the signal was set
        os._exit(1)


def install() -> None:
    _Client.wait_next_invocation = wait_next_invocation
    _Client.post_invocation_result = post_invocation_result
    _Client.post_invocation_error = post_invocation_error


if __name__ == "__main__":
    die_with_the_emulator()
    install()
    main(sys.argv)
