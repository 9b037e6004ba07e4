"""One event's whole path as one trace, on the running stack: an upload to the photo bucket reaches
image-resize and image-labels through SNS, and the plane's spans (the notification received, each
event queued, each invocation) and the functions' own (their handler and AWS calls, exported over
OTLP/HTTP) are one tree; a schedule's firing of the sales report, its Invoke of the extractor and the
extractor's invocation are one trace too. `make trace` prints it; the console's invocation rows link to
it, and headless Chromium finds both image functions' bars in its waterfall (a screenshot goes to
tests/artifacts/waterfall.png, or where TRACE_SCREENSHOT says)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from stack import LAMBDA_ENDPOINT, ROOT, moto
from tests.integration.conftest import TEMPLATE
from tests.integration.test_weather_browser import start_chromium
from tools.imagegen import jpeg, photo

pytestmark = pytest.mark.integration

UPLOADS = TEMPLATE.names["UploadsBucket"]
RESIZE, LABELS = TEMPLATE.function("imageResize"), TEMPLATE.function("imageLabels")
REPORT, EXTRACTOR = TEMPLATE.function("salesAnalysisReport"), TEMPLATE.function("salesAnalysisReportDataExtractor")
RULE = next(s.rule for s in TEMPLATE.schedules if s.function == REPORT.lambda_name)
PLANE = "lambda-local"
SCREENSHOT = Path(os.environ.get("TRACE_SCREENSHOT", ROOT / "tests" / "artifacts" / "waterfall.png"))
WAIT_S = 60


def get(path: str) -> Any:
    with urllib.request.urlopen(f"{LAMBDA_ENDPOINT}{path}", timeout=30) as response:
        return json.loads(response.read())


def trace_of(name: str) -> dict[str, Any] | None:
    try:
        return get(f"/_local/traces/{name}")  # type: ignore[no-any-return]
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def until(found: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := found():
            return value
        time.sleep(0.25)
    recent = [(t["root"]["name"], t["services"], t["spans"]) for t in get("/_local/traces?limit=10")["traces"]]
    pytest.fail(f"never saw {what} within {timeout:.0f} s; the recent traces: {recent}")


def by_id(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {span["span_id"]: span for span in trace["spans"]}


def ancestors(trace: dict[str, Any], span: dict[str, Any]) -> list[dict[str, Any]]:
    spans, chain = by_id(trace), []
    while span["parent_id"] in spans:
        span = spans[span["parent_id"]]
        chain.append(span)
    return chain


def invocation(trace: dict[str, Any], function: str) -> dict[str, Any] | None:
    return next((s for s in trace["spans"] if s["service"] == PLANE and s["name"] == f"invoke {function}"), None)


def own_spans(trace: dict[str, Any], function: str) -> list[dict[str, Any]]:
    return [span for span in trace["spans"] if span["service"] == function]


def complete(trace: dict[str, Any] | None, functions: tuple[str, ...]) -> bool:
    """Both the plane's invocation span and the function's own handler span of each function are in."""
    return trace is not None and all(
        invocation(trace, name) is not None and any(s["kind"] == "server" for s in own_spans(trace, name))
        for name in functions
    )


@pytest.fixture(scope="module")
def upload_trace() -> dict[str, Any]:
    """The trace of one upload, once both image functions' spans are in it."""
    key = f"traces/{uuid.uuid4().hex[:10]}.jpg"
    moto.client("s3").put_object(Bucket=UPLOADS, Key=key, Body=jpeg(photo(320, 240)), ContentType="image/jpeg")

    def found() -> dict[str, Any] | None:
        listed = get("/_local/traces?limit=100")["traces"]
        trace_id = next((t["trace_id"] for t in listed if key in t["root"]["name"]), None)
        trace = trace_of(trace_id) if trace_id else None
        return trace if complete(trace, (RESIZE.lambda_name, LABELS.lambda_name)) else None

    trace: dict[str, Any] = until(found, f"the trace of {key} with both image functions' spans")
    trace["key"] = key
    return trace


def test_an_upload_is_one_trace_through_both_image_functions(upload_trace: dict[str, Any]) -> None:
    trace, key = upload_trace, upload_trace["key"]
    (root,) = [span for span in trace["spans"] if span["depth"] == 0]  # one root: the notification, received
    assert root["service"] == PLANE and root["name"].startswith(f"S3 ObjectCreated:Put {UPLOADS}/{key} → SNS ")
    assert root["attributes"]["aws.s3.key"] == key
    for fn in (RESIZE, LABELS):
        invoked = invocation(trace, fn.lambda_name)
        assert invoked is not None and invoked["parent_id"] == root["span_id"] and invoked["status"] == "ok"
        queued = next(s for s in trace["spans"] if s["name"] == f"queued {fn.lambda_name}")
        assert queued["parent_id"] == root["span_id"]  # SNS invokes asynchronously: the event waited first
        # The function's own spans hang under its invocation: its handler's span, and its AWS calls under that.
        own = own_spans(trace, fn.lambda_name)
        handler = next(s for s in own if s["kind"] == "server")
        assert handler["parent_id"] == invoked["span_id"]
        assert handler["attributes"]["faas.invocation_id"] == invoked["attributes"]["faas.invocation_id"]
        calls = [s for s in own if s["kind"] == "client"]
        assert calls and all(handler in ancestors(trace, call) for call in calls), f"{fn.lambda_name}'s AWS calls"
    assert set(trace["services"]) >= {PLANE, RESIZE.lambda_name, LABELS.lambda_name}


