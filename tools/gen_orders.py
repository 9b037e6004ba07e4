"""Generate large synthetic order tables in the local café database (for the benchmark).

    python -m tools.gen_orders --items 1000000 --start 2025-01-01 --days 365

Orders are spread uniformly over the days (UTC), 1-4 items each, products and quantities drawn
with a fixed seed. Rows go in with multi-row INSERTs in batches, one transaction per batch.
"""

import argparse
import random
import sys
import time
from datetime import date, datetime, timedelta

import pymysql

from stack import db_connection

BATCH_ORDERS = 5000


def generate(conn: pymysql.connections.Connection, items: int, start: date, days: int, seed: int = 7) -> int:
    """Insert orders until `items` order_item rows were added; returns the number of orders."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    with conn.cursor() as cur:
        cur.execute("SELECT id, price FROM product")
        prices = dict(cur.fetchall())
        cur.execute("SELECT COALESCE(MAX(order_number), 0) FROM `order`")
        (last,) = cur.fetchone() or (0,)
        next_order = last + 1
    products = sorted(prices)
    span = days * 86400
    origin = datetime.combine(start, datetime.min.time())
    added_items = orders = 0
    started = time.monotonic()
    while added_items < items:
        order_rows, item_rows = [], []
        for _ in range(BATCH_ORDERS):
            if added_items >= items:
                break
            n = min(rng.randint(1, 4), items - added_items)
            at = origin + timedelta(seconds=rng.randrange(span))
            total = 0
            for i, pid in enumerate(rng.sample(products, n), start=1):
                qty = rng.randint(1, 5)
                amount = prices[pid] * qty
                total += amount
                item_rows.append((next_order, i, pid, qty, amount))
            order_rows.append((next_order, at, total))
            next_order += 1
            added_items += n
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO `order` (order_number, order_date_time, amount) VALUES (%s, %s, %s)", order_rows
            )
            cur.executemany(
                "INSERT INTO order_item (order_number, order_item_number, product_id, quantity, amount) "
                "VALUES (%s, %s, %s, %s, %s)",
                item_rows,
            )
        conn.commit()
        orders += len(order_rows)
        print(f"    {added_items:>9,} / {items:,} order items ({time.monotonic() - started:.0f}s)", flush=True)
    return orders


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.gen_orders", description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="order_item rows to add")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1), help="first day (UTC)")
    parser.add_argument("--days", type=int, default=365, help="number of days to spread the orders over")
    args = parser.parse_args(argv)
    if args.items <= 0 or args.days <= 0:
        sys.exit("--items and --days must be positive")
    conn = db_connection()
    orders = generate(conn, args.items, args.start, args.days)
    print(f"==> added {orders:,} orders with {args.items:,} items from {args.start} over {args.days} days")


if __name__ == "__main__":
    main(sys.argv[1:])
