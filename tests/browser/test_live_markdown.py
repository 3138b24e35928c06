"""Answers are rendered as markdown while they stream, and the final swap changes nothing a reader sees."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import answers, screenshot, send, wait_connected, wait_run, wait_streaming_text

# Records, when the live answer is replaced by the server's rendering, the text of both.
RECORD_SWAP = r"""
() => {
  window.swapTexts = null;
  let before = null;
  let after = null;
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      const gone = [...record.removedNodes].find((n) => n.dataset?.live === 'true');
      const came = [...record.addedNodes].find((n) => n.classList?.contains('assistant') && !n.dataset.live);
      if (gone) before = gone;
      if (came) after = came;
    }
    // The removed node is detached (no layout), so compare its words and its element structure; the Copy
    // buttons on code blocks are controls, not text.
    const content = (el) => {
      const body = el.querySelector('.message-body').cloneNode(true);
      for (const control of body.querySelectorAll('.copy-code')) control.remove();
      for (const wrapper of body.querySelectorAll('.code-block')) wrapper.replaceWith(...wrapper.childNodes);
      return body;
    };
    const words = (el) => content(el).textContent.split(/\s+/).filter(Boolean).join(' ');
    const shape = (el) => [...content(el).querySelectorAll('*')]
      .filter((n) => !(n.tagName === 'SPAN' && n.closest('pre')))
      .map((n) => n.tagName).join(' ');
    if (before && after) {
      window.swapTexts = {
        before: words(before),
        after: words(after),
        shapeBefore: shape(before),
        shapeAfter: shape(after),
        highlightedAfter: after.querySelectorAll('.message-body pre span').length,
      };
    }
  });
  observer.observe(document.getElementById('transcript'), { childList: true });
}
"""


def test_markdown_is_rendered_while_streaming_and_unchanged_by_the_final_swap(alice):
    page = alice.open(alice.new_conversation())
    page.evaluate(RECORD_SWAP)
    send(page, "Show me **bold** markdown")
    expect(page.locator("#transcript .message.user strong")).to_have_text("bold")

    live = page.locator('#transcript .message.assistant[data-live="true"]')
    expect(live.locator(".message-body h2")).to_be_visible()
    expect(live.locator(".message-body blockquote")).to_be_visible()
    assert page.evaluate("window.chatSession.runs()[0].status") == "active"  # the run has not ended yet
    wait_streaming_text(page, min_chars=700)
    expect(live.locator(".message-body pre code")).to_be_visible()
    screenshot(page, "live-markdown")

    wait_run(page, "r.status === 'complete'")
    page.wait_for_function("() => window.swapTexts !== null")
    swap = page.evaluate("window.swapTexts")
    assert swap["before"] == swap["after"]
    assert swap["shapeBefore"] == swap["shapeAfter"]
    assert "H2" in swap["shapeBefore"]
    assert swap["highlightedAfter"] > 0  # the only change: the server's code highlighting


def test_own_message_looks_the_same_live_and_after_reload(alice):
    path = alice.new_conversation()
    page = alice.open(path)
    send(page, "A list:\n\n- *one*\n- `two`\n\nand a [link](https://example.com/).")
    question = page.locator("#transcript .message.user .message-body")
    expect(question.locator("li")).to_have_count(2)
    live_html = question.inner_html()
    wait_run(page, "r.status === 'complete'")
    page.reload()
    wait_connected(page)
    assert question.inner_html() == live_html
    expect(question.locator("a")).to_have_attribute("rel", "noopener noreferrer nofollow")


def test_reload_mid_answer_keeps_its_line_breaks(alice):
    path = alice.new_conversation()
    page = alice.open(path)
    send(page, "Tell me about line breaks")
    wait_streaming_text(page, min_chars=400)
    page.reload()
    wait_connected(page)
    answer = answers(page).first
    wait_run(page, "r.status === 'active' && r.text.length > 500")
    expect(answer).to_have_attribute("data-live", "true")
    body = answer.locator(".message-body")
    expect(body.locator("h2")).to_be_visible()
    expect(body.locator("ol > li")).to_have_count(3)
    text = body.inner_text()
    assert "\n" in text.strip()
    screenshot(page, "reloaded-mid-answer")


HOSTILE = (
    '<script>window.pwned = 1</script> <img src=x onerror="window.pwned = 2"> '
    "[click](javascript:window.pwned=3) [ok](https://example.com/ok) <b>raw</b>"
)


def test_live_rendering_is_as_strict_as_the_server(alice):
    path = alice.new_conversation()
    page = alice.open(path)
    send(page, HOSTILE)
    body = page.locator("#transcript .message.user .message-body")
    expect(body.locator("a")).to_have_count(1)  # the javascript: link is not a link
    expect(body.locator("a")).to_have_attribute("href", "https://example.com/ok")
    assert body.locator("script, img, b").count() == 0  # raw HTML is text, never markup
    expect(body).to_contain_text("<b>raw</b>")
    live_html = body.inner_html()
    wait_run(page, "r.status === 'complete'")
    page.reload()
    wait_connected(page)
    assert body.inner_html() == live_html
    assert page.evaluate("window.pwned === undefined")
