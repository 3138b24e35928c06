"""Stop: mid-stream, before the first token, from another tab, and one of two concurrent runs."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import answers, message_record, screenshot, send, wait_run, wait_streaming_text


def answer_of(page: Page, run: dict):
    return page.locator(f'#transcript .message.assistant[data-run-id="{run["runId"]}"]')


def wait_ended(page: Page, run_id: str, status: str) -> dict:
    return wait_run(page, f"r.runId === {run_id!r} && r.status === {status!r}")


def expect_stopped(page: Page, run: dict) -> None:
    answer = answer_of(page, run)
    expect(answer).to_have_attribute("data-status", "cancelled")
    expect(answer.locator(".badge.stopped")).to_have_text("stopped")
    expect(answer.locator(".stop-run")).to_have_count(0)


def test_stop_mid_stream_is_cancelled_in_both_tabs_and_in_the_database(alice):
    path = alice.new_conversation()
    first, second = alice.open(path), alice.open(path)
    send(first, "Tell me about stopping")
    run = wait_streaming_text(first, min_chars=30)
    wait_streaming_text(second, min_chars=30)

    answer_of(first, run).locator(".stop-run").click()

    ended = wait_ended(first, run["runId"], "cancelled")
    wait_ended(second, run["runId"], "cancelled")
    expect_stopped(first, ended)
    expect_stopped(second, ended)
    screenshot(first, "stopped")

    stored = message_record(alice.server, ended["answerCodecMessageId"])
    assert stored["status"] == stored["run_status"] == stored["end_reason"] == "cancelled"
    # The answer stops where the stream stopped: shorter than a full answer, and exactly what was published.
    assert 0 < len(stored["text"]) < 600
    assert stored["text"] == ended["text"]
    expect(answers(first)).to_have_count(1)
    expect(answers(second)).to_have_count(1)


def test_stop_before_the_first_token(alice):
    page = alice.open(alice.new_conversation())
    send(page, "Never mind")
    page.keyboard.press("Escape")

    ended = wait_run(page, "r.status === 'cancelled'")
    assert ended["text"] == ""
    expect_stopped(page, ended)
    expect(page.locator("#stop-all")).to_be_hidden()
    expect(page.locator("#send-button")).to_be_disabled()  # empty composer, not a stuck state
    page.locator("#composer-input").fill("Next question")
    expect(page.locator("#send-button")).to_be_enabled()


def test_a_second_tab_stops_a_run_the_first_tab_started(alice):
    path = alice.new_conversation()
    starter, stopper = alice.open(path), alice.open(path)
    send(starter, "Stop me from the other tab")
    run = wait_streaming_text(stopper, min_chars=20)
    expect(answer_of(stopper, run).locator(".stop-run")).to_be_visible()

    answer_of(stopper, run).locator(".stop-run").click()

    wait_ended(starter, run["runId"], "cancelled")
    ended = wait_ended(stopper, run["runId"], "cancelled")
    expect_stopped(starter, ended)
    expect_stopped(stopper, ended)
    assert message_record(alice.server, ended["answerCodecMessageId"])["end_reason"] == "cancelled"


def test_two_concurrent_runs_one_stopped_the_other_completes(alice):
    page = alice.open(alice.new_conversation())
    send(page, "First question")
    first = wait_run(page, "r.status === 'active'")
    send(page, "Second question")
    second = wait_run(page, f"r.status === 'active' && r.runId !== {first['runId']!r} && r.text.length > 10")
    expect(answers(page)).to_have_count(2)
    screenshot(page, "concurrent")

    answer_of(page, first).locator(".stop-run").click()

    stopped = wait_ended(page, first["runId"], "cancelled")
    expect_stopped(page, stopped)
    screenshot(page, "concurrent-one-stopped")
    completed = wait_ended(page, second["runId"], "complete")
    expect(answer_of(page, completed)).to_have_attribute("data-status", "complete")
    expect(answer_of(page, completed).locator(".badge")).to_have_count(0)
    # Each answer sits under its own question.
    order = page.eval_on_selector_all(
        "#transcript .message", "(els) => els.map((el) => el.dataset.runId || el.className)"
    )
    assert order == ["message user", first["runId"], "message user", second["runId"]]
    screenshot(page, "concurrent-settled")
    assert message_record(alice.server, completed["answerCodecMessageId"])["status"] == "complete"
