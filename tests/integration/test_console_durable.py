"""The console's durable executions in a real browser (headless Chromium), on a second plane serving the
durable probe template (tests/support/durable): the console lists an execution waiting for a callback,
its execution view draws the history as a timeline, and the view's buttons act as Lambda's API does:
"succeed callback" closes the execution SUCCEEDED with the result typed in, "resume wait now" ends a wait
of an hour, "fail callback" fails the execution with the error typed in, "stop execution" stops one;
Lambda's error for a callback of a closed execution is shown in the page; a history of more than one
page is drawn whole. The screenshot (an execution
whose wait was resumed, waiting for its callback) goes to tests/artifacts/execution.png
(EXECUTION_SCREENSHOT to move it). The probe plane needs no AWS resource."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from lambda_local.settings import ROOT
from tests.integration.test_weather_browser import start_chromium
from tests.support.probe_plane import INVOKE_PORT, ProbePlane, durable_plane, lambda_client

pytestmark = pytest.mark.integration
ENDPOINT = f"http://127.0.0.1:{INVOKE_PORT}"
SCREENSHOT = Path(os.environ.get("EXECUTION_SCREENSHOT", ROOT / "tests" / "artifacts" / "execution.png"))
WAIT_S = 30


@pytest.fixture(scope="module", autouse=True)
def running_stack() -> None:
    """The probe plane alone serves these tests (the conftest's stack is not needed)."""


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    yield from durable_plane(tmp_path_factory.mktemp("console-durable-plane"))


@pytest.fixture(scope="module")
def lam() -> Any:
    return lambda_client()


@pytest.fixture(scope="module")
def browser(plane: ProbePlane) -> Iterator[WebDriver]:
    driver = start_chromium()
    yield driver
    driver.quit()


def start(lam: Any, event: dict[str, Any]) -> str:
    answer = lam.invoke(
        FunctionName="durable-long:$LATEST",
        InvocationType="Event",
        DurableExecutionName=f"console-{time.time_ns()}",
        Payload=json.dumps(event).encode(),
    )
    return str(answer["DurableExecutionArn"])


def shows(browser: WebDriver, css: str, text: str = "", timeout: float = WAIT_S) -> None:
    """Wait until an element of `css` holds `text` (found anew on every try: the page redraws every second)."""

    def holds(b: WebDriver) -> bool:
        try:
            return any(text in e.text for e in b.find_elements(By.CSS_SELECTOR, css))
        except StaleElementReferenceException:
            return False

    WebDriverWait(browser, timeout, poll_frequency=0.2).until(holds, f"the page never showed {text!r} in {css}")


def click(browser: WebDriver, css: str) -> None:
    shows(browser, css)
    browser.execute_script("document.querySelector(arguments[0]).click()", css)


def type_into(browser: WebDriver, css: str, text: str) -> None:
    shows(browser, css)
    browser.find_element(By.CSS_SELECTOR, css).send_keys(text)


def open_execution(browser: WebDriver, arn: str) -> None:
    browser.get(f"{ENDPOINT}/_local/console/execution?arn={quote(arn, safe='')}")


def event_types(browser: WebDriver) -> list[str]:
    return list(browser.execute_script("return [...document.querySelectorAll('.event')].map(e => e.dataset.eventType)"))


def test_the_console_lists_an_execution_waiting_for_a_callback_and_succeed_closes_it(
    browser: WebDriver, lam: Any
) -> None:
    arn = start(lam, {"steps": ["reserve"], "callback": True})
    browser.get(f"{ENDPOINT}/_local/")
    row = f'[data-durable-function="durable-long"] tr[data-arn="{arn}"]'
    shows(browser, f"{row} [data-kind=callback]", "callback approval")
    shows(browser, f"{row} td.status", "RUNNING")
    click(browser, f"{row} a.execution")  # the execution view

    shows(browser, "#status", "RUNNING")
    shows(browser, ".pending[data-kind=callback]", "callback approval")
    assert event_types(browser)[:3] == ["ExecutionStarted", "StepStarted", "StepSucceeded"]
    type_into(browser, ".pending[data-kind=callback] textarea.result", '{"delivery_date": "2026-03-02"}')
    click(browser, ".pending[data-kind=callback] button.succeed")
    shows(browser, "#status", "SUCCEEDED")
    shows(browser, "#action", "succeed callback: done")
    assert {"CallbackSucceeded", "ExecutionSucceeded"} <= set(event_types(browser))
    assert json.loads(lam.get_durable_execution(DurableExecutionArn=arn)["Result"])["approval"] == (
        '{"delivery_date": "2026-03-02"}'  # as typed: the probe's callback passes its result on as sent
    )
    assert (
        not browser.find_elements(By.CSS_SELECTOR, ".pending")
        and not browser.find_element(By.ID, "stop").is_displayed()
    )

    # Lambda's answer to a callback of a closed execution, said in the page (as a stale form would send it).
    (callback,) = [
        e["CallbackStartedDetails"]["CallbackId"]
        for e in lam.get_durable_execution_history(DurableExecutionArn=arn)["Events"]
        if e["EventType"] == "CallbackStarted"
    ]
    browser.execute_script(
        "act('succeed callback', `/2025-12-01/durable-execution-callbacks/${encodeURIComponent(arguments[0])}/succeed`,"
        " '\"again\"')",
        callback,
    )
    shows(browser, "#action.bad", "succeed callback: ResourceNotFoundException: ")
    shows(browser, "#action.bad", "the callback is closed")

    browser.get(f"{ENDPOINT}/_local/")
    shows(browser, f"{row} td.status", "SUCCEEDED")


def test_resume_wait_now_fail_callback_and_stop_act_on_the_execution(browser: WebDriver, lam: Any) -> None:
    arn = start(lam, {"steps": ["reserve", "charge"], "wait_s": 3600, "callback": True})
    open_execution(browser, arn)
    shows(browser, ".pending[data-kind=wait]", "wait pause")
    click(browser, ".pending[data-kind=wait] button.resume")
    shows(browser, ".pending[data-kind=callback]", "callback approval")  # the hour's wait is over: the callback
    assert "WaitSucceeded" in event_types(browser)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(1280, 1300)  # the whole view: summary, what it waits for, the timeline
    browser.save_screenshot(str(SCREENSHOT))
    browser.set_window_size(1200, 900)

    type_into(browser, ".pending[data-kind=callback] input.error-type", "Declined")
    type_into(browser, ".pending[data-kind=callback] input.error-message", "out of stock")
    click(browser, ".pending[data-kind=callback] button.fail")
    shows(browser, "#status", "FAILED")
    shows(browser, "#error", "out of stock")
    assert lam.get_durable_execution(DurableExecutionArn=arn)["Error"]["ErrorMessage"] == "out of stock"

    stopped = start(lam, {"callback": True})
    open_execution(browser, stopped)
    shows(browser, ".pending[data-kind=callback]", "callback approval")
    click(browser, "#stop")
    shows(browser, "#status", "STOPPED")
    assert lam.get_durable_execution(DurableExecutionArn=stopped)["Status"] == "STOPPED"


def test_a_history_longer_than_one_page_is_drawn_whole(browser: WebDriver, lam: Any) -> None:
    arn = start(lam, {"steps": [f"s{i}" for i in range(60)]})
    open_execution(browser, arn)
    shows(browser, "#status", "SUCCEEDED", timeout=60)
    pages = lam.get_paginator("get_durable_execution_history").paginate(DurableExecutionArn=arn)
    events = [e["EventType"] for page in pages for e in page["Events"]]
    assert len(events) > 100  # Lambda's pages hold 100 events by default: the view follows NextMarker
    WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda b: event_types(b) == events, "the view never drew the whole history"
    )
    assert not browser.find_element(By.ID, "more").is_displayed()
