"""Keyboard and small screens: the composer is focused on open and reached by Tab before the messages'
controls, every control shows a focus ring, and the sidebar folds away on a phone."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, send, wait_connected, wait_run

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    id: el.id, cls: String(el.className), tag: el.tagName, text: (el.textContent || '').trim().slice(0, 30),
    ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
  };
}"""
TAB_LIMIT = 40


def test_composer_comes_first_and_every_control_shows_focus(alice):
    path = alice.new_conversation()
    page = alice.open(path)
    send(page, "Something with code")
    wait_run(page, "r.status === 'complete'")
    expect(page.locator("#transcript .copy-code")).to_be_visible()

    page.reload()
    wait_connected(page)
    expect(page.locator("#composer-input")).to_be_focused()  # ready to type on open

    page.locator(".skip-link").focus()  # start from the top of the page
    seen = []
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        seen.append(focused)
        if focused["id"] == "composer-input":
            break
    assert seen[-1]["id"] == "composer-input", seen
    assert not any("copy" in item["cls"] for item in seen), "a Copy button came before the composer"
    for _ in range(6):  # on into the transcript's controls
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUSED))
    assert any("copy" in item["cls"] for item in seen)
    unringed = [item for item in seen if item["tag"] != "BODY" and not item["ring"]]
    assert unringed == [], unringed

    page.locator("#transcript .copy-answer").focus()
    screenshot(page, "focus-ring")


def test_the_sidebar_folds_away_on_a_phone(alice):
    page = alice.context.new_page()
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(alice.server.url(alice.new_conversation()))
    wait_connected(page)
    listing = page.locator("#conversation-list")
    toggle = page.get_by_role("button", name="Conversations")
    expect(listing).to_be_hidden()
    expect(page.locator("#composer-input")).to_be_in_viewport()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    toggle.click()
    expect(listing).to_be_visible()
    expect(page.locator("#search-input")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    screenshot(page, "phone-sidebar-open")
    page.keyboard.press("Escape")
    expect(listing).to_be_hidden()
    expect(toggle).to_be_focused()
