"""Sending a message and watching the answer stream in, then settle into the server's rendering."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import answers, message_record, screenshot, send, wait_run, wait_streaming_text


def test_answer_streams_then_server_rendering_is_swapped_in(alice):
    page = alice.open(alice.new_conversation())
    send(page, "How do I write a good test?")

    question = page.locator("#transcript .message.user")
    expect(question).to_have_count(1)
    expect(question).to_contain_text("How do I write a good test?")
    expect(page.locator("#composer-input")).to_have_value("")

    streaming = wait_streaming_text(page, min_chars=40)
    answer = answers(page)
    expect(answer).to_have_count(1)
    expect(answer).to_have_class("message assistant status-streaming")
    expect(answer.locator(".stop-run")).to_be_visible()
    expect(page.locator("#stop-all")).to_be_visible()
    screenshot(page, "streaming")

    done = wait_run(page, f"r.runId === {streaming['runId']!r} && r.status === 'complete'")
    final = page.locator(f"#message-{done['answerCodecMessageId']}")
    expect(final).to_have_attribute("data-status", "complete")
    expect(final.locator("h2")).to_be_visible()  # markdown rendered by the server
    expect(final.locator(".copy-code")).to_be_visible()
    expect(answers(page)).to_have_count(1)
    expect(page.locator("#stop-all")).to_be_hidden()

    stored = message_record(alice.server, done["answerCodecMessageId"])
    assert stored["status"] == "complete"
    assert stored["text"] == done["text"]
    screenshot(page, "complete")


def test_a_failed_answer_shows_the_error_and_its_message(alice):
    page = alice.open(alice.new_conversation())
    send(page, "Fail please [demo-error after=5 code=50200]")

    ended = wait_run(page, "r.status === 'error'")
    assert ended["error"]["message"]
    answer = page.locator(f'#transcript .message.assistant[data-run-id="{ended["runId"]}"]')
    expect(answer.locator(".badge.error")).to_have_text("error")
    expect(answer.locator(".run-error")).to_contain_text(ended["error"]["message"])
    expect(answer.locator(".retry-run")).to_be_visible()
    expect(answer.locator(".badge.stopped")).to_have_count(0)
    expect(answer.locator(".stop-run")).to_have_count(0)
    assert message_record(alice.server, ended["answerCodecMessageId"])["run_status"] == "error"
    expect(answer).not_to_have_attribute("data-live", "true")  # the server's rendering was swapped in
    screenshot(page, "error")
