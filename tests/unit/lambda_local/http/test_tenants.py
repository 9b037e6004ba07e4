"""Tenant isolation at the Invoke API: a tenant id is required by a function in tenant isolation mode and
refused by any other (Lambda's InvalidParameterValueException, its message), and checked against Lambda's
TenantId shape; an asynchronous event keeps its tenant in the durable store."""

from pathlib import Path

import pytest

from lambda_local.invocation.event_store import EventStore, StoredEvent
from lambda_local.invocation.tenants import TENANT_MISMATCH, tenant_of


def test_a_tenant_isolated_function_needs_a_tenant_and_another_function_refuses_one() -> None:
    assert tenant_of("blue", isolated=True) == "blue"
    assert tenant_of("org/42:team=a b@x.y+z-1_", isolated=True) == "org/42:team=a b@x.y+z-1_"
    assert tenant_of(None, isolated=False) is None
    for header, isolated in ((None, True), ("", True), ("blue", False)):
        with pytest.raises(ValueError, match="Tenant ID configuration not specified") as error:
            tenant_of(header, isolated)
        assert str(error.value) == TENANT_MISMATCH


@pytest.mark.parametrize("header", ["x" * 257, "semi;colon", "new\nline", "ünï"])
def test_a_tenant_id_outside_lambdas_shape_is_refused_by_name(header: str) -> None:
    with pytest.raises(ValueError, match="TenantId must be 1 to 256 characters"):
        tenant_of(header, isolated=True)


def test_an_asynchronous_events_tenant_is_stored_with_it_and_an_older_store_gains_the_column(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "events.sqlite"
    old = sqlite3.connect(path)  # a store an earlier plane wrote: no tenant column
    old.execute(
        "CREATE TABLE events (request_id TEXT PRIMARY KEY, function TEXT NOT NULL, source TEXT NOT NULL, "
        "payload BLOB NOT NULL, received REAL NOT NULL, attempts INTEGER NOT NULL, trace TEXT)"
    )
    old.execute("INSERT INTO events VALUES ('old', 'fn', 'invoke', x'7b7d', 1.0, 0, NULL)")
    old.commit()
    old.close()
    store = EventStore(path)
    store.add(StoredEvent("new", "fn", "invoke", b"{}", 2.0, 0, "Root=1-a", "blue"))
    assert [(e.request_id, e.tenant) for e in store.pending()] == [("old", None), ("new", "blue")]
