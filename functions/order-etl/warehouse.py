"""Orders (DynamoDB items, as the storefront writes them) -> warehouse rows (cafe_dw).

An order item: `order_id`, `placed_at` (ISO-8601 with timezone), `status`, and `lines`: a list of
`{product_id, product_name, product_group, quantity, unit_price}`. Each line becomes one
`fact_order_line` row keyed by (order_id, line_number); its product and its day go to `dim_product`
and `dim_date`. A MODIFY rewrites the order's lines and soft-deletes lines it no longer has; a REMOVE
soft-deletes them all. Every row carries the stream sequence number of the change it comes from, so
the load keeps the newest change whatever order (or how often) changes arrive: replays are idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from shared.errors import preview

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CENT = Decimal("0.01")
MAX_QUANTITY = 10_000


class UntransformableRecord(ValueError):
    """A change that cannot become warehouse rows; the message names the field and the value."""


@dataclass(frozen=True)
class FactRow:
    order_id: str
    line_number: int
    date_key: int
    product_id: int
    quantity: int
    unit_price: Decimal
    amount: Decimal
    status: str
    deleted: bool
    sequence: int


@dataclass(frozen=True)
class ProductRow:
    product_id: int
    name: str
    group: str


@dataclass(frozen=True)
class DateRow:
    date_key: int
    day: date

    @property
    def weekday_name(self) -> str:
        return DAY_NAMES[self.day.weekday()]


@dataclass
class Load:
    """The rows of a batch, loaded together."""

    facts: list[FactRow] = field(default_factory=list)
    products: dict[int, ProductRow] = field(default_factory=dict)
    dates: dict[int, DateRow] = field(default_factory=dict)

    def add(self, other: Load) -> None:
        self.facts += other.facts
        self.products |= other.products
        self.dates |= other.dates


def _field(order: dict[str, Any], name: str, where: str) -> Any:
    if order.get(name) in (None, ""):
        raise UntransformableRecord(f"{where}: {name} is missing")
    return order[name]


def _integer(value: Any, what: str, low: int, high: int) -> int:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise UntransformableRecord(f"{what} {preview(value)} is not a number") from None
    if number != number.to_integral_value() or not low <= number <= high:
        raise UntransformableRecord(f"{what} {preview(value)} is not a whole number in {low}..{high}")
    return int(number)


def _price(value: Any, what: str) -> Decimal:
    try:
        price = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise UntransformableRecord(f"{what} {preview(value)} is not a number") from None
    if not price.is_finite() or price < 0 or price > Decimal("100000"):
        raise UntransformableRecord(f"{what} {preview(value)} is not a price")
    return price.quantize(CENT, ROUND_HALF_UP)


def placed_day(value: Any, where: str) -> date:
    """The UTC day of `placed_at`."""
    if not isinstance(value, str):
        raise UntransformableRecord(f"{where}: placed_at {preview(value)} is not an ISO-8601 time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UntransformableRecord(f"{where}: placed_at {preview(value)} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise UntransformableRecord(f"{where}: placed_at {preview(value)} has no timezone")
    return moment.astimezone(UTC).date()


def date_key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def order_rows(order: dict[str, Any], sequence: int, deleted: bool) -> Load:
    """The warehouse rows of one order image."""
    order_id = str(_field(order, "order_id", "order"))
    where = f"order {preview(order_id)}"
    day = placed_day(_field(order, "placed_at", where), where)
    key = date_key(day)
    lines = order.get("lines")
    if not isinstance(lines, list) or not lines:
        raise UntransformableRecord(f"{where}: lines must be a non-empty list")
    status = str(order.get("status") or "PLACED")[:16]
    load = Load(dates={key: DateRow(key, day)})
    for number, line in enumerate(lines, start=1):
        line_where = f"{where} line {number}"
        if not isinstance(line, dict):
            raise UntransformableRecord(f"{line_where} is not an object")
        product_id = _integer(_field(line, "product_id", line_where), f"{line_where}: product_id", 1, 2**31 - 1)
        quantity = _integer(_field(line, "quantity", line_where), f"{line_where}: quantity", 1, MAX_QUANTITY)
        unit_price = _price(_field(line, "unit_price", line_where), f"{line_where}: unit_price")
        load.products[product_id] = ProductRow(
            product_id,
            str(_field(line, "product_name", line_where))[:40],
            str(_field(line, "product_group", line_where))[:25],
        )
        load.facts.append(
            FactRow(
                order_id[:64],
                number,
                key,
                product_id,
                quantity,
                unit_price,
                (unit_price * quantity).quantize(CENT),
                status,
                deleted,
                sequence,
            )
        )
    return load


def change_rows(
    event_name: str, new_image: dict[str, Any] | None, old_image: dict[str, Any] | None, sequence: int
) -> Load:
    """The rows one stream record changes: the new image's lines, plus the old image's lines that are
    gone (a MODIFY that drops lines, or a REMOVE) marked deleted."""
    if event_name in ("INSERT", "MODIFY"):
        if not new_image:
            raise UntransformableRecord(f"{event_name} without a new image (the stream must be NEW_AND_OLD_IMAGES)")
        load = order_rows(new_image, sequence, deleted=False)
        if event_name == "MODIFY" and old_image:
            kept = len(load.facts)
            old = _old_rows(old_image, sequence)
            load.facts += [row for row in old.facts if row.line_number > kept]
        return load
    if event_name == "REMOVE":
        if not old_image:
            raise UntransformableRecord("REMOVE without an old image (the stream must be NEW_AND_OLD_IMAGES)")
        return _old_rows(old_image, sequence)
    raise UntransformableRecord(f"unknown event name {preview(event_name)}")


def _old_rows(old_image: dict[str, Any], sequence: int) -> Load:
    """The old image's lines, marked deleted (its products are not upserted again)."""
    rows = order_rows(old_image, sequence, deleted=True)
    return Load(facts=rows.facts, dates=rows.dates)
