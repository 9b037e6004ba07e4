"""Run a function's handler in the test process, with the environment the local stack gives it.

The handler talks to the real local services (moto, MariaDB, the Invoke API). For faults those
cannot produce on demand (throttling, a 5xx), `fail_requests` answers chosen requests of a real
boto3 client with an AWS-shaped error response before they are sent.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

import stack
from shared import clients, config, db
from stack import ROOT
from stack.functions import by_name


@dataclass
class Context:
    """The LambdaContext fields handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 128
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class LoadedFunction:
    module: ModuleType
    context: Context
    log: io.StringIO

    def __call__(self, event: Any) -> Any:
        return self.module.handler(event, self.context)

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines() if line.startswith("{")]


def reset_caches() -> None:
    """Warm-start state of the shared library: clients, settings, parameters, the DB connection."""
    clients.client.cache_clear()
    clients._lambda_client.cache_clear()
    config.report_timezone.cache_clear()
    db.parameter_store.cache_clear()
    db.close()


def load(
    directory: str,
    monkeypatch: pytest.MonkeyPatch,
    overrides: dict[str, str] | None = None,
    unset: tuple[str, ...] = (),
) -> LoadedFunction:
    """Import `functions/<directory>/app.py` afresh with its local environment (plus `overrides`)."""
    fn = by_name(directory)
    for key, value in stack.function_env(fn, overrides).items():
        monkeypatch.setenv(key, value)
    for key in unset:
        monkeypatch.delenv(key, raising=False)
    # Untraced: OpenTelemetry's instrumentation would stay in the test process (tests/unit/shared/test_tracing.py
    # runs traced handlers in processes of their own) and send the tests' spans to a running stack's traces.
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    folder = ROOT / "functions" / directory
    monkeypatch.syspath_prepend(str(folder))
    reset_caches()
    spec = importlib.util.spec_from_file_location(f"{directory.replace('-', '_')}_app", folder / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Capture what the function logs, formatted as Lambda would receive it.
    log = io.StringIO()
    target = logging.getLogger(module.logger.name)
    for earlier in [h for h in target.handlers if getattr(h, "test_capture", False)]:
        target.removeHandler(earlier)
    handler = logging.StreamHandler(log)
    handler.test_capture = True  # type: ignore[attr-defined]
    handler.setFormatter(module.logger.registered_formatter)
    target.addHandler(handler)
    return LoadedFunction(module, Context(fn.lambda_name, fn.memory_mb), log)


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@contextmanager
def fail_requests(
    client: Any, operation: str, status: int, body: bytes, when: Callable[[AWSPreparedRequest], bool] = lambda _: True
) -> Iterator[list[str]]:
    """Answer `operation` calls of `client` matching `when` with `status` and `body` (every attempt,
    so botocore's own retries see the fault too). Yields the URLs of the requests it failed."""
    failed: list[str] = []
    event = f"before-send.{client.meta.service_model.endpoint_prefix}.{operation}"

    def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        if not when(request):
            return None
        failed.append(request.url)
        return AWSResponse(request.url, status, {}, _Body(body))

    client.meta.events.register(event, answer)
    try:
        yield failed
    finally:
        client.meta.events.unregister(event, answer)


S3_SLOW_DOWN = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
REKOGNITION_THROTTLED = json.dumps({"__type": "ThrottlingException", "Message": "Rate exceeded"}).encode()
