"""The web page in headless Chromium (Debian's): pick an image, see its text and confidences."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from word_images import render_photo, render_word

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402 (after importorskip, which skips without selenium)
from selenium.webdriver.common.by import By  # noqa: E402 (after importorskip, which skips without selenium)
from selenium.webdriver.common.keys import Keys  # noqa: E402 (after importorskip, which skips without selenium)
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402 (after importorskip, which skips without selenium)
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402 (after importorskip, which skips without selenium)

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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # for csp_violations
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
    driver.find_element(By.ID, "mode-word").click()
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
    assert driver.find_element(By.ID, "preview").is_displayed()
    assert csp_violations(driver) == []  # the page's script and style are its own files


def csp_violations(driver: WebDriver) -> list[str]:
    """What the browser refused to load or run under the page's Content-Security-Policy."""
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]


@pytest.mark.parametrize("mode", ["mode-word", "mode-photo"])
def test_page_shows_the_servers_error_for_a_non_image_and_no_image(
    driver: WebDriver, live_server: str, tmp_path: Path, mode: str
) -> None:
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not an image at all")
    driver.get(f"{live_server}/")
    driver.find_element(By.ID, mode).click()
    driver.find_element(By.ID, "file").send_keys(str(not_an_image))
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "error").text)
    assert driver.find_element(By.ID, "error").text.startswith("415:")
    assert not driver.find_element(By.ID, "preview").is_displayed()
    assert not driver.find_element(By.ID, "canvas").is_displayed()
    assert csp_violations(driver) == []


def test_a_word_the_browser_cannot_show_is_read_without_a_broken_image(
    driver: WebDriver, live_server: str, tmp_path: Path
) -> None:
    """The server reads TIFF, which Chromium cannot show: the text comes without a preview."""
    image = tmp_path / "word.tiff"
    render_word("hello").save(image)
    driver.get(f"{live_server}/")
    driver.find_element(By.ID, "mode-word").click()
    driver.find_element(By.ID, "file").send_keys(str(image))
    WebDriverWait(driver, 30).until(
        lambda d: d.find_element(By.ID, "confidence").text or d.find_element(By.ID, "error").text
    )
    assert driver.find_element(By.ID, "error").text == ""
    assert driver.find_element(By.ID, "confidence").text.startswith("confidence ")
    WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "preview").get_attribute("src") is None)
    assert not driver.find_element(By.ID, "preview").is_displayed()


def test_a_photo_the_browser_cannot_show_still_gets_its_text(
    driver: WebDriver, live_server: str, tmp_path: Path
) -> None:
    photo = tmp_path / "sign.tiff"
    Image.fromarray(render_photo([("OPEN 24 HOURS", (60, 60), 56)])[0]).save(photo)
    driver.get(f"{live_server}/")
    driver.find_element(By.ID, "file").send_keys(str(photo))
    WebDriverWait(driver, 30).until(
        lambda d: d.find_element(By.ID, "page-text").text or d.find_element(By.ID, "error").text
    )
    assert driver.find_element(By.ID, "error").text == ""
    assert "cannot show this type of image" in driver.find_element(By.ID, "status").text
    assert not driver.find_element(By.ID, "canvas").is_displayed()


def test_the_api_docs_render_from_the_server_alone(driver: WebDriver, live_server: str) -> None:
    """Swagger UI and ReDoc as a new user opens them: this browser reaches nothing but the server."""
    driver.get(f"{live_server}/docs")
    title = WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"))
    assert title[0].text.startswith("ocr-lstm")
    assert driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path[data-path='/v1/recognize']")
    assert csp_violations(driver) == []
    driver.get(f"{live_server}/redoc")
    heading = WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "h1"))
    assert heading[0].text.startswith("ocr-lstm")
    # ReDoc's sidebar asks its CDN for a logo, which the policy refuses; ReDoc then leaves it out.
    assert [v for v in csp_violations(driver) if "cdn.redoc.ly/redoc/logo-mini.svg" not in v] == []


