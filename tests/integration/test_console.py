"""The local console (http://127.0.0.1:3001/_local/) in a real browser: headless Chromium shows every
function of the template, an invocation this test makes (with its log lines), a failed asynchronous
event on the on-failure queue that its redrive button runs again, and a schedule its fire-now button
fires. The screenshot goes to tests/artifacts/console.png."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from lambda_local.providers import load
from stack import LAMBDA_ENDPOINT, ROOT
from tests.integration.test_weather_browser import start_chromium

pytestmark = pytest.mark.integration

TEMPLATE = load()
PAGE = f"{LAMBDA_ENDPOINT}/_local/"
SCREENSHOT = ROOT / "tests" / "artifacts" / "console.png"
WAIT_S = 30


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = start_chromium()
    driver.get(PAGE)
    yield driver
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOT))
    driver.quit()


def invoke(function: str, event: dict[str, Any], invocation_type: str = "RequestResponse") -> str:
    request = urllib.request.Request(
        f"{LAMBDA_ENDPOINT}/2015-03-31/functions/{function}/invocations",
        data=json.dumps(event).encode(),
        method="POST",
        headers={"X-Amz-Invocation-Type": invocation_type},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()
        return str(response.headers["x-amzn-RequestId"])


def until(browser: WebDriver, css: str, what: str, timeout: float = WAIT_S) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.25).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, css), f"the page never showed {what} ({css})"
    )


def shows(browser: WebDriver, css: str, text: str, timeout: float = WAIT_S) -> None:
    """Wait until an element of `css` holds `text` (found anew on every try: the page redraws every second)."""

    def holds(b: WebDriver) -> bool:
        try:
            return any(text in e.text for e in b.find_elements(By.CSS_SELECTOR, css))
        except StaleElementReferenceException:
            return False

    WebDriverWait(browser, timeout, poll_frequency=0.25).until(holds, f"the page never showed {text!r} in {css}")


def click(browser: WebDriver, css: str, what: str) -> None:
    """Click the element `css` selects, as it is now (the page redraws every second)."""
    until(browser, css, what)
    browser.execute_script("document.querySelector(arguments[0]).click()", css)


def expand(browser: WebDriver, function: str) -> None:
    details = f'[data-function="{function}"] details'
    until(browser, details, f"{function}'s recent invocations")
    if not browser.execute_script("return document.querySelector(arguments[0]).open", details):
        click(browser, details + " summary", f"{function}'s recent invocations")


def test_the_page_lists_every_function_of_the_template(browser: WebDriver) -> None:
    until(browser, "#functions [data-function]", "the functions")
    # Read in one script: the page re-renders every second, and an element found before may be gone.
    shown = set(
        browser.execute_script(
            "return [...document.querySelectorAll('#functions [data-function]')].map(e => e.dataset.function)"
        )
    )
    assert shown == {fn.lambda_name for fn in TEMPLATE.functions}
    assert browser.find_elements(By.CSS_SELECTOR, "#schedules tr[data-rule]")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#routes tbody tr")) == len(TEMPLATE.routes)


def test_an_invocation_shows_up_with_its_log_lines(browser: WebDriver) -> None:
    event = json.loads((ROOT / "events" / "weather-api" / "http-api-city.json").read_text())
    request_id = invoke("weatherApi", event)
    expand(browser, "weatherApi")
    click(browser, f'tr[data-request-id="{request_id}"] button', "the invocation's log button")
    shows(browser, f'tr[data-request-id="{request_id}"] pre', f"START RequestId: {request_id}")


def test_a_failed_event_is_shown_and_its_redrive_runs_it_again(browser: WebDriver) -> None:
    request_id = invoke("salesAnalysisReport", {"date": "not-a-date", "marker": time.time_ns()}, "Event")
    shows(browser, "#failed tr[data-message-id]", request_id, timeout=60)
    shows(browser, "#failed tr[data-message-id]", "InvalidEventError")
    message_id = browser.execute_script(
        "return [...document.querySelectorAll('#failed tr[data-message-id]')]"
        ".find(r => r.textContent.includes(arguments[0])).dataset.messageId",
        request_id,
    )
    click(browser, f'#failed tr[data-message-id="{message_id}"] button.redrive', "the redrive button")

    def redriven(b: WebDriver) -> bool:
        state = json.loads(urllib.request.urlopen(f"{LAMBDA_ENDPOINT}/_local/console/state", timeout=10).read())
        report = next(f for f in state["functions"] if f["function"] == "salesAnalysisReport")
        return any(d["source"] == "redrive" for d in report["recent"])

    WebDriverWait(browser, WAIT_S, poll_frequency=0.25).until(redriven, "the redrive never ran the event again")
    expand(browser, "salesAnalysisReport")
    shows(browser, '[data-function="salesAnalysisReport"] details', "redrive")


def test_fire_now_fires_the_schedule(browser: WebDriver) -> None:
    (schedule,) = [s for s in TEMPLATE.schedules if s.function == "salesAnalysisReport"]
    click(browser, f'tr[data-rule="{schedule.rule}"] button.fire', "the fire-now button")
    expand(browser, "salesAnalysisReport")
    shows(browser, '[data-function="salesAnalysisReport"] details', f"schedule:{schedule.rule}", timeout=60)
