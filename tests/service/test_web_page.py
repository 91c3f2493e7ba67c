"""The web page in headless Chromium (Debian's): pick an image, see its text and confidences."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from word_images import render_word

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.is_file() or not Path(CHROMEDRIVER).is_file(),
        reason="Debian's chromium and chromium-driver are not installed",
    ),
]


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    # An explicit driver path: Selenium Manager must not try to download one.
    chrome = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield chrome
    finally:
        chrome.quit()


def test_page_reads_an_uploaded_image(driver: WebDriver, live_server: str, tmp_path: Path) -> None:
    image = tmp_path / "word.png"
    render_word("hello").save(image)
    expected = httpx.post(f"{live_server}/v1/recognize", files={"file": ("w.png", image.read_bytes())}).json()

    driver.get(f"{live_server}/")
    assert driver.title == "ocr-lstm"
    driver.find_element(By.ID, "file").send_keys(str(image))
    WebDriverWait(driver, 30).until(
        lambda d: d.find_element(By.ID, "confidence").text or d.find_element(By.ID, "error").text
    )
    assert driver.find_element(By.ID, "error").text == ""
    shown_text = driver.find_element(By.ID, "text").text
    assert shown_text == (expected["text"] or "(no text)")
    confidence = driver.find_element(By.ID, "confidence").text
    assert confidence == f"confidence {100 * expected['confidence']:.1f}%"
    chars = driver.find_elements(By.CSS_SELECTOR, "#chars .char")
    assert len(chars) == len(expected["chars"])


def test_page_shows_the_servers_error_for_a_non_image(
    driver: WebDriver, live_server: str, tmp_path: Path
) -> None:
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not an image at all")
    driver.get(f"{live_server}/")
    driver.find_element(By.ID, "file").send_keys(str(not_an_image))
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "error").text)
    assert driver.find_element(By.ID, "error").text.startswith("415:")
