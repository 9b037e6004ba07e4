"""orderEtl's pure parts: order images -> warehouse rows, and the batch's statements."""

import json
from datetime import date
from decimal import Decimal

import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from stack import ROOT
from warehouse import Load, UntransformableRecord, change_rows, date_key, order_rows
from warehouse_load import FACTS_SQL, statements

SAMPLE = json.loads((ROOT / "events" / "order-etl" / "dynamodb-stream.json").read_text())


def order(**overrides: object) -> dict:
    base = {
        "order_id": "o-1",
        "placed_at": "2026-11-20T23:30:00-02:00",  # 01:30 UTC the next day
        "status": "PLACED",
        "lines": [
            {"product_id": 7, "product_name": "Coffee", "product_group": "Drinks", "quantity": 2, "unit_price": "3.00"},
            {
                "product_id": 1,
                "product_name": "Croissant",
                "product_group": "Pastries",
                "quantity": 3,
                "unit_price": 1.5,
            },
        ],
    }
    return base | overrides


def test_an_order_becomes_one_fact_per_line_on_its_utc_day() -> None:
    load = order_rows(order(), sequence=42, deleted=False)
    assert [(f.line_number, f.product_id, f.quantity, f.amount) for f in load.facts] == [
        (1, 7, 2, Decimal("6.00")),
        (2, 1, 3, Decimal("4.50")),
    ]
    assert {f.date_key for f in load.facts} == {20261121}
    assert load.dates[20261121].day == date(2026, 11, 21) and load.dates[20261121].weekday_name == "Saturday"
    assert load.products[1].group == "Pastries"
    assert all(f.sequence == 42 and not f.deleted for f in load.facts)


def test_a_modify_that_drops_a_line_soft_deletes_it_and_a_remove_deletes_all() -> None:
    old = order()
    new = order(lines=old["lines"][:1], status="PAID")
    modified = change_rows("MODIFY", new, old, 50)
    assert [(f.line_number, f.deleted, f.status) for f in modified.facts] == [(1, False, "PAID"), (2, True, "PLACED")]
    removed = change_rows("REMOVE", None, new, 60)
    assert [(f.line_number, f.deleted) for f in removed.facts] == [(1, True)]
    assert removed.products == {}  # an old image does not touch the product dimension


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (order(placed_at="yesterday"), "placed_at"),
        (order(placed_at="2026-11-20T10:00:00"), "no timezone"),
        (order(lines=[]), "lines must be a non-empty list"),
        (
            order(lines=[{"product_id": 7, "product_name": "C", "product_group": "D", "quantity": 0, "unit_price": 1}]),
            "quantity",
        ),
        (
            order(
                lines=[{"product_id": 7, "product_name": "C", "product_group": "D", "quantity": 1.5, "unit_price": 1}]
            ),
            "quantity",
        ),
        (
            order(
                lines=[{"product_id": 7, "product_name": "C", "product_group": "D", "quantity": 1, "unit_price": "x"}]
            ),
            "unit_price",
        ),
        (
            order(lines=[{"product_id": 7, "product_group": "D", "quantity": 1, "unit_price": 1}]),
            "product_name is missing",
        ),
        ({"placed_at": "2026-11-20T10:00:00Z", "lines": []}, "order_id is missing"),
    ],
)
def test_untransformable_orders_name_what_is_wrong(change: dict, named: str) -> None:
    with pytest.raises(UntransformableRecord, match=named):
        change_rows("INSERT", change, None, 1)


def test_images_are_required_as_the_stream_view_promises() -> None:
    with pytest.raises(UntransformableRecord, match="NEW_AND_OLD_IMAGES"):
        change_rows("REMOVE", None, None, 1)


def test_the_sample_event_transforms_as_documented() -> None:
    event = DynamoDBStreamEvent(SAMPLE)
    outcomes = []
    for record in event.records:
        change = record.dynamodb
        try:
            rows = change_rows(record.event_name.name, change.new_image, change.old_image, int(change.sequence_number))
            outcomes.append([(f.order_id, f.line_number, f.quantity, f.deleted) for f in rows.facts])
        except UntransformableRecord as exc:
            outcomes.append(str(exc))
    assert outcomes == [
        [("o-1001", 1, 2, False), ("o-1001", 2, 1, False)],
        [("o-1001", 1, 3, False), ("o-1001", 2, 1, True)],
        "order 'o-1002' line 1: quantity Decimal('0') is not a whole number in 1..10000",
        [("o-1001", 1, 3, True)],
    ]


def test_a_batch_is_three_statements_whatever_its_size() -> None:
    load = Load()
    for index in range(500):
        load.add(order_rows(order(order_id=f"o-{index}"), index, False))
    steps = statements(load)
    assert [sql.split()[0:3] for sql, _ in steps] == [
        ["INSERT", "IGNORE", "INTO"],
        ["INSERT", "INTO", "dim_product"],
        ["INSERT", "INTO", "fact_order_line"],
    ]
    assert [len(rows) for _, rows in steps] == [1, 2, 1000]
    assert date_key(date(2026, 1, 2)) == 20260102
    # newer-wins: every column is guarded by the sequence number, which is assigned last
    assert FACTS_SQL.strip().endswith("source_sequence = GREATEST(source_sequence, VALUES(source_sequence))")
    assert FACTS_SQL.count("IF(VALUES(source_sequence) >= source_sequence") == 7
