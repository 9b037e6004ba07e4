"""The daily sales query: quantities sold per product, grouped by product group, for one day."""

from datetime import date
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from shared.dates import day_window_utc

# Portable across MariaDB 10.11 and MySQL 8.4 (`CAST(... AS SIGNED)`, full GROUP BY); the date
# filter is a half-open UTC range on `order.order_date_time`, served by `idx_order_date_time`.
DAILY_SALES_SQL = """
SELECT c.product_group_number,
       c.product_group_name,
       a.product_id,
       b.product_name,
       CAST(SUM(a.quantity) AS SIGNED) AS quantity
FROM `order` o
JOIN order_item a ON a.order_number = o.order_number
JOIN product b ON b.id = a.product_id
JOIN product_group c ON c.product_group_number = b.product_group
WHERE o.order_date_time >= %s AND o.order_date_time < %s
GROUP BY c.product_group_number, c.product_group_name, a.product_id, b.product_name
ORDER BY c.product_group_number, a.product_id
"""


class SalesRow(TypedDict):
    product_group_number: int
    product_group_name: str
    product_id: int
    product_name: str
    quantity: int


def query_args(day: date, tz: ZoneInfo) -> tuple[str, str]:
    """The UTC bounds of `day` in `tz`, formatted for the TIMESTAMP comparison."""
    start, end = day_window_utc(day, tz)
    return start.isoformat(sep=" "), end.isoformat(sep=" ")


def to_rows(records: list[dict[str, Any]]) -> list[SalesRow]:
    """Shape driver rows into the JSON-safe response rows."""
    return [
        SalesRow(
            product_group_number=int(r["product_group_number"]),
            product_group_name=str(r["product_group_name"]),
            product_id=int(r["product_id"]),
            product_name=str(r["product_name"]),
            quantity=int(r["quantity"]),
        )
        for r in records
    ]
