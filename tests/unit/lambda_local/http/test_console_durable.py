"""The console's durable executions and tenants: the state lists each durable function's newest executions
(bounded, newest first, what each waits for) and a tenant-isolated function's environments by tenant; the
execution view's reads change nothing; what it changes (a callback answered, a wait resumed, a stop) is a
POST behind the Invoke API's doors, refused from a foreign Origin. The probe workflow (tests/support/durable)
runs in this process on the runner's in-process invoker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput
from starlette.applications import Starlette
from starlette.testclient import TestClient

from lambda_local.durable import DurableEngine
from lambda_local.http import console, durable_api
from lambda_local.http.doors import locked, own_origins
from lambda_local.providers import load
from lambda_local.settings import API_PORT, INVOKE_PORT, LAMBDA_ENDPOINT, ROOT
from tests.support.durable_engine import ACCOUNT
from tests.unit.lambda_local.durable.conftest import Runner

TEMPLATE = load(ROOT / "tests" / "support" / "durable" / "template.yaml")
OWN = LAMBDA_ENDPOINT  # the console's origin
EVIL = {"Origin": "https://evil.example"}


class StubRuntime:
    """A function's runtime as the console reads it: its state, its folder."""

    def __init__(self, name: str, instances: list[dict[str, Any]] | None = None, isolated: bool = False) -> None:
        self.fn = SimpleNamespace(lambda_name=name, directory=name)
        self.instances = instances or []
        self.isolated = isolated

    def state(self) -> dict[str, Any]:
        return {"function": self.fn.lambda_name, "tenant_isolation": self.isolated, "instances": self.instances}


def stand_in_plane(engine: DurableEngine | None, runtimes: dict[str, StubRuntime], tmp_path: Path) -> Any:
    return SimpleNamespace(
        aws=lambda service: None,
        durable=engine,
        template=SimpleNamespace(functions=[], stream_triggers=[], schedules=[], routes=[]),
        runtimes=runtimes,
        invokers={name: SimpleNamespace(failed=0) for name in runtimes},
        mappings=[],
        sqs_mappings=[],
        account=SimpleNamespace(state=lambda: {"concurrency_limit": 10, "in_flight": 0}),
        settings=SimpleNamespace(api_port=API_PORT, log_dir=tmp_path),
        all_problems=lambda: [],
        scheduler=SimpleNamespace(schedules={}),
    )


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    made = Runner(tmp_path / "durable")
    yield made
    made.stop()


@pytest.fixture
def engine(runner: Runner, tmp_path: Path) -> DurableEngine:
    """The plane's engine over the runner's parts (its handler invocations run in this process)."""
    made = DurableEngine(TEMPLATE.functions, tmp_path, "http://127.0.0.1:9", "us-east-1", ACCOUNT)
    made._executor, made._store = runner.executor, runner.store
    return made


@pytest.fixture
def client(engine: DurableEngine, tmp_path: Path) -> TestClient:
    """The console's and the durable API's routes behind the Invoke API's doors, as the plane serves them."""
    runtimes = {fn.lambda_name: StubRuntime(fn.lambda_name) for fn in TEMPLATE.functions}
    plane = stand_in_plane(engine, runtimes, tmp_path)
    app = Starlette(routes=[*console.routes(plane), *durable_api.routes(plane)])
    guarded = locked(app, control=True, origins=own_origins([INVOKE_PORT]), peers=["testclient"])
    return TestClient(guarded, base_url=OWN)


def start(runner: Runner, event: dict[str, Any], name: str, function: str = "durable-long") -> str:
    started = runner.executor.start_execution(
        StartDurableExecutionInput(
            account_id=ACCOUNT,
            function_name=function,
            function_qualifier="$LATEST",
            execution_name=name,
            execution_timeout_seconds=900,
            execution_retention_period_days=1,
            input=json.dumps(event),
        )
    )
    assert started.execution_arn is not None
    return started.execution_arn


def pending(runner: Runner, arn: str, kind: str) -> dict[str, Any] | None:
    from lambda_local.durable.summary import waiting_for

    found = [w for w in waiting_for(runner.store.load(arn)) if w["kind"] == kind]
    return found[0] if found else None


def stored(runner: Runner, arn: str) -> dict[str, Any]:
    return runner.store.load(arn).to_json_dict()


