"""The warehouse load: three upserts per batch, in one transaction, whatever the batch size.

Facts keep the newest change: a row is overwritten only by a change with a sequence number at least
its own, so a replayed or late older change leaves it as it is (MySQL applies the assignments left
to right, so `source_sequence` is assigned last).
"""

from collections.abc import Sequence
from typing import Any

from warehouse import Load

DATES_SQL = (
    "INSERT IGNORE INTO dim_date (date_key, full_date, year, month, day, weekday, weekday_name) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
PRODUCTS_SQL = (
    "INSERT INTO dim_product (product_id, product_name, product_group) VALUES (%s, %s, %s) "
    "ON DUPLICATE KEY UPDATE product_name = VALUES(product_name), product_group = VALUES(product_group)"
)
FACTS_SQL = """
INSERT INTO fact_order_line (order_id, line_number, date_key, product_id, quantity, unit_price, amount,
                             order_status, deleted, source_sequence)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE
  date_key = IF(VALUES(source_sequence) >= source_sequence, VALUES(date_key), date_key),
  product_id = IF(VALUES(source_sequence) >= source_sequence, VALUES(product_id), product_id),
  quantity = IF(VALUES(source_sequence) >= source_sequence, VALUES(quantity), quantity),
  unit_price = IF(VALUES(source_sequence) >= source_sequence, VALUES(unit_price), unit_price),
  amount = IF(VALUES(source_sequence) >= source_sequence, VALUES(amount), amount),
  order_status = IF(VALUES(source_sequence) >= source_sequence, VALUES(order_status), order_status),
  deleted = IF(VALUES(source_sequence) >= source_sequence, VALUES(deleted), deleted),
  source_sequence = GREATEST(source_sequence, VALUES(source_sequence))
"""


def statements(load: Load) -> list[tuple[str, Sequence[Sequence[Any]]]]:
    """The batch's statements and their rows (dimensions first: the facts reference them)."""
    dates = [
        (d.date_key, d.day, d.day.year, d.day.month, d.day.day, d.day.isoweekday(), d.weekday_name)
        for d in load.dates.values()
    ]
    products = [(p.product_id, p.name, p.group) for p in load.products.values()]
    facts = [
        (
            f.order_id,
            f.line_number,
            f.date_key,
            f.product_id,
            f.quantity,
            f.unit_price,
            f.amount,
            f.status,
            int(f.deleted),
            f.sequence,
        )
        for f in load.facts
    ]
    return [(DATES_SQL, dates), (PRODUCTS_SQL, products), (FACTS_SQL, facts)]
