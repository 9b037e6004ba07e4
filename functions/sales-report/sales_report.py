"""The daily sales analysis report: extractor rows in, plain-text report out."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any

from shared.errors import DownstreamFunctionError

WIDTH = 80
SUBJECT = "Daily Sales Analysis Report"
ROW_FIELDS = ("product_group_number", "product_group_name", "product_id", "product_name", "quantity")


@dataclass(frozen=True)
class Report:
    text: str
    groups: int
    items: int


def rows_from_extractor(function_name: str, result: Any) -> list[dict[str, Any]]:
    """Validate the extractor's `{"statusCode": 200, "body": [rows]}` answer and return its rows."""
    if not isinstance(result, dict) or result.get("statusCode") != 200 or not isinstance(result.get("body"), list):
        raise DownstreamFunctionError(f"{function_name} returned an unexpected response: {str(result)[:300]}")
    for row in result["body"]:
        if not isinstance(row, dict) or not set(ROW_FIELDS) <= row.keys():
            raise DownstreamFunctionError(f"{function_name} returned a row without {', '.join(ROW_FIELDS)}: {row!r}")
    rows: list[dict[str, Any]] = result["body"]
    return rows


def format_report(rows: Sequence[dict[str, Any]], day: date, today: date) -> Report:
    """Title and date centred in 80 columns, then one aligned table per product group.

    Rows arrive ordered by group then product; grouping keeps that order.
    """
    lines = ["Sales Analysis Report".center(WIDTH).rstrip(), f"Date: {day.isoformat()}".center(WIDTH).rstrip(), ""]
    if not rows:
        when = "today" if day == today else f"on {day.isoformat()}"
        lines.append(f"There were no orders {when}.")
        return Report("\n".join(lines) + "\n", groups=0, items=0)

    name_width = max(len("Item Name"), *(len(str(r["product_name"])) for r in rows))
    qty_width = max(len("Quantity"), *(len(str(r["quantity"])) for r in rows))
    groups = 0
    for (_, group_name), group_rows in groupby(
        rows, key=lambda r: (r["product_group_number"], r["product_group_name"])
    ):
        groups += 1
        lines += [f"Product Group: {group_name}", "", f"{'Item Name':<{name_width}}  {'Quantity':>{qty_width}}"]
        lines += [f"{r['product_name']:<{name_width}}  {r['quantity']:>{qty_width}}" for r in group_rows]
        lines.append("")
    return Report("\n".join(lines), groups=groups, items=len(rows))