def test_a_tenant_isolated_functions_environments_are_grouped_by_tenant() -> None:
    instances = [
        {"url": "a", "tenant": "blue", "busy": True, "invocations": 3},
        {"url": "b", "tenant": "acme", "busy": False, "invocations": 1},
        {"url": "c", "tenant": "blue", "busy": False, "invocations": 2},
        {"url": "d", "tenant": None, "busy": False, "invocations": 0},
    ]
    groups = console.tenant_groups(instances)
    assert [(g["tenant"], [e["url"] for e in g["environments"]], g["busy"], g["invocations"]) for g in groups] == [
        ("acme", ["b"], 0, 1),
        ("blue", ["a", "c"], 1, 5),
        (None, ["d"], 0, 0),  # not assigned a tenant yet: last
    ]
    assert console.tenant_groups([]) == []


def test_the_state_groups_environments_by_tenant_for_a_tenant_isolated_function_only(tmp_path: Path) -> None:
    isolated = StubRuntime("per-tenant", [{"url": "a", "tenant": "blue", "busy": False, "invocations": 1}], True)
    shared = StubRuntime("shared", [{"url": "b", "tenant": None, "busy": False, "invocations": 4}])
    plane = stand_in_plane(None, {"per-tenant": isolated, "shared": shared}, tmp_path)
    functions = {f["function"]: f for f in console.state(plane, [])["functions"]}
    assert [g["tenant"] for g in functions["per-tenant"]["tenants"]] == ["blue"]
    assert functions["shared"]["tenants"] is None
    assert functions["per-tenant"]["durable"] is None and console.durable_executions(plane) == {}  # no engine


def test_each_durable_functions_newest_executions_are_listed_bounded_with_what_they_wait_for(
    runner: Runner, engine: DurableEngine, tmp_path: Path
) -> None:
    arns = [start(runner, {"steps": ["a"]}, f"run-{i}") for i in range(3)]
    waiting = start(runner, {"callback": True}, "waits")
    runner.until(lambda: pending(runner, waiting, "callback"), "the callback")
    runtimes = {fn.lambda_name: StubRuntime(fn.lambda_name) for fn in TEMPLATE.functions}
    listed = console.durable_executions(stand_in_plane(engine, runtimes, tmp_path), limit=2)
    assert set(listed) == {"durable-probe", "durable-short", "durable-long"}  # durable-target is plain
    rows = listed["durable-long"]["executions"]
    assert [r["DurableExecutionArn"] for r in rows] == [waiting, arns[2]] and listed["durable-long"]["more"]
    assert rows[0]["Status"] == "RUNNING" and rows[0]["WaitingFor"][0]["kind"] == "callback"
    assert rows[0]["WaitingFor"][0]["callbackId"]
    assert listed["durable-probe"] == {"executions": [], "more": False}
    functions = {
        f["function"]: f
        for f in console.state(stand_in_plane(engine, runtimes, tmp_path), [], None, listed)["functions"]
    }
    assert functions["durable-long"]["durable"]["executions"][0]["DurableExecutionArn"] == waiting
    assert functions["durable-target"]["durable"] is None


def test_the_executions_read_for_all_functions_together_are_bounded(
    runner: Runner, engine: DurableEngine, tmp_path: Path
) -> None:
    """A template of many durable functions: the state reads `total` executions at most (the template's
    order), a function past it is said to be unread, not shown as having none."""
    probes = [start(runner, {}, f"probe-{i}", function="durable-probe") for i in range(2)]
    longs = [start(runner, {}, f"long-{i}") for i in range(3)]
    plane = stand_in_plane(engine, {fn.lambda_name: StubRuntime(fn.lambda_name) for fn in TEMPLATE.functions}, tmp_path)
    listed = console.durable_executions(plane, limit=2, total=3)
    assert [r["DurableExecutionArn"] for r in listed["durable-probe"]["executions"]] == probes[::-1]
    assert listed["durable-short"] == {"executions": [], "more": False}
    assert [r["DurableExecutionArn"] for r in listed["durable-long"]["executions"]] == [longs[2]]
    assert listed["durable-long"]["more"] and "unread" not in listed["durable-long"]
    spent = console.durable_executions(plane, limit=2, total=2)
    assert spent["durable-short"] == spent["durable-long"] == {"executions": [], "more": True, "unread": True}


