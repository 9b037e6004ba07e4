import pytest

from sales_query import query_args, to_rows
from shared.db import DbSettings, parse_db_url
from shared.errors import ConfigError


def test_db_url_forms():
    assert parse_db_url("db.example.com") == ("db.example.com", 3306)
    assert parse_db_url("127.0.0.1:3307") == ("127.0.0.1", 3307)
    with pytest.raises(ConfigError, match="dbUrl 'host:port' is not host or host:port"):
        parse_db_url("host:port")


def test_password_not_in_settings_repr():
    settings = DbSettings("h", 1, "d", "u", "s3cret-value")
    assert "s3cret-value" not in repr(settings)


def test_query_args_and_row_shape():
    from datetime import date
    from zoneinfo import ZoneInfo

    assert query_args(date(2026, 11, 20), ZoneInfo("Europe/Paris")) == ("2026-11-19 23:00:00", "2026-11-20 23:00:00")
    from decimal import Decimal

    rows = to_rows(
        [
            {
                "product_group_number": 1,
                "product_group_name": "Pastries",
                "product_id": 2,
                "product_name": "Donut",
                "quantity": Decimal("3"),
            }
        ]
    )
    assert rows == [
        {
            "product_group_number": 1,
            "product_group_name": "Pastries",
            "product_id": 2,
            "product_name": "Donut",
            "quantity": 3,
        }
    ]
    assert isinstance(rows[0]["quantity"], int)
