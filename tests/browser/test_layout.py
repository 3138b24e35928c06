"""The page never scrolls sideways: long code lines and wide tables scroll inside their message."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot, send, wait_connected, wait_run

WIDTHS = [375, 768, 1024, 1440]
LONG_LINE = "x = " + " + ".join(f"value_number_{n}" for n in range(30))
COLUMNS = range(16)
WIDE_TABLE = "\n".join(
    [
        "| " + " | ".join(f"column {n}" for n in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        "| " + " | ".join(f"cell{n}" for n in COLUMNS) + " |",
    ]
)
MESSAGE = f"Lay this out:\n\n```python\n{LONG_LINE}\n```\n\n{WIDE_TABLE}\n"


def page_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def assert_fits(page: Page, width: int) -> None:
    assert page_width(page) <= width, f"the page is {page_width(page)} px wide in a {width} px window"
    expect(page.locator("#send-button")).to_be_in_viewport()
    expect(page.locator("#composer-input")).to_be_in_viewport()
    box = page.locator("#send-button").bounding_box()
    assert box["x"] + box["width"] <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_long_code_and_wide_tables_never_widen_the_page(alice, width):
    page = alice.context.new_page()
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(alice.server.url(alice.new_conversation()))
    wait_connected(page)
    send(page, MESSAGE)
    question = page.locator("#transcript .message.user")
    expect(question.locator("pre")).to_be_visible()  # rendered live, before any reload
    expect(question.locator("table")).to_be_visible()
    wait_run(page, "r.status === 'active' && r.text.length > 200")
    assert_fits(page, width)
    wait_run(page, "r.status === 'complete'")
    expect(page.locator("#transcript .message.assistant .copy-code")).to_be_visible()
    assert_fits(page, width)
    # The code block scrolls on its own instead.
    pre = question.locator("pre")
    assert pre.evaluate("(el) => el.scrollWidth > el.clientWidth")

    page.reload()
    wait_connected(page)
    assert_fits(page, width)
    screenshot(page, f"layout-{width}")
