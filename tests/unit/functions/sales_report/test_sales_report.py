from datetime import date
from pathlib import Path

import pytest

from sales_report import WIDTH, format_report, rows_from_extractor
from shared.errors import DownstreamFunctionError


def row(group: int, group_name: str, product_id: int, name: str, quantity: int) -> dict:
    return {
        "product_group_number": group,
        "product_group_name": group_name,
        "product_id": product_id,
        "product_name": name,
        "quantity": quantity,
    }


ROWS = [
    row(1, "Pastries", 1, "Croissant", 5),
    row(1, "Pastries", 5, "Strawberry Blueberry Tart", 12),
    row(2, "Drinks", 7, "Coffee", 104),
]


def test_layout_title_centred_groups_and_aligned_columns():
    report = format_report(ROWS, date(2026, 11, 20), today=date(2026, 11, 20))
    assert report.text == (
        "                             Sales Analysis Report\n"
        "                                Date: 2026-11-20\n"
        "\n"
        "Product Group: Pastries\n"
        "\n"
        "Item Name                  Quantity\n"
        "Croissant                         5\n"
        "Strawberry Blueberry Tart        12\n"
        "\n"
        "Product Group: Drinks\n"
        "\n"
        "Item Name                  Quantity\n"
        "Coffee                          104\n"
    )
    assert (report.groups, report.items) == (2, 3)


def test_title_lines_are_centred_in_80_columns():
    lines = format_report(ROWS, date(2026, 11, 20), today=date(2026, 11, 20)).text.splitlines()
    for title in lines[:2]:
        left = len(title) - len(title.lstrip())
        right = WIDTH - len(title)
        assert abs(left - right) <= 1


def test_quantities_right_aligned_whatever_the_name_lengths():
    rows = [row(1, "P", 1, "A very long product name indeed", 1), row(1, "P", 2, "B", 123456789)]
    lines = format_report(rows, date(2026, 1, 1), today=date(2026, 1, 1)).text.splitlines()
    table = [line for line in lines if line and not line.startswith(("Product Group", " "))]
    assert len({len(line) for line in table}) == 1
    assert table[-1].endswith("123456789") and table[-1].startswith("B ")


def test_empty_day_today_and_another_day():
    assert format_report([], date(2026, 11, 22), today=date(2026, 11, 22)).text.endswith(
        "There were no orders today.\n"
    )
    report = format_report([], date(2026, 11, 1), today=date(2026, 11, 22))
    assert report.text.endswith("There were no orders on 2026-11-01.\n")
    assert (report.groups, report.items) == (0, 0)


@pytest.mark.parametrize(
    "result",
    [None, {"statusCode": 500, "body": []}, {"statusCode": 200, "body": "rows"}, {"statusCode": 200, "body": [{}]}],
)
def test_unusable_extractor_answers_are_errors(result):
    with pytest.raises(DownstreamFunctionError, match="extractorName"):
        rows_from_extractor("extractorName", result)


def test_valid_extractor_answer_passes_rows_through():
    assert rows_from_extractor("x", {"statusCode": 200, "body": ROWS}) == ROWS


def test_the_readme_quotes_the_empty_day_lines_the_report_writes():
    readme = (Path(__file__).resolve().parents[4] / "README.md").read_text()
    today = date(2026, 3, 17)
    for day in (today, date(2026, 3, 16)):
        last_line = format_report([], day, today).text.splitlines()[-1]
        assert f"`{last_line}`" in readme
