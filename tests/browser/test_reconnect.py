"""Reload and network loss mid-stream: the answer is rebuilt from the channel, nothing lost or doubled."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import (
    answers,
    message_record,
    screenshot,
    send,
    wait_connected,
    wait_run,
    wait_streaming_text,
)


def test_reload_mid_stream_ends_with_exactly_the_servers_text(alice):
    page = alice.open(alice.new_conversation())
    send(page, "Explain reloading")
    before = wait_streaming_text(page, min_chars=60)

    page.reload()
    wait_connected(page)

    # The run is rebuilt from history: still active, with at least what was on screen before the reload.
    hydrated = wait_run(page, f"r.runId === {before['runId']!r}")
    assert hydrated["status"] == "active"
    assert hydrated["text"].startswith(before["text"])
    answer = page.locator(f'#transcript .message.assistant[data-run-id="{before["runId"]}"]')
    expect(answer.locator(".stop-run")).to_be_visible()
    screenshot(page, "reloaded-mid-stream")

    done = wait_run(page, f"r.runId === {before['runId']!r} && r.status === 'complete'")
    expect(answer).to_have_attribute("data-status", "complete")
    expect(answers(page)).to_have_count(1)
    expect(page.locator("#transcript .message.user")).to_have_count(1)
    stored = message_record(alice.server, done["answerCodecMessageId"])
    assert stored["status"] == "complete"
    assert done["text"] == stored["text"]


def run_text(page, run_id: str) -> str:
    return page.evaluate("(id) => window.chatSession.runs().find((r) => r.runId === id).text", run_id)


def test_offline_then_online_resumes_the_stream(alice):
    path = alice.new_conversation()
    page = alice.open(path)
    observer = alice.another_device().open(path)
    send(page, "Survive a network drop")
    before = wait_streaming_text(page, min_chars=20)

    alice.context.set_offline(True)
    expect(page.locator("#connection-status")).not_to_have_attribute("data-state", "connected")
    expect(page.locator("#connection-status .connection-label")).to_have_text("Reconnecting…")
    # The rest of the answer is published while this page is offline: the other device sees it end.
    wait_run(observer, f"r.runId === {before['runId']!r} && r.status === 'complete'")
    offline_text = run_text(page, before["runId"])
    screenshot(page, "offline")
    alice.context.set_offline(False)

    expect(page.locator("#connection-status")).to_have_attribute("data-state", "connected")
    done = wait_run(page, f"r.runId === {before['runId']!r} && r.status === 'complete'")
    assert done["text"].startswith(offline_text)
    assert len(done["text"]) > len(offline_text)
    stored = message_record(alice.server, done["answerCodecMessageId"])
    assert done["text"] == stored["text"]
    expect(answers(page)).to_have_count(1)
    final = page.locator(f"#message-{done['answerCodecMessageId']}")
    expect(final).to_have_attribute("data-status", "complete")
