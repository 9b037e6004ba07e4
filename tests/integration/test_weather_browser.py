"""The weather page in a real browser: headless Chromium loads the site from the local S3 endpoint, asks the
weather API (local API Gateway) for a city of the data set and for an unknown one, and shows the answers.

Needs Debian's `chromium` and `chromium-driver` and the `selenium` package. The screenshot of the answered
page (or of the failing state) goes to tests/artifacts/weather.png.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from lambda_local.providers import load
from stack import AWS_ENDPOINT, ROOT, moto

pytestmark = pytest.mark.integration

NAMES = load().names
SITE_URL = f"{AWS_ENDPOINT}/{NAMES['WeatherSiteBucket']}/index.html"
DATA_BUCKET = NAMES["WeatherDataBucket"]
DATA_KEY = "observations/latest.json"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SCREENSHOT = ROOT / "tests" / "artifacts" / "weather.png"
WAIT_SECONDS = 30  # the first call may cold-start the function
CITY, TYPED = "Zürich", "zurich"  # typed without accent or capital: the API folds both
UNKNOWN = "Atlantis"


def start_chromium() -> WebDriver:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} missing: apt-get install chromium chromium-driver")
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console errors (CORS...) on failure
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


@pytest.fixture(scope="module")
def browser() -> Any:
    driver = start_chromium()
    yield driver
    driver.quit()


def data_set() -> dict[str, Any]:
    try:
        body = moto.client("s3").get_object(Bucket=DATA_BUCKET, Key=DATA_KEY)["Body"].read()
    except Exception as exc:
        pytest.fail(f"no weather data set at s3://{DATA_BUCKET}/{DATA_KEY} (python -m tools.gen_weather): {exc}")
    return json.loads(body)


def text(driver: WebDriver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def outcome(driver: WebDriver) -> tuple[str, str] | None:
    """("error", message) or ("temperature", text) once the page shows an answer."""
    if driver.find_element(By.ID, "error").is_displayed():
        return "error", text(driver, "error")
    if driver.find_element(By.ID, "report").is_displayed() and text(driver, "temperature"):
        return "temperature", text(driver, "temperature")
    return None


def ask(driver: WebDriver, city: str) -> None:
    field = driver.find_element(By.ID, "city")
    field.clear()
    field.send_keys(city)
    button = driver.find_element(By.ID, "get-weather")
    assert button.text == "Get weather"
    button.click()


def console(driver: WebDriver) -> str:
    return "\n".join(entry["message"] for entry in driver.get_log("browser"))


def test_weather_page_shows_a_city_and_the_api_error(browser: WebDriver) -> None:
    station = next(s for s in data_set()["stations"] if s["city"] == CITY)
    observation = station["observation"]
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    try:
        browser.get(SITE_URL)
        assert browser.title == "Local weather", f"{SITE_URL} did not render the page (served as text/html?)"
        assert browser.find_element(By.CSS_SELECTOR, "label[for=city]").text == "City"
        assert browser.find_element(By.ID, "result").get_attribute("aria-live") == "polite"

        ask(browser, TYPED)
        shown = WebDriverWait(browser, WAIT_SECONDS).until(outcome, f"no answer for {TYPED} on the page")
        assert shown == ("temperature", f"{observation['temperature_c']:.1f} °C"), console(browser)
        assert text(browser, "place") == f"{CITY}, {station['country']}"
        assert text(browser, "humidity") == f"{round(observation['humidity_pct'])} %"
        assert text(browser, "wind") == f"{observation['wind_kph']:.1f} km/h"
        assert text(browser, "condition").lower() == observation["condition"]
        assert not browser.find_element(By.ID, "error").is_displayed()
        browser.save_screenshot(str(SCREENSHOT))

        ask(browser, UNKNOWN)
        WebDriverWait(browser, WAIT_SECONDS).until(
            lambda driver: driver.find_element(By.ID, "error").is_displayed(), f"no error shown for {UNKNOWN}"
        )
        assert text(browser, "error") == f"no observations for {UNKNOWN}", console(browser)
        assert not browser.find_element(By.ID, "report").is_displayed()
    except BaseException:
        browser.save_screenshot(str(SCREENSHOT))  # the failing state instead
        raise
