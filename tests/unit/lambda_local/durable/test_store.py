"""The runner's SQLite store with deletion and retention; a database that does not open is moved aside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aws_durable_execution_sdk_python_testing.execution import Execution
from aws_durable_execution_sdk_python_testing.model import StartDurableExecutionInput

from lambda_local.durable.store import FILE_NAME, LocalStore


def execution(arn: str, retention_days: int = 1) -> Execution:
    start = StartDurableExecutionInput("123456789012", "fn", "$LATEST", arn, 60, retention_days, invocation_id=arn)
    made = Execution(arn, start, [])
    made.start(now=datetime.now(UTC) - timedelta(days=10))
    return made


def test_running_and_expired_executions_are_found_and_deleted(tmp_path):  # type: ignore[no-untyped-def]
    store = LocalStore.open(tmp_path)
    running, old, recent = execution("running"), execution("old", retention_days=2), execution("recent", 30)
    old.complete_success("1", now=datetime.now(UTC) - timedelta(days=3))
    recent.complete_success("1", now=datetime.now(UTC) - timedelta(days=3))
    for each in (running, old, recent):
        store.save(each)
    assert store.running_arns() == ["running"]
    assert store.expired() == ["old"]
    assert store.delete("old") and not store.delete("old")
    assert sorted(e.durable_execution_arn for e in store.list_all()) == ["recent", "running"]


def test_a_store_that_does_not_open_is_moved_aside_and_an_empty_one_used(tmp_path, capsys):  # type: ignore[no-untyped-def]
    (tmp_path / FILE_NAME).write_bytes(b"not a database" * 100)
    store = LocalStore.open(tmp_path)
    assert store.list_all() == []
    aside = [p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1
    assert aside[0] in capsys.readouterr().err


def test_executions_survive_a_new_store_on_the_same_directory(tmp_path):  # type: ignore[no-untyped-def]
    LocalStore.open(tmp_path).save(execution("kept"))
    assert LocalStore.open(tmp_path).load("kept").start_input.function_name == "fn"


def test_a_late_save_of_a_deleted_execution_does_not_bring_it_back(tmp_path):  # type: ignore[no-untyped-def]
    # An invocation a stop interrupted ends after retention deleted its execution (a CI run saw it).
    store = LocalStore.open(tmp_path)
    stopped = execution("stopped")
    stopped.complete_success("1", now=datetime.now(UTC) - timedelta(days=3))
    store.save(stopped)
    assert store.delete("stopped")
    store.save(stopped)
    assert store.list_all() == []
    assert store.expired() == []
    store.save(execution("another"))  # other executions are saved as before
    assert [e.durable_execution_arn for e in store.list_all()] == ["another"]


def test_a_deleted_arn_is_forgotten_after_its_time(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("lambda_local.durable.store.TOMBSTONE_KEPT_S", 0.0)
    store = LocalStore.open(tmp_path)
    for arn in ("first", "second"):
        store.save(execution(arn))
    assert store.delete("first") and store.delete("second")  # the second delete forgets the first
    store.save(execution("first"))
    store.save(execution("second"))
    assert [e.durable_execution_arn for e in store.list_all()] == ["first"]