def test_the_execution_views_reads_change_nothing(runner: Runner, client: TestClient) -> None:
    arn = start(runner, {"callback": True}, "order-1")
    runner.until(lambda: pending(runner, arn, "callback"), "the callback")
    runner.until(lambda: runner.store.load(arn).invocation_completions, "the invocation to end, suspended")
    before = stored(runner, arn)
    encoded = quote(arn, safe="")
    for _ in range(3):
        page = client.get("/_local/console/execution", params={"arn": arn})
        assert page.status_code == 200 and "Durable execution" in page.text
        summary = client.get("/_local/console/durable/execution", params={"arn": arn})
        assert summary.status_code == 200
        assert (
            client.get(f"/2025-12-01/durable-executions/{encoded}/history?IncludeExecutionData=true").status_code == 200
        )
        assert client.get(f"/2025-12-01/durable-executions/{encoded}").status_code == 200
        state = client.get("/_local/console/state").json()
    assert stored(runner, arn) == before
    assert summary.json()["Status"] == "RUNNING" and summary.json()["WaitingFor"][0]["kind"] == "callback"
    (long,) = [f for f in state["functions"] if f["function"] == "durable-long"]
    assert [r["DurableExecutionArn"] for r in long["durable"]["executions"]] == [arn]
    assert client.post("/_local/console/durable/execution", params={"arn": arn}).status_code == 405
    assert client.post("/_local/console/execution", params={"arn": arn}).status_code == 405
    missing = client.get("/_local/console/durable/execution", params={"arn": arn.replace("order-1", "order-2")})
    assert (missing.status_code, missing.headers["x-amzn-ErrorType"]) == (404, "ResourceNotFoundException")


def test_the_buttons_posts_are_refused_from_a_foreign_origin_and_answered_from_the_consoles(
    runner: Runner, client: TestClient
) -> None:
    arn = start(runner, {"wait_s": 3600, "callback": True}, "order-2")
    wait = runner.until(lambda: pending(runner, arn, "wait"), "the wait")
    encoded = quote(arn, safe="")
    resume = {"arn": arn, "operationId": wait["operationId"]}
    assert client.post("/_local/durable/resume", json=resume, headers=EVIL).status_code == 403
    assert client.get("/_local/console/durable/execution", params={"arn": arn}, headers=EVIL).status_code == 403
    assert pending(runner, arn, "wait") is not None
    resumed = client.post("/_local/durable/resume", json=resume, headers={"Origin": OWN})
    assert resumed.status_code == 200 and resumed.json()["resumed"] == [wait["operationId"]]

    callback = runner.until(lambda: pending(runner, arn, "callback"), "the callback")["callbackId"]
    succeed = f"/2025-12-01/durable-execution-callbacks/{quote(callback, safe='')}/succeed"
    refused = client.post(succeed, content=b'"approved"', headers=EVIL)
    assert refused.status_code == 403 and "cross-site" in refused.json()["message"]
    assert pending(runner, arn, "callback") is not None
    assert client.post(f"/2025-12-01/durable-executions/{encoded}/stop", content=b"{}", headers=EVIL).status_code == 403
    answered = client.post(succeed, content=b'{"ok": true}', headers={"Origin": OWN})
    assert answered.status_code == 200
    runner.until(lambda: runner.status(arn) == "SUCCEEDED", "the execution to succeed")
    result = json.loads(runner.store.load(arn).result.result)  # type: ignore[union-attr]
    assert result["approval"] == '{"ok": true}'  # the result as sent (the probe's callback has no serdes)

    # What the page shows for an execution in the wrong state: Lambda's error, by type.
    late = client.post(succeed, content=b'"again"', headers={"Origin": OWN})
    assert (late.status_code, late.headers["x-amzn-ErrorType"]) == (404, "ResourceNotFoundException")  # closed
    assert "the callback is closed" in late.json()["Message"]  # the page shows its type and this message
    again = client.post("/_local/durable/resume", json=resume, headers={"Origin": OWN})
    assert (again.status_code, again.headers["x-amzn-ErrorType"]) == (409, "ResourceConflictException")
