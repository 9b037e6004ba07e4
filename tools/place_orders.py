"""`make place-orders N=200`: write orders to the DynamoDB `orders` table as the storefront would; the
orders stream carries them to the warehouse (orderEtl).

    python -m tools.place_orders --orders 200 [--seed 7] [--day 2026-11-20] [--days 3] [--changes 0.1]

Products come from the café database's catalog. With --changes, that share of the orders is then
modified (paid, a quantity changed, or a line dropped) and half as many cancelled (deleted), so the
stream carries INSERT, MODIFY and REMOVE records.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from lambda_local.providers import load
from stack import db_connection, moto


@dataclass(frozen=True)
class Product:
    product_id: int
    name: str
    group: str
    price: Decimal


def catalog() -> list[Product]:
    """The café's products, from its database."""
    conn = db_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT p.id, p.product_name, g.product_group_name, p.price FROM product p "
                "JOIN product_group g ON g.product_group_number = p.product_group ORDER BY p.id"
            )
            return [Product(int(r[0]), r[1], r[2], Decimal(r[3])) for r in cur.fetchall()]
    finally:
        conn.close()


def orders(count: int, products: list[Product], first_day: date, days: int, seed: int) -> list[dict[str, Any]]:
    """`count` orders with 1-4 lines each, placed over `days` days from `first_day` (UTC), reproducible."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    start = datetime.combine(first_day, datetime.min.time(), UTC)
    placed = []
    for _ in range(count):
        moment = start + timedelta(seconds=rng.randrange(days * 86400))
        chosen = rng.sample(products, rng.randint(1, min(4, len(products))))
        placed.append(
            {
                "order_id": f"o-{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}",
                "placed_at": moment.isoformat().replace("+00:00", "Z"),
                "status": "PLACED",
                "customer_id": f"c-{rng.randint(1, 500):04d}",
                "lines": [
                    {
                        "product_id": p.product_id,
                        "product_name": p.name,
                        "product_group": p.group,
                        "quantity": rng.randint(1, 3),
                        "unit_price": p.price,
                    }
                    for p in chosen
                ],
            }
        )
    return placed


def changes(placed: list[dict[str, Any]], share: float, seed: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Modified versions of `share` of the orders, and the ids of half as many to cancel."""
    rng = random.Random(seed + 1)  # noqa: S311
    chosen = rng.sample(placed, int(len(placed) * share))
    modified = []
    for order in chosen:
        new = order | {"status": "PAID", "lines": [dict(line) for line in order["lines"]]}
        if len(new["lines"]) > 1 and rng.random() < 0.5:
            new["lines"].pop()
        else:
            new["lines"][0]["quantity"] += 1
        modified.append(new)
    cancelled = [o["order_id"] for o in rng.sample(placed, int(len(placed) * share / 2))]
    return modified, cancelled


def table_name() -> str:
    return str(load().names["OrdersTable"])


def write(items: list[dict[str, Any]], cancelled: Sequence[str] = ()) -> None:
    table = moto.resource("dynamodb").Table(table_name())
    with table.batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)
        for order_id in cancelled:
            batch.delete_item(Key={"order_id": order_id})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 20))
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--changes", type=float, default=0.1)
    args = parser.parse_args()
    if args.orders < 1 or not 0 <= args.changes <= 1:
        raise SystemExit("--orders must be at least 1 and --changes between 0 and 1")
    products = catalog()
    placed = orders(args.orders, products, args.day, args.days, args.seed)
    started = time.perf_counter()
    write(placed)
    modified, cancelled = changes(placed, args.changes, args.seed)
    write(modified)
    write([], cancelled)
    lines = sum(len(o["lines"]) for o in placed)
    print(
        f"placed {len(placed)} orders ({lines} lines) from {args.day} over {args.days} days, modified "
        f"{len(modified)}, cancelled {len(cancelled)} in {time.perf_counter() - started:.1f} s; `make analytics` shows "
        "the warehouse"
    )


if __name__ == "__main__":
    main()
