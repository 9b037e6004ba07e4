"""The database settings from Parameter Store (shared/db.py) under moto's `mock_aws`: one GetParameters call
through the shared SSM client, values served from Powertools' cache while fresh, a forced re-read
(a rotated password) past it, and the other prefix read as such."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared import db
from shared.clients import client
from shared.errors import ConfigError
from tests.support.handlers import reset_caches


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """Parameters under /cafe and /cafe-dw; yields the names each GetParameters call asked for."""
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("DB_PARAMETER_PREFIX", "/cafe")
    monkeypatch.setenv("WAREHOUSE_PARAMETER_PREFIX", "/cafe-dw")
    monkeypatch.setenv("DB_PARAMETER_MAX_AGE", "300")
    reset_caches()
    with mock_aws():
        setup = boto3.client("ssm", region_name="us-east-1")
        for prefix, name in (("/cafe", "cafe"), ("/cafe-dw", "cafe_dw")):
            for key, value in (("dbUrl", "db.internal:3307"), ("dbName", name), ("dbUser", "reader")):
                setup.put_parameter(Name=f"{prefix}/{key}", Value=value, Type="String")
            setup.put_parameter(Name=f"{prefix}/dbPassword", Value="first", Type="SecureString")
        calls: list[list[str]] = []

        def record(params: dict[str, Any], **kwargs: Any) -> None:
            calls.append(sorted(params["Names"]))

        client("ssm").meta.events.register("provide-client-params.ssm.GetParameters", record)
        yield calls
    reset_caches()


def rotate(password: str) -> None:
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/cafe/dbPassword", Value=password, Type="SecureString", Overwrite=True
    )


def test_settings_come_from_one_call_through_the_shared_client(ssm: list[list[str]]) -> None:
    settings = db.load_settings()
    assert (settings.host, settings.port, settings.database, settings.user) == ("db.internal", 3307, "cafe", "reader")
    assert settings.password == "first" and "first" not in repr(settings)
    assert ssm == [["/cafe/dbName", "/cafe/dbPassword", "/cafe/dbUrl", "/cafe/dbUser"]]


def test_cached_values_are_served_until_a_fresh_read_is_asked_for(ssm: list[list[str]]) -> None:
    db.load_settings()
    rotate("second")
    assert db.load_settings().password == "first", "served from the cache"
    assert len(ssm) == 1
    assert db.load_settings(fresh=True).password == "second"
    assert len(ssm) == 2
    assert db.load_settings().password == "second"
    assert len(ssm) == 2


def test_the_warehouse_prefix_is_read_as_such(ssm: list[list[str]]) -> None:
    warehouse = db.load_settings(prefix_variable="WAREHOUSE_PARAMETER_PREFIX")
    assert warehouse.database == "cafe_dw"
    assert ssm == [["/cafe-dw/dbName", "/cafe-dw/dbPassword", "/cafe-dw/dbUrl", "/cafe-dw/dbUser"]]


def test_a_missing_parameter_names_the_prefix(ssm: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PARAMETER_PREFIX", "/elsewhere")
    with pytest.raises(ConfigError, match="cannot read database parameters under /elsewhere/"):
        db.load_settings()
