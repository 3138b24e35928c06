"""The pages work under their Content-Security-Policy: no violation while chatting, searching or renaming."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import send, wait_connected, wait_run

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.cspViolations.push(`${event.violatedDirective}: ${event.blockedURI}`);
});
"""


def watch(page: Page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.add_init_script(RECORD_VIOLATIONS)
    return messages


def violations(page: Page, console: list[str]) -> list[str]:
    seen = page.evaluate("window.cspViolations")
    return seen + [text for text in console if "Content Security Policy" in text]


def test_chatting_searching_and_renaming_raise_no_csp_violation(alice):
    path = alice.new_conversation()
    page = alice.context.new_page()
    console = watch(page)
    response = page.goto(alice.server.url(path))
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    wait_connected(page)
    send(page, "A table please:\n\n| left | right |\n|:---|---:|\n| a | b |")
    wait_run(page, "r.status === 'complete'")
    expect(page.locator("#transcript .message.assistant .copy-code")).to_be_visible()
    assert page.locator("#transcript .message.user td").last.evaluate(
        "(el) => getComputedStyle(el).textAlign"
    ) == ("right")
    assert violations(page, console) == []

    # Rename: a blank title shows its error; a good one updates the heading, the sidebar and the tab.
    page.get_by_role("link", name="Rename").click()
    title_input = page.locator("#title-block input[name='title']")
    title_input.fill("   ")
    title_input.press("Enter")
    expect(page.locator("#title-block .field-error")).to_be_visible()
    title_input = page.locator("#title-block input[name='title']")
    title_input.fill("Tables and such")
    title_input.press("Enter")
    expect(page.locator(".conversation-title")).to_have_text("Tables and such")
    expect(page).to_have_title("Tables and such · Durable AI Chat")
    expect(page.locator("#conversation-list a[aria-current='page']")).to_have_text("Tables and such")

    page.locator("#search-input").fill("tables")
    page.locator("#search-input").press("Enter")
    expect(page.locator("#search-results li")).to_have_count(1)
    page.goto(alice.server.url("/no-such-page/"))
    expect(page.get_by_role("heading", name="There is nothing here")).to_be_visible()
    assert violations(page, console) == []
