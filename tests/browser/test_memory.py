"""A stopped answer stays in the model's memory: the next prompt includes it (the demo model counts turns)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import send, wait_run, wait_streaming_text


def test_the_answer_after_a_stopped_one_knows_about_it(alice):
    page = alice.open(alice.new_conversation())
    send(page, "First question")
    wait_run(page, "r.status === 'complete'")

    send(page, "Second question, to be stopped")
    stopped = wait_streaming_text(page, min_chars=30)
    page.locator(f'.message.assistant[data-run-id="{stopped["runId"]}"] .stop-run').click()
    wait_run(page, f"r.runId === {stopped['runId']!r} && r.status === 'cancelled'")

    send(page, "Third question")
    third = wait_run(page, "r.status === 'complete' && r.text.includes('Third')")
    # The demo model says how many user messages its prompt held: all three, the stopped one included.
    assert "This is message 3 of our conversation" in third["text"]
    expect(page.locator(f"#message-{third['answerCodecMessageId']}")).to_contain_text("This is message 3")
