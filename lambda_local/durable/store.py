"""Where durable executions are kept: the runner's own SQLite store (`SQLiteExecutionStore`), in
`.stack/durable/executions.sqlite`, plus what the runner's store has no call for: deleting an execution
(`DeleteDurableExecution`, retention), finding the closed executions whose retention has passed, and the
error of each invocation that failed (Lambda's InvocationCompleted has it; the runner's execution keeps no
field for it: history.py, fix B), in a table of its own beside the runner's.

The runner writes each execution as one row (WAL, `synchronous=NORMAL`): a row written before a
SIGKILL of the plane is there at the next start; a power cut may lose the last transactions, as any
WAL database with NORMAL synchronisation may. A database that cannot be opened is moved aside with
one line naming it, and the plane starts with an empty one (as the event store does).

A deleted execution stays deleted: an invocation the execution's stop interrupted may still be failing
when retention or `DeleteDurableExecution` removes it, and the runner saves the execution as that
invocation ends; the store remembers the ARNs it deleted (in memory: no invocation outlives the plane)
and drops a save of one of them, so a late write cannot bring a deleted execution back.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aws_durable_execution_sdk_python.lambda_service import ErrorObject
from aws_durable_execution_sdk_python_testing.execution import Execution
from aws_durable_execution_sdk_python_testing.stores.sqlite import SQLiteExecutionStore

from lambda_local.logs import LOG

FILE_NAME = "executions.sqlite"
TOMBSTONE_KEPT_S = 3600.0  # a deleted ARN remembered this long: no invocation lives over 15 minutes


class LocalStore(SQLiteExecutionStore):
    """The runner's SQLite store, with deletion and retention."""

    def __init__(self, db_path: Path) -> None:
        super().__init__(db_path)
        # Between a save's "was it deleted?" and its write, no delete may come in: one store per plane.
        self._deleting = threading.Lock()
        self._deleted: dict[str, float] = {}  # ARN -> when (time.monotonic)

    @classmethod
    def open(cls, directory: Path) -> LocalStore:
        """The store in `directory` (made if missing); a database that does not open is moved aside."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / FILE_NAME
        store = cls(path)
        try:
            store._init_db()
            with store._connection() as conn:
                conn.execute("SELECT COUNT(*) FROM executions").fetchone()
        except (RuntimeError, sqlite3.Error) as exc:
            aside = path.with_name(f"{FILE_NAME}.corrupt-{int(time.time())}")
            path.rename(aside)
            for suffix in ("-wal", "-shm"):
                path.with_name(FILE_NAME + suffix).unlink(missing_ok=True)
            LOG.warning(f"durable executions: {path} did not open ({exc}); moved to {aside.name}, starting empty")
            store = cls(path)
            store._init_db()
        return store

    def _init_db(self) -> None:
        super()._init_db()
        try:
            with self._connection() as conn:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS invocation_errors (durable_execution_arn TEXT NOT NULL, "
                    "request_id TEXT NOT NULL, error TEXT NOT NULL, PRIMARY KEY (durable_execution_arn, request_id))"
                )
        except sqlite3.Error as exc:
            raise RuntimeError(f"Failed to initialize database: {exc}") from exc

    def save_invocation_error(self, execution_arn: str, request_id: str, error: ErrorObject) -> None:
        """The error an invocation (`request_id`) of the execution failed with (none for a deleted one)."""
        with self._deleting, self._connection() as conn:
            if execution_arn in self._deleted:
                return
            conn.execute(
                "INSERT OR REPLACE INTO invocation_errors VALUES (?, ?, ?)",
                (execution_arn, request_id, json.dumps(dict(error.to_dict()))),
            )

    def invocation_errors(self, execution_arn: str) -> dict[str, ErrorObject]:
        """The errors of the execution's failed invocations, by request id."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT request_id, error FROM invocation_errors WHERE durable_execution_arn = ?", (execution_arn,)
            ).fetchall()
        return {request_id: ErrorObject.from_dict(json.loads(error)) for request_id, error in rows}

    def save(self, execution: Execution) -> None:
        """The runner's save, but not of an execution deleted before (module docstring)."""
        with self._deleting:
            if execution.durable_execution_arn in self._deleted:
                LOG.debug(f"durable: a late save of deleted {execution.durable_execution_arn} dropped")
                return
            super().save(execution)

    def delete(self, execution_arn: str) -> bool:
        """Remove an execution's row (and its invocations' errors) for good; whether there was one."""
        now = time.monotonic()
        with self._deleting, self._connection() as conn:
            conn.execute("DELETE FROM invocation_errors WHERE durable_execution_arn = ?", (execution_arn,))
            cursor = conn.execute("DELETE FROM executions WHERE durable_execution_arn = ?", (execution_arn,))
            # Oldest first (each ARN is added once, in time order): a sweep of many stays linear.
            while self._deleted and now - next(iter(self._deleted.values())) >= TOMBSTONE_KEPT_S:
                del self._deleted[next(iter(self._deleted))]
            if cursor.rowcount > 0:
                self._deleted[execution_arn] = now
            return cursor.rowcount > 0

    def running_arns(self) -> list[str]:
        """The executions not closed yet (RUNNING), oldest first."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT durable_execution_arn FROM executions WHERE status = 'RUNNING' ORDER BY start_timestamp"
            ).fetchall()
        return [arn for (arn,) in rows]

    def expired(self, now: datetime | None = None) -> list[str]:
        """The closed executions whose retention (`RetentionPeriodInDays` after their end) has passed."""
        now = now or datetime.now(UTC)
        expired: list[str] = []
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT durable_execution_arn, end_timestamp, json_extract(data, "
                "'$.StartInput.ExecutionRetentionPeriodDays') FROM executions "
                "WHERE status != 'RUNNING' AND end_timestamp IS NOT NULL"
            ).fetchall()
        for arn, ended, days in rows:
            ended_at = datetime.fromtimestamp(float(ended), UTC)
            if ended_at + timedelta(days=float(days or 0)) <= now:
                expired.append(arn)
        return expired
