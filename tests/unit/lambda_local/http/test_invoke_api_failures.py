"""The Invoke API when the event store or a delivery fails: an `Event` the store cannot keep is
answered ServiceException (500), never 202, and `POST /_local/schedules/<rule>/fire` answers, with
the reason, when the delivery failed or never settled, instead of waiting for ever. The app runs over
a stand-in plane (the real invoker, store and scheduler; no environments), in the test's event loop."""

import asyncio
import sqlite3
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from lambda_local.environments.instance import InvokeResult
from lambda_local.environments.pool import AccountConcurrency
from lambda_local.http import invoke_api
from lambda_local.invocation import event_store
from lambda_local.invocation.asynchronous import AsyncInvoker
from lambda_local.invocation.event_store import EventStore
from lambda_local.plane import Plane
from lambda_local.providers import AsyncInvokeConfig, Schedule, load
from lambda_local.sources.schedules import Scheduler

FN = load().function("weatherApi")
RULE = Schedule("tick", "rate(1 day)", FN.lambda_name)


class Runtime:
    """The function's runtime: `mode` "ok", "raise" (the environment unreachable) or "hang"."""

    fn = FN
    concurrency = 1
    supervision = SimpleNamespace(crash_looping=False)

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def state(self) -> dict[str, Any]:
        return {"function": FN.lambda_name}

    async def invoke_when_free(
        self, payload: bytes, request_id: str | None = None, trace_id: str | None = None, tenant: str | None = None
    ) -> InvokeResult:
        if self.mode == "raise":
            raise ConnectionError("environment away")
        if self.mode == "hang":
            await asyncio.Event().wait()
        return InvokeResult(b"{}", None, "r1", "", 1.0)


class FullStore(EventStore):
    """A real store whose inserts fail while `full` (a full disk)."""

    full = False

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.real = self._db
        self._db = self  # type: ignore[assignment]

    def execute(self, sql: str, *args: Any) -> Any:
        if self.full and sql.startswith("INSERT"):
            raise sqlite3.OperationalError("database or disk is full")
        return self.real.execute(sql, *args)


def call(tmp_path: Path, mode: str, method: str, path: str, full: bool = False, **kwargs: Any) -> httpx.Response:
    """One request to the Invoke API of a plane whose function runs as `mode` says."""
    return calls(tmp_path, mode, [(method, path, kwargs)], full)[0]


def calls(
    tmp_path: Path, mode: str, requests: list[tuple[str, str, dict[str, Any]]], full: bool = False
) -> list[httpx.Response]:
    """Requests to the Invoke API of a plane whose function runs as `mode` says, one after another."""
    store = FullStore(tmp_path / "events.sqlite")
    store.full = full
    runtime = Runtime(mode)
    config = AsyncInvokeConfig(maximum_retry_attempts=0)
    invoker = AsyncInvoker(runtime, config, "arn:f", None, lambda *a, **k: None, (0.0,), store)  # type: ignore[arg-type]

    def submit(
        function: str, payload: bytes, source: str, done: Any = None, durable: bool = False, trace: str | None = None
    ) -> str:
        return invoker.submit(payload, source, done=done, durable=durable, trace=trace)

    plane = SimpleNamespace(
        template=SimpleNamespace(functions=[FN]),
        settings=SimpleNamespace(region="us-east-1"),
        aws=lambda service: None,
        by_port={},
        runtimes={FN.lambda_name: runtime},
        invokers={FN.lambda_name: invoker},
        scheduler=Scheduler([RULE], "123456789012", "us-east-1", submit),
        store=store,
        account=AccountConcurrency(10),
        problems=[],
        broken={},
        function_envs=SimpleNamespace(problems=lambda: []),  # host mode's environments: all installed
    )
    plane.all_problems = partial(Plane.all_problems, plane)  # the real listing, over this stand-in

    async def scenario() -> list[httpx.Response]:
        invoker.start()
        transport = httpx.ASGITransport(app=invoke_api.app(plane))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9000") as client:
            answers = [await asyncio.wait_for(client.request(m, p, **k), 10) for m, p, k in requests]
        invoker.stop()
        return answers

    return asyncio.run(scenario())


@pytest.fixture(autouse=True)
def no_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_store, "RETRY_DELAYS", (0.0,))


def test_an_event_the_store_cannot_keep_is_answered_service_exception_not_202(tmp_path: Path) -> None:
    path = f"/2015-03-31/functions/{FN.lambda_name}/invocations"
    headers = {"X-Amz-Invocation-Type": "Event"}
    answer = call(tmp_path, "ok", "POST", path, full=True, content=b"{}", headers=headers)
    assert answer.status_code == 500 and answer.headers["x-amzn-ErrorType"] == "ServiceException"
    assert answer.json()["Type"] == "Service"
    assert "could not be stored" in answer.json()["message"] and "disk is full" in answer.json()["message"]
    assert call(tmp_path, "ok", "POST", path, content=b"{}", headers=headers).status_code == 202


def test_the_stores_failures_are_among_the_planes_problems(tmp_path: Path) -> None:
    """What `make status` reads (GET /_local/functions): it exits 1 on a problem."""
    event = (
        "POST",
        f"/2015-03-31/functions/{FN.lambda_name}/invocations",
        {"headers": {"X-Amz-Invocation-Type": "Event"}},
    )
    before, _, after = calls(
        tmp_path, "ok", [("GET", "/_local/functions", {}), event, ("GET", "/_local/functions", {})], True
    )
    assert before.json()["problems"] == []
    (problem,) = after.json()["problems"]
    assert problem.startswith("event store events.sqlite: 1 operations failed, the last at ")
    assert problem.endswith("(add: database or disk is full)")


def test_a_firing_whose_delivery_raises_is_answered_500_with_the_reason(tmp_path: Path) -> None:
    answer = call(tmp_path, "raise", "POST", "/_local/schedules/tick/fire")
    assert answer.status_code == 500
    assert "failed: ConnectionError('environment away')" in answer.json()["message"]


def test_a_firing_that_never_settles_is_answered_within_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(invoke_api, "FIRE_MARGIN_S", 0.0)
    monkeypatch.setattr(AsyncInvoker, "settle_bound_s", lambda self: 0.3)
    answer = call(tmp_path, "hang", "POST", "/_local/schedules/tick/fire")
    assert answer.status_code == 500 and "not settled within 0 s" in answer.json()["message"]


def test_a_firing_the_store_cannot_keep_is_answered_500(tmp_path: Path) -> None:
    answer = call(tmp_path, "ok", "POST", "/_local/schedules/tick/fire", full=True)
    assert answer.status_code == 500 and "could not be stored" in answer.json()["message"]


def test_a_firing_that_settles_is_answered_with_its_outcome(tmp_path: Path) -> None:
    answer = call(tmp_path, "ok", "POST", "/_local/schedules/tick/fire", json={"at": "2026-11-20T20:00:00Z"})
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "ok" and answer.json()["time"] == "2026-11-20T20:00:00Z"