def test_make_trace_prints_the_upload_as_a_tree(upload_trace: dict[str, Any]) -> None:
    request_id = invocation(upload_trace, RESIZE.lambda_name)["attributes"]["lambda_local.request_id"]  # type: ignore[index]
    printed = subprocess.run(
        [sys.executable, "-m", "tools.stack", "trace", request_id], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    lines = printed.splitlines()
    assert lines[0].startswith(f"trace {upload_trace['trace_id']}")
    assert lines[1].startswith("  S3 ObjectCreated:Put") and " ms" in lines[1]
    assert any(line.startswith(f"    invoke {RESIZE.lambda_name}") for line in lines)
    assert any(line.startswith(f"    invoke {LABELS.lambda_name}") for line in lines)


def test_a_schedule_the_report_and_its_extractor_are_one_trace() -> None:
    request = urllib.request.Request(
        f"{LAMBDA_ENDPOINT}/_local/schedules/{RULE}/fire",
        data=json.dumps({"at": "2026-11-20T20:00:00Z"}).encode(),  # the seeded day
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        fired = json.loads(response.read())
    assert fired["outcome"] == "ok", fired
    functions = (REPORT.lambda_name, EXTRACTOR.lambda_name)
    trace = until(lambda: (t := trace_of(fired["requestId"])) and complete(t, functions) and t, "the report's trace")
    (root,) = [span for span in trace["spans"] if span["depth"] == 0]
    assert root["name"] == f"Schedule {RULE}" and root["service"] == PLANE
    report = invocation(trace, REPORT.lambda_name)
    assert report is not None and report["parent_id"] == root["span_id"]
    # The report's Invoke reached the Invoke API with its trace header: the call's span continues it, as
    # a child of the report's own span of that call, and the extractor's invocation is under it.
    call = next(s for s in trace["spans"] if s["service"] == PLANE and s["name"] == f"Invoke {EXTRACTOR.lambda_name}")
    assert by_id(trace)[call["parent_id"]]["service"] == REPORT.lambda_name
    extractor = invocation(trace, EXTRACTOR.lambda_name)
    assert extractor is not None and extractor["parent_id"] == call["span_id"]
    assert report in ancestors(trace, extractor)


# --- the console -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = start_chromium()
    yield driver
    driver.quit()


def shown(browser: WebDriver, css: str, timeout: float = WAIT_S) -> list[Any]:
    def find(b: WebDriver) -> list[Any] | bool:
        try:
            return b.find_elements(By.CSS_SELECTOR, css) or False
        except StaleElementReferenceException:
            return False

    return WebDriverWait(browser, timeout, poll_frequency=0.25).until(find, f"the page never showed {css}")  # type: ignore[no-any-return]


def test_the_console_draws_the_upload_as_a_waterfall_across_both_functions(
    browser: WebDriver, upload_trace: dict[str, Any]
) -> None:
    browser.get(f"{LAMBDA_ENDPOINT}/_local/console/trace?id={upload_trace['trace_id']}")
    for fn in (RESIZE, LABELS):
        bars = shown(browser, f'.bar[data-service="{fn.lambda_name}"]')
        assert all(bar.size["width"] > 0 for bar in bars)
        assert shown(browser, f'.legend [data-legend="{fn.lambda_name}"]')
    assert browser.find_element(By.ID, "trace-id").text == upload_trace["trace_id"]
    labels = browser.execute_script("return [...document.querySelectorAll('.row .label')].map(e => e.textContent)")
    assert any(label.startswith("S3 ObjectCreated:Put") for label in labels)
    assert any(f"invoke {RESIZE.lambda_name}" in label for label in labels)
    # Bars start at their offset: the root's at the left edge, a function's handler further right.
    root_left = browser.execute_script("return document.querySelector('.row .bar').style.left")
    assert root_left == "0%"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))


def test_an_invocation_row_of_the_console_links_to_its_trace(browser: WebDriver, upload_trace: dict[str, Any]) -> None:
    browser.get(f"{LAMBDA_ENDPOINT}/_local/")
    request_id = invocation(upload_trace, LABELS.lambda_name)["attributes"]["lambda_local.request_id"]  # type: ignore[index]
    link = f'[data-function="{LABELS.lambda_name}"] tr[data-request-id="{request_id}"] a.trace'
    shown(browser, link)
    href = browser.execute_script("return document.querySelector(arguments[0]).href", link)
    browser.get(href)
    shown(browser, f'.bar[data-service="{LABELS.lambda_name}"]')
    assert browser.find_element(By.ID, "trace-id").text == upload_trace["trace_id"]
