"""The page at / in a real browser: Debian's Chromium, headless, driven by Playwright.

Nothing is downloaded: Playwright launches /usr/bin/chromium (apt-get install chromium).
Set TONEGUARD_SCREENSHOT=path to keep the screenshot (the README's is made this way).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import lint
from test_serve_process import Server

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
DRAFT = ("Hi Priya,\n\nThank you for letting me know about the analyst role, and for the tour of the warehouse. "
         "I guess you found someone cheaper. Please keep me in mind if a similar role opens up.\n\nBest,\nJane")
REWRITE = "I was disappointed to hear the news, but I understand."


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no browser at {CHROMIUM}: apt-get install chromium chromium-driver to run the page's test")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the test extras)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = Server(cwd=tmp_path_factory.mktemp("page"))
    yield server
    server.stop()


def test_a_bitter_draft_is_marked_explained_rewritten_and_copied(browser, served, tmp_path):
    context = browser.new_context(viewport={"width": 1100, "height": 720})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served.url)
    page = context.new_page()
    page.goto(served.url)
    draft = page.get_by_label("Your draft")
    draft.press_sequentially(DRAFT, delay=2)  # typed, as a person would: checks are debounced
    summary = page.locator("#summary")
    summary.filter(has_text="1 thing to change").wait_for()
    mark = page.locator("#backdrop mark.error")
    assert mark.inner_text() == "I guess you found someone cheaper."

    box = mark.bounding_box()  # a click on the marked words opens the finding
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    finding = page.locator("#list li.open")
    finding.wait_for()
    assert "bitter" in finding.inner_text()
    assert finding.get_by_role("button").first.get_attribute("aria-expanded") == "true"
    shot = Path(os.environ.get("TONEGUARD_SCREENSHOT") or tmp_path / "page.png")
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    finding.get_by_role("button", name=f"Rewrite the sentence as “{REWRITE}”").click()  # as `check` words it
    summary.filter(has_text="Nothing to change").wait_for()
    letter = draft.input_value()
    assert letter == DRAFT.replace("I guess you found someone cheaper.", REWRITE)
    assert lint(letter).violations == ()
    assert page.locator("#backdrop mark").count() == 0

    page.get_by_role("button", name="Copy the letter").click()
    page.locator("#notice").filter(has_text="copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == letter
    context.close()


def test_the_page_is_usable_by_keyboard_and_screen_reader(browser, served):
    page = browser.new_page()
    page.goto(served.url)
    for label in ("Where you are in the exchange", "Sending to (optional)", "Your draft"):
        assert page.get_by_label(label).count() == 1, label
    assert page.locator("#summary").get_attribute("aria-live") == "polite"
    assert page.locator("#backdrop").get_attribute("aria-hidden") == "true"
    page.locator("#draft").evaluate(  # typed in without moving the focus, which starts at the top
        "(draft, text) => { draft.value = text; draft.dispatchEvent(new Event('input')); }",
        "Hi Priya,\n\nI REALLY wanted this job!! Why was I not selected?")
    page.locator("#list li").first.wait_for()
    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
    assert order == ["stage", "recipients", "draft", "copy", "finding-0"]
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus is visible
    page.keyboard.press("Enter")  # a finding opens from the keyboard, and its rewrites are buttons
    assert page.locator("#finding-0").get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.activeElement.id") == "finding-0"  # the focus stays where it was
    assert page.locator("#detail-0 .rewrites button").count() >= 1
    page.close()
