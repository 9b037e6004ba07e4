"""The café database: credentials from SSM Parameter Store, one connection reused across warm invocations.

Parameters (prefix from `DB_PARAMETER_PREFIX`, default `/cafe`): `dbUrl` (`host` or `host:port`),
`dbName`, `dbUser`, `dbPassword` (SecureString). Values are cached for `DB_PARAMETER_MAX_AGE`
seconds (default 300); an authentication failure re-reads them once, bypassing the cache, so a
rotated password is picked up at once. Errors raised here carry neither credentials nor connection
details (driver messages, which can name the user, are replaced by the error code); the host and
database go to the log.
"""

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar, cast

import pymysql
import pymysql.cursors
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from shared.clients import client
from shared.config import env
from shared.errors import ConfigError, DatabaseUnavailable, preview
from shared.log import get_logger

PARAMETER_NAMES = ("dbUrl", "dbName", "dbUser", "dbPassword")
ER_ACCESS_DENIED = 1045
T = TypeVar("T")

logger = get_logger(child=True)


@dataclass(frozen=True)
class DbSettings:
    host: str
    port: int
    database: str
    user: str
    password: str = field(repr=False)


def parse_db_url(value: str) -> tuple[str, int]:
    """`host` or `host:port` (default port 3306)."""
    host, sep, port = value.strip().rpartition(":") if ":" in value else (value.strip(), "", "3306")
    if not host or (sep and not port.isdigit()):
        raise ConfigError(f"dbUrl {preview(value)} is not host or host:port")
    return host, int(port)


@cache
def parameter_store() -> SSMProvider:
    """Powertools' Parameter Store provider (with its cache) on the shared botocore session's SSM client:
    the default provider builds a boto3 session of its own, about 10 ms more of the first invocation."""
    return SSMProvider(boto3_client=client("ssm"))


def load_settings(fresh: bool = False, prefix_variable: str = "DB_PARAMETER_PREFIX") -> DbSettings:
    """Read the connection settings from Parameter Store (cached by Powertools unless `fresh`), under
    the prefix the environment variable `prefix_variable` names (default `/cafe`)."""
    prefix = env(prefix_variable, "/cafe").rstrip("/")
    names = {name: f"{prefix}/{name}" for name in PARAMETER_NAMES}
    store = parameter_store()
    if fresh:
        store.clear_cache()  # type: ignore[no-untyped-call]  # a cached value is served until its own max age
    try:
        values = cast(  # strings: no transform asked for
            dict[str, str],
            store.get_parameters_by_name(
                parameters={path: {} for path in names.values()},
                decrypt=True,
                max_age=int(env("DB_PARAMETER_MAX_AGE", "300")),
            ),
        )
    except GetParameterError as exc:
        raise ConfigError(f"cannot read database parameters under {prefix}/: {exc}") from None
    host, port = parse_db_url(values[names["dbUrl"]])
    return DbSettings(host, port, values[names["dbName"]], values[names["dbUser"]], values[names["dbPassword"]])


_connection: pymysql.connections.Connection | None = None
_connected_with: DbSettings | None = None


def connection(settings: DbSettings) -> pymysql.connections.Connection:
    """An open connection for `settings`, reused while it is alive and the settings are unchanged.

    Sessions run in UTC so TIMESTAMP columns compare against UTC bounds.
    """
    global _connection, _connected_with
    try:
        if _connection is not None and _connected_with == settings:
            _connection.ping(reconnect=True)
            return _connection
        close()
        _connection = pymysql.connect(
            host=settings.host,
            port=settings.port,
            user=settings.user,
            password=settings.password,
            database=settings.database,
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=5,
            read_timeout=60,
            init_command="SET time_zone = '+00:00'",
            cursorclass=pymysql.cursors.DictCursor,
        )
        _connected_with = settings
        return _connection
    except pymysql.MySQLError as exc:
        close()
        code = _error_code(exc)
        logger.error(
            "database connection failed",
            extra={
                "db_host": settings.host,
                "db_port": settings.port,
                "database": settings.database,
                "mysql_error": code,
            },
        )
        raise DatabaseUnavailable(f"cannot connect to the database (MySQL error {code})", code) from None


def query(settings: DbSettings, sql: str, args: Any = None) -> list[dict[str, Any]]:
    """Run one parameterised query and return its rows as dicts."""
    conn = connection(settings)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, args)
            return cast(list[dict[str, Any]], list(cursor.fetchall()))  # a DictCursor's rows
    except pymysql.MySQLError as exc:
        close()
        code = _error_code(exc)
        logger.error("database query failed", extra={"database": settings.database, "mysql_error": code})
        raise DatabaseUnavailable(f"the database query failed (MySQL error {code})", code) from None


def write(settings: DbSettings, steps: Sequence[tuple[str, Sequence[Sequence[Any]]]], row_by_row: bool = False) -> int:
    """Run each step's statement for all its rows in one transaction; returns the rows affected.

    `executemany` sends an `INSERT ... VALUES (...)` for many rows as multi-row statements (one round
    trip per statement up to 1 MB), so a step costs the same for 1 row or 1,000; `row_by_row` sends one
    statement per row instead (for comparison in benchmarks)."""
    conn = connection(settings)
    affected = 0
    try:
        conn.begin()
        with conn.cursor() as cursor:
            for sql, rows in steps:
                if not rows:
                    continue
                if row_by_row:
                    affected += sum(cursor.execute(sql, row) for row in rows)
                else:
                    affected += cursor.executemany(sql, rows) or 0
        conn.commit()
        return affected
    except pymysql.MySQLError as exc:
        with contextlib.suppress(pymysql.MySQLError):
            conn.rollback()
        close()
        code = _error_code(exc)
        logger.error("database write failed", extra={"database": settings.database, "mysql_error": code})
        raise DatabaseUnavailable(f"the database write failed (MySQL error {code})", code) from None


def with_settings(action: Callable[[DbSettings], T], prefix_variable: str = "DB_PARAMETER_PREFIX") -> T:
    """`action` with the settings from Parameter Store; after an authentication failure the settings are
    read again past the cache (the password may have been rotated) and `action` is tried once more."""
    try:
        return action(load_settings(prefix_variable=prefix_variable))
    except DatabaseUnavailable as exc:
        if exc.mysql_error != str(ER_ACCESS_DENIED):
            raise
    logger.info("database refused the cached credentials; re-reading them from Parameter Store")
    return action(load_settings(fresh=True, prefix_variable=prefix_variable))


def query_with_settings(sql: str, args: Any = None) -> list[dict[str, Any]]:
    """`query` with the settings from Parameter Store (see `with_settings`)."""
    return with_settings(lambda settings: query(settings, sql, args))


def close() -> None:
    """Drop the cached connection."""
    global _connection, _connected_with
    if _connection is not None:
        with contextlib.suppress(pymysql.MySQLError):
            _connection.close()
    _connection = None
    _connected_with = None


def _error_code(exc: pymysql.MySQLError) -> str:
    return str(exc.args[0]) if exc.args and isinstance(exc.args[0], int) else type(exc).__name__
