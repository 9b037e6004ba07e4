"""The integration suite drives the running local stack over HTTP, as a user would.

It starts the stack (Docker or host mode) when none is up and stops what it started.
"""

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pymysql
import pytest

import stack
from lambda_local.providers import load
from stack import ROOT, read_env_file
from stack.functions import by_name

LOCAL_ENV = read_env_file(ROOT / "local.env")
TEMPLATE = load()
DB_ENV = read_env_file(ROOT / "db.env")
SECRETS = (DB_ENV["MARIADB_PASSWORD"],)  # the root password is generated per stack: test_tooling checks it


@pytest.fixture(scope="session", autouse=True)
def running_stack() -> Iterator[None]:
    started = not stack.stack_is_up()
    if started:
        stack.up()
    yield
    if started:
        stack.down()
        if stack.mode() == "docker":  # nothing the plane started outlives the stack
            from stack.docker_mode import environments

            assert environments() == [], "execution environment containers left after make down"


class Invoker:
    """POSTs events to the functions' endpoints and returns the decoded answers."""

    def __call__(self, function: str, event: Any) -> Any:
        status, body = stack.invoke(by_name(function).port, event)
        assert status == 200, body
        return json.loads(body)


@pytest.fixture(scope="session")
def invoke() -> Invoker:
    return Invoker()


def db_connect() -> pymysql.connections.Connection:
    return stack.db_connection(autocommit=True)


class Orders:
    """Inserts orders at given UTC times and deletes them afterwards."""

    def __init__(self) -> None:
        self.conn = db_connect()
        self.numbers: list[int] = []

    def add(self, at_utc: str, items: list[tuple[int, int]]) -> int:
        """items: (product_id, quantity)."""
        with self.conn.cursor() as cur:
            cur.execute("INSERT INTO `order` (order_date_time, amount) VALUES (%s, 0)", (at_utc,))
            number = cur.lastrowid
            cur.executemany(
                "INSERT INTO order_item (order_number, order_item_number, product_id, quantity, amount) "
                "SELECT %s, %s, id, %s, price * %s FROM product WHERE id = %s",
                [(number, i, qty, qty, pid) for i, (pid, qty) in enumerate(items, start=1)],
            )
        self.numbers.append(number)
        return number

    def cleanup(self) -> None:
        with self.conn.cursor() as cur:
            for number in self.numbers:
                cur.execute("DELETE FROM order_item WHERE order_number = %s", (number,))
                cur.execute("DELETE FROM `order` WHERE order_number = %s", (number,))
        self.conn.close()


@pytest.fixture
def orders() -> Iterator[Orders]:
    o = Orders()
    yield o
    o.cleanup()


def expected_rows(day_start_utc: datetime, day_end_utc: datetime) -> list[dict[str, Any]]:
    """The day's sales computed independently of the extractor's SQL: raw rows aggregated in Python."""
    conn = db_connect()
    with conn.cursor() as cur:
        cur.execute("SELECT order_number, UNIX_TIMESTAMP(order_date_time) FROM `order`")
        in_day = {n for n, ts in cur.fetchall() if day_start_utc.timestamp() <= float(ts) < day_end_utc.timestamp()}
        cur.execute("SELECT order_number, product_id, quantity FROM order_item")
        items = cur.fetchall()
        cur.execute(
            "SELECT p.id, p.product_name, g.product_group_number, g.product_group_name "
            "FROM product p, product_group g WHERE g.product_group_number = p.product_group"
        )
        products = {pid: (name, g, gname) for pid, name, g, gname in cur.fetchall()}
    conn.close()
    totals: dict[int, int] = {}
    for number, pid, qty in items:
        if number in in_day:
            totals[pid] = totals.get(pid, 0) + qty
    rows = [
        {
            "product_group_number": products[pid][1],
            "product_group_name": products[pid][2],
            "product_id": pid,
            "product_name": products[pid][0],
            "quantity": qty,
        }
        for pid, qty in totals.items()
    ]
    return sorted(rows, key=lambda r: (r["product_group_number"], r["product_id"]))
