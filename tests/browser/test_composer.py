"""The composer's keys and states, auto-scroll, and the page on a phone in dark mode."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, send, wait_connected, wait_run


def test_enter_sends_shift_enter_adds_a_line_and_send_is_only_enabled_with_text(alice):
    page = alice.open(alice.new_conversation())
    box, send_button = page.locator("#composer-input"), page.locator("#send-button")
    expect(send_button).to_be_disabled()
    box.fill("   ")
    expect(send_button).to_be_disabled()

    box.fill("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("first line\nsecond line")
    expect(page.locator("#transcript .message.user")).to_have_count(0)
    expect(send_button).to_be_enabled()

    box.press("Enter")
    expect(page.locator("#transcript .message.user .message-body")).to_have_text("first line\nsecond line")
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    expect(send_button).to_be_disabled()


def test_a_reader_who_scrolled_up_is_left_alone(alice):
    page = alice.open(alice.new_conversation())
    transcript = page.locator("#transcript")
    send(page, "Fill the screen")
    page.wait_for_function("(el) => el.scrollHeight > el.clientHeight + 100", arg=transcript.element_handle())
    transcript.evaluate("(el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    seen = wait_run(page, "r.status === 'active'")["text"]
    wait_run(page, f"r.status !== 'active' || r.text.length > {len(seen) + 40}")
    assert transcript.evaluate("(el) => el.scrollTop") == 0
    expect(page.locator("#jump-latest")).to_be_visible()

    page.locator("#jump-latest").click()
    expect(page.locator("#jump-latest")).to_be_hidden()
    assert transcript.evaluate("(el) => el.scrollHeight - el.scrollTop - el.clientHeight < 50")


def test_phone_sized_dark_page_keeps_the_composer_usable(alice):
    path = alice.new_conversation()
    page = alice.context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    page.goto(alice.server.url(path))
    wait_connected(page)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(22, 23, 27)"
    send(page, "Hello from a phone")
    wait_run(page, "r.status === 'active' && r.text.length > 80")
    page.locator("#composer-input").scroll_into_view_if_needed()
    expect(page.locator("#composer-input")).to_be_in_viewport()
    screenshot(page, "phone-dark")
