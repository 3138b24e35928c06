"""Conversations people can find again: a title from the first exchange, search, the home-page composer."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import (
    message_record,
    screenshot,
    send,
    wait_connected,
    wait_run,
    wait_streaming_text,
)

COMPLETION_CHECKS = 60


def test_the_first_question_typed_on_the_home_page_starts_a_titled_conversation(alice):
    page = alice.context.new_page()
    page.goto(alice.server.url("/"))
    expect(page.locator("#conversation-list a")).to_have_count(0)  # nothing to list yet
    box = page.locator("#home-input")
    expect(box).to_be_focused()
    box.fill("Explain quantum tunnelling simply please")
    box.press("Enter")

    page.wait_for_url("**/c/*/")
    wait_connected(page)
    expect(page.locator("#transcript .message.user")).to_contain_text(
        "Explain quantum tunnelling simply please"
    )
    wait_run(page, "r.status === 'complete'")

    title = "Explain quantum tunnelling simply please"
    expect(page.locator(".conversation-title")).to_have_text(title)
    expect(page).to_have_title(f"{title} · Durable AI Chat")
    expect(page.locator("#conversation-list a[aria-current='page']")).to_have_text(title)
    screenshot(page, "titled")

    page.reload()  # the first message is not sent again, and the title stuck
    wait_connected(page)
    expect(page.locator("#transcript .message.user")).to_have_count(1)
    expect(page.locator(".conversation-title")).to_have_text(title)


def test_empty_conversations_are_not_listed(alice):
    empty = alice.new_conversation()
    page = alice.context.new_page()
    page.goto(alice.server.url("/"))
    expect(page.locator("#conversation-list a")).to_have_count(0)
    page.goto(alice.server.url(empty))
    expect(page.locator("#conversation-list a")).to_have_count(1)  # only the open one
    expect(page.locator("#composer-input")).to_be_focused()


def test_search_finds_a_conversation_by_a_word_of_its_answer(alice):
    page = alice.context.new_page()
    page.goto(alice.server.url("/"))
    page.locator("#home-input").fill("Where do herons nest")
    page.locator("#home-input").press("Enter")
    page.wait_for_url("**/c/*/")
    wait_connected(page)
    wait_run(page, "r.status === 'complete'")
    # The page names the conversation once the answer is in; leave only after that, as a person would.
    expect(page.locator(".conversation-title")).to_have_text("Where do herons nest")
    page.goto(alice.server.url("/"))
    page.locator("#home-input").fill("Something else entirely")
    page.locator("#home-input").press("Enter")
    page.wait_for_url("**/c/*/")
    wait_connected(page)
    wait_run(page, "r.status === 'complete'")

    search = page.locator("#search-input")
    search.fill("herons")  # from the question (and the answer's heading)
    search.press("Enter")
    expect(page.locator("#search-results li")).to_have_count(1)
    expect(page.locator("#search-results a")).to_have_text("Where do herons nest")

    page.locator("#search-input").fill("longest_words")  # only in the answers' code: both match
    page.locator("#search-input").press("Enter")
    expect(page.locator("#search-results li")).to_have_count(2)

    page.locator("#search-input").fill("habit")  # a word prefix of the answers' text
    page.locator("#search-input").press("Enter")
    expect(page.locator("#search-results li")).to_have_count(2)

    page.locator("#search-input").fill("zebrafish")
    page.locator("#search-input").press("Enter")
    expect(page.locator("#search-results li")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="match")).to_contain_text("0 conversations")
    screenshot(page, "search")


def test_an_answer_that_completed_with_no_page_open_still_names_the_conversation(alice):
    path = alice.new_conversation()
    page = alice.open(path)
    send(page, "Name me later please")
    answer_id = wait_streaming_text(page, min_chars=10)["answerCodecMessageId"]
    page.close()  # nobody watches the answer complete
    for _ in range(COMPLETION_CHECKS):  # each check is a `manage.py shell` (about a second)
        if message_record(alice.server, answer_id)["status"] == "complete":
            break
    else:
        raise AssertionError("the answer never completed")

    later = alice.context.new_page()
    later.goto(alice.server.url(path))
    wait_connected(later)
    expect(later.locator(".conversation-title")).to_have_text("Name me later please")