def test_page_draws_the_words_of_an_uploaded_photo(driver: WebDriver, live_server: str, tmp_path: Path) -> None:
    """Photo mode (the default): the photo comes back with a box per word and the page's text.

    Saves a screenshot beside the test's files (``photo_mode.png``) for a person to look at."""
    photo = tmp_path / "sign.png"
    Image.fromarray(render_photo([("OPEN 24 HOURS", (60, 60), 56), ("NO PARKING", (300, 240), 40)])[0]).save(photo)
    expected = httpx.post(f"{live_server}/v1/ocr", files={"file": ("sign.png", photo.read_bytes())}).json()
    words = sum(len(line["words"]) for block in expected["blocks"] for line in block["lines"])

    driver.set_window_size(1100, 1000)
    driver.get(f"{live_server}/")
    assert driver.find_element(By.ID, "mode-photo").is_selected()
    driver.find_element(By.ID, "file").send_keys(str(photo))
    WebDriverWait(driver, 30).until(
        lambda d: d.find_element(By.ID, "page-text").text or d.find_element(By.ID, "error").text
    )
    assert driver.find_element(By.ID, "error").text == ""
    assert driver.find_element(By.ID, "page-text").text == (expected["text"] or "(no text found)")
    canvas = driver.find_element(By.ID, "canvas")
    assert canvas.get_attribute("data-words") == str(words) and words > 0
    assert canvas.get_attribute("width") == "800"
    # Pixels on the first word's outline differ from the photo: the boxes were drawn.
    x, y = (round(v) for v in expected["blocks"][0]["lines"][0]["words"][0]["polygon"][0])
    drawn = driver.execute_script(
        "const c = document.getElementById('canvas'); return Array.from(c.getContext('2d')"
        ".getImageData(arguments[0], arguments[1] + 2, 1, 1).data);", x, y,
    )
    original = Image.open(photo).convert("RGB").getpixel((x, y + 2))
    assert tuple(drawn[:3]) != original
    driver.save_screenshot(str(tmp_path / "photo_mode.png"))
    shutil.copy(tmp_path / "photo_mode.png", Path(tempfile.gettempdir()) / "ocr_lstm_photo_mode.png")


def test_explain_view_walks_the_word_column_by_column(driver: WebDriver, live_server: str, tmp_path: Path) -> None:
    """Word mode, then "explain": the pointer and the arrow keys move along the word, and the panel says
    per column what the model read there and what each of the four gates did.

    Saves a screenshot beside the test's files (``explain_view.png``) for a person to look at."""
    image = tmp_path / "word.png"
    render_word("hello", height=64).save(image)
    expected = httpx.post(
        f"{live_server}/v1/explain", params={"format": "json", "units": "false"},
        files={"file": ("w.png", image.read_bytes())},
    ).json()
    columns, forward = expected["columns"], expected["directions"]["forward"]

    driver.set_window_size(1000, 1300)
    driver.get(f"{live_server}/")
    assert not driver.find_element(By.ID, "explain-open").is_displayed()
    driver.find_element(By.ID, "mode-word").click()
    driver.find_element(By.ID, "file").send_keys(str(image))
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "explain-open").is_displayed())
    driver.find_element(By.ID, "explain-open").click()
    WebDriverWait(driver, 30).until(
        lambda d: d.find_element(By.ID, "explain-column").text.startswith("column ")
        or d.find_element(By.ID, "explain-error").text
    )
    assert driver.find_element(By.ID, "explain-error").text == ""
    canvas = driver.find_element(By.ID, "explain-canvas")
    width = canvas.size["width"]
    shown: dict[int, str] = {}
    for t in sorted({0, 1, len(columns) // 2, len(columns) - 1}):
        # The pointer over the middle of frame t, placed on the image by its x0 and x1 (Selenium's offsets
        # are from the element's centre).
        x = (columns[t]["x0"] + columns[t]["x1"]) / 2 * width / expected["image"]["width"]
        ActionChains(driver).move_to_element_with_offset(canvas, round(x - width / 2), 0).perform()
        WebDriverWait(driver, 5).until(
            lambda d, t=t: d.find_element(By.ID, "explain-column").text.startswith(f"column {t + 1} of ")
        )
        panel = driver.find_element(By.ID, "explain-panel").text
        char = columns[t]["char"]
        assert (f"reads “{char}” here" if char is not None else "reads the blank: no character here") in panel
        for gate in ("learn", "forget", "remember", "use"):
            assert driver.find_element(By.ID, f"gate-{gate}").text.startswith(gate)
        learn = driver.find_element(By.CSS_SELECTOR, "#gate-learn td").text
        assert f"ignore factor i_t {forward['ignore_mean'][t]:.2f}" in learn
        forget = driver.find_element(By.CSS_SELECTOR, "#gate-forget td").text
        assert f"keeps {round(100 * forward['forget_mean'][t])}% of the long-term memory" in forget
        shown[t] = panel
    assert len(set(shown.values())) == len(shown)  # the panel follows the pointer
    strip = driver.find_element(By.ID, "explain-strip")
    strip.send_keys(Keys.ARROW_LEFT)
    last = len(columns) - 1
    WebDriverWait(driver, 5).until(
        lambda d: d.find_element(By.ID, "explain-column").text.startswith(f"column {last} of ")
    )
    assert strip.get_attribute("aria-valuenow") == str(last)
    strip.send_keys(Keys.ARROW_RIGHT)
    assert driver.find_element(By.ID, "explain-column").text.startswith(f"column {last + 1} of ")
    ActionChains(driver).move_to_element_with_offset(canvas, round(-width / 2 + 2), 0).perform()  # back to the start
    strip.send_keys(Keys.ARROW_RIGHT)
    WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "explain-column").text.startswith("column 2 of "))
    assert csp_violations(driver) == []
    driver.save_screenshot(str(tmp_path / "explain_view.png"))
    shutil.copy(tmp_path / "explain_view.png", Path(tempfile.gettempdir()) / "ocr_lstm_explain_view.png")
