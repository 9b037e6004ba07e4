"""`make analytics`: revenue per product group per day, from the warehouse (cafe_dw) the order ETL loads.

python -m tools.analytics [--days 7]
"""

import argparse
from decimal import Decimal
from typing import Any

from stack import db_connection

REVENUE_SQL = """
SELECT d.full_date, p.product_group, SUM(f.quantity) AS items, SUM(f.amount) AS revenue
FROM cafe_dw.fact_order_line f
JOIN cafe_dw.dim_date d ON d.date_key = f.date_key
JOIN cafe_dw.dim_product p ON p.product_id = f.product_id
WHERE f.deleted = 0
GROUP BY d.full_date, p.product_group
ORDER BY d.full_date DESC, revenue DESC
"""


def revenue() -> list[tuple[Any, ...]]:
    """(day, product group, items, revenue) for every day and group with sales, newest day first."""
    conn = db_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(REVENUE_SQL)
            return list(cur.fetchall())
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7, help="how many of the latest days to show")
    args = parser.parse_args()
    rows = revenue()
    days = sorted({row[0] for row in rows}, reverse=True)[: args.days]
    if not rows:
        print("the warehouse is empty: `make place-orders N=200` writes orders, the stream loads them")
        return
    print(f"{'day':<12} {'product group':<16} {'items':>7} {'revenue':>11}")
    for day in days:
        total = Decimal(0)
        for row_day, group, items, amount in rows:
            if row_day == day:
                print(f"{day.isoformat():<12} {group:<16} {int(items):>7} {amount:>11,.2f}")
                total += amount
        print(f"{'':<12} {'total':<16} {'':>7} {total:>11,.2f}")


if __name__ == "__main__":
    main()
