"""The console groups a tenant-isolated function's environments by tenant (headless Chromium, on a second
plane serving one function with `TenancyConfig: {TenantIsolationMode: PER_TENANT}`): two invokes of one
tenant share its environment, another tenant gets one of its own, and the function's row lists each
tenant with its environments and invocations. The probe plane needs no AWS resource."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.integration.test_weather_browser import start_chromium
from tests.support.probe_plane import INVOKE_PORT, ProbePlane, one_function_project

pytestmark = pytest.mark.integration
ENDPOINT = f"http://127.0.0.1:{INVOKE_PORT}"
APP = """\
def handler(event, context):
    return {"tenant": context.tenant_id}
"""


@pytest.fixture(scope="module", autouse=True)
def running_stack() -> None:
    """The probe plane alone serves these tests (the conftest's stack is not needed)."""


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    root = tmp_path_factory.mktemp("console-tenants")
    one_function_project(root, "tenants", "tenantConsole", APP, "TenancyConfig: {TenantIsolationMode: PER_TENANT}")
    probe = ProbePlane(root / "state", template=root / "template.yaml")
    probe.start()
    yield probe
    probe.stop()


def invoke(tenant: str) -> None:
    request = urllib.request.Request(
        f"{ENDPOINT}/2015-03-31/functions/tenantConsole/invocations",
        data=b"{}",
        method="POST",
        headers={"X-Amz-Tenant-Id": tenant},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        response.read()


def test_the_functions_environments_are_listed_by_tenant(plane: ProbePlane) -> None:
    for tenant in ("blue", "blue", "acme"):
        invoke(tenant)
    driver = start_chromium()
    try:
        driver.get(f"{ENDPOINT}/_local/")
        row = '[data-function="tenantConsole"]'

        def listed(b: WebDriver) -> dict[str, str] | bool:
            try:
                items = b.find_elements(By.CSS_SELECTOR, f"{row} ul.tenants li")
                return {e.get_attribute("data-tenant"): e.text for e in items} or False
            except StaleElementReferenceException:
                return False

        tenants = WebDriverWait(driver, 30, poll_frequency=0.2).until(listed, "the tenants never showed")
        assert tenants == {"acme": "acme: 1 environment, 1 invocation", "blue": "blue: 1 environment, 2 invocations"}
        assert "per tenant" in driver.find_element(By.CSS_SELECTOR, f"{row} .tag").text
    finally:
        driver.quit()
