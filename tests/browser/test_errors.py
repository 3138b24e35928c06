"""When things go wrong the page says what happened and what to do next, and never drops what was typed."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import answers, screenshot, send, wait_connected, wait_run


def test_a_failed_answer_shows_its_message_and_retry_sends_the_question_again(alice):
    path = alice.new_conversation()
    page = alice.open(path)
    send(page, "Fail please [demo-error after=3]")
    failed = wait_run(page, "r.status === 'error'")
    answer = page.locator(f'#transcript .message.assistant[data-run-id="{failed["runId"]}"]')
    expect(answer.locator(".run-error")).to_contain_text("The demo model failed on request, after 3 tokens.")
    expect(answer).not_to_have_attribute("data-live", "true")  # the server's rendering
    screenshot(page, "error-retry")

    page.reload()  # a failed answer stays an error, never "stopped"
    wait_connected(page)
    expect(answer).to_have_attribute("data-status", "error")
    expect(answer.locator(".badge.error")).to_have_text("error")
    expect(answer.locator(".badge.stopped")).to_have_count(0)
    expect(answer.locator(".run-error")).to_contain_text("after 3 tokens")

    answer.locator(".retry-run").click()
    expect(page.locator("#transcript .message.user")).to_have_count(2)
    expect(page.locator("#transcript .message.user").last).to_contain_text("Fail please")
    wait_run(page, f"r.runId !== {failed['runId']!r} && r.status === 'error'")
    expect(answers(page)).to_have_count(2)


def test_a_signed_out_user_is_told_so_and_keeps_the_typed_text(alice):
    path = alice.new_conversation()
    page = alice.open(path)
    alice.context.clear_cookies(name="sessionid")  # the session expired
    send(page, "Is anyone there?")

    error = page.locator("#composer-error")
    expect(error).to_contain_text("You were signed out")
    expect(error.get_by_role("link", name="log in again")).to_have_attribute(
        "href", f"/accounts/login/?next={path}"
    )
    expect(page.locator("#composer-input")).to_have_value("Is anyone there?")
    expect(error).not_to_contain_text("HTTP")
    screenshot(page, "signed-out")

    # Back after logging in: the text is still there.
    alice.context.add_cookies(
        [{"name": "sessionid", "value": alice.session_cookie, "url": alice.server.base_url}]
    )
    page.reload()
    wait_connected(page)
    expect(page.locator("#composer-input")).to_have_value("Is anyone there?")


def test_a_403_from_the_agent_reads_as_signed_out(alice):
    page = alice.open(alice.new_conversation())
    page.route("**/agent/invoke", lambda route: route.fulfill(status=403, body="<h1>Forbidden</h1>"))
    send(page, "Hello?")
    expect(page.locator("#composer-error")).to_contain_text("You were signed out")
    expect(page.locator("#composer-input")).to_have_value("Hello?")


def test_enter_before_the_page_is_connected_is_sent_once_it_is(alice):
    path = alice.new_conversation()
    page = alice.context.new_page()
    # Hold the token request so the session cannot connect until we let it.
    held = []
    page.route("**/ably/token*", lambda route: held.append(route))
    page.goto(alice.server.url(path))
    box = page.locator("#composer-input")
    expect(box).to_be_focused()
    box.fill("Sent early")
    box.press("Enter")
    expect(page.locator("#composer-note")).to_contain_text("as soon as")
    expect(page.locator("#transcript .message.user")).to_have_count(0)

    for route in held:
        route.continue_()
    page.unroute("**/ably/token*")
    wait_connected(page)
    expect(page.locator("#transcript .message.user")).to_contain_text("Sent early")
    expect(page.locator("#composer-note")).to_be_hidden()
    wait_run(page, "r.status === 'active' || r.status === 'complete'")
