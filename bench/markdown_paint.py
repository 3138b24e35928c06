"""Paint cost of live markdown: main-thread time per second of streaming, for a long answer with code.

The page's own rendering path runs in Debian's Chromium: a conversation page of a live Daphne, whose
`ChatSession` is fed `output` events at R tokens/s from inside the page (the same events the channel
produces, so ui.js, live_render.js and markdown.js do exactly what they do for a real answer; the network and
the broker are left out so the figures are the rendering's alone). The answer is about WORDS words of
markdown: headings, paragraphs, lists, a table and a fenced Python block per section.

Main-thread time comes from Chromium's own counters (CDP `Performance.getMetrics`: TaskDuration, and of that
ScriptDuration, LayoutDuration and RecalcStyleDuration), read before and after each window of streaming, and
is reported per second of streaming, for the first and the last quarter of the answer (the cost grows with
the answer, since each render parses all of it) and overall. For comparison, the same stream drawn as plain
text (`textContent`, what the page did before live markdown).

Run: .venv/bin/python bench/markdown_paint.py [--rates 50 200] [--words 4000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import Page, sync_playwright

from bench import harness
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ChatUser, new_context
from tests.support.live_server import BASE_DIR, VENV_BIN, run_live_server
from tests.support.web_sessions import make_web_user

METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
QUARTERS = 4

SECTION = """## Section {n}: streaming markdown

Paragraph one of section {n} talks about **rendering** text while it arrives, with `inline code` and a
[link](https://example.com/{n}). It goes on for a while so that the section has a realistic amount of prose
in it, the kind of explanation a model writes before it shows some code.

1. First point of section {n}, with *emphasis*.
2. Second point, a little longer than the first one, to wrap on narrow screens.
3. Third point.

| name | value | note |
|:-----|------:|------|
| alpha | {n} | first row |
| beta | {m} | second row |

```python
def section_{n}(items: list[int]) -> int:
    \"\"\"Sum the even items of section {n}.\"\"\"
    total = 0
    for item in items:
        if item % 2 == 0:
            total += item
    return total
```

A closing paragraph for section {n}, which says what the code above does and why it matters here.

"""

# Streams `tokens` into the session as `output` events at `rate` per second; resolves when done.
_STREAM = """async ([tokens, rate, plain]) => {
  const session = window.chatSession;
  const runId = 'bench-run';
  const codecMessageId = 'bench-answer';
  let text = '';
  const interval = 1000 / rate;
  const started = performance.now();
  for (let i = 0; i < tokens.length; i += 1) {
    text += tokens[i];
    if (plain) {
      let body = document.querySelector('#message-bench-answer .message-body');
      if (!body) {
        session.dispatchEvent(new CustomEvent('output', { detail: { codecMessageId, runId, text: '',
          inputCodecMessageId: '' } }));
        body = document.querySelector('#message-bench-answer .message-body');
      }
      body.textContent = text;
    } else {
      session.dispatchEvent(new CustomEvent('output', { detail: { codecMessageId, runId, text,
        inputCodecMessageId: '' } }));
    }
    const due = started + (i + 1) * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return performance.now() - started;
}"""


def answer_text(words: int) -> str:
    sections = []
    n = 0
    while sum(len(s.split()) for s in sections) < words:
        n += 1
        sections.append(SECTION.format(n=n, m=n * 7))
    return "".join(sections)


def tokenize(text: str) -> list[str]:
    import re

    return re.findall(r"\S+\s*", text)


def metrics(client) -> dict[str, float]:
    values = {m["name"]: m["value"] for m in client.send("Performance.getMetrics")["metrics"]}
    return {name: values.get(name, 0.0) for name in METRICS}


def stream_windows(page: Page, tokens: list[str], rate: float, plain: bool) -> list[dict]:
    """Stream `tokens` in QUARTERS windows; per window: seconds and main-thread ms per second by metric."""
    client = page.context.new_cdp_session(page)
    client.send("Performance.enable", {"timeDomain": "threadTicks"})
    page.evaluate("() => document.getElementById('message-bench-answer')?.remove()")
    size = len(tokens) // QUARTERS + 1
    windows = []
    sent = 0
    for q in range(QUARTERS):
        chunk = tokens[q * size : (q + 1) * size]
        before = metrics(client)
        # Each window continues the same answer: prefix with what was sent so far as one token.
        prefix = ["".join(tokens[:sent])] if sent else []
        elapsed_ms = page.evaluate(_STREAM, [prefix + chunk, rate, plain]) - (1000 / rate if prefix else 0)
        after = metrics(client)
        seconds = elapsed_ms / 1000
        windows.append(
            {"seconds": seconds, **{name: (after[name] - before[name]) * 1000 / seconds for name in METRICS}}
        )
        sent += len(chunk)
    client.detach()
    return windows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 200.0], help="tokens per second")
    parser.add_argument("--words", type=int, default=4000, help="length of the answer in words")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain-text comparison")
    args = parser.parse_args()

    text = answer_text(args.words)
    tokens = tokenize(text)
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"], cwd=BASE_DIR, check=True
    )
    rows = []
    with run_live_server({}) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts: list = []
        web_user = make_web_user(server, "bench-paint")
        cookie = web_user.http.cookies["sessionid"]
        user = ChatUser(
            web_user.pk, cookie, server, new_context(browser, server, cookie, contexts), browser, contexts
        )
        modes = [("markdown", False)] + ([] if args.no_plain else [("plain text", True)])
        for rate in args.rates:
            for label, plain in modes:
                page = user.open(user.new_conversation())
                windows = stream_windows(page, tokens, rate, plain)
                page.close()
                total_s = sum(w["seconds"] for w in windows)
                overall = {m: sum(w[m] * w["seconds"] for w in windows) / total_s for m in METRICS}
                first, last = windows[0], windows[-1]
                rows.append(
                    (
                        f"{label} @ {rate:g} tok/s",
                        round(total_s, 1),
                        first["TaskDuration"],
                        last["TaskDuration"],
                        overall["TaskDuration"],
                        overall["ScriptDuration"],
                        overall["LayoutDuration"] + overall["RecalcStyleDuration"],
                    )
                )
        browser.close()
    words = len(text.split())
    print(
        harness.table(
            f"main-thread ms per second of streaming, {words}-word answer ({len(tokens)} tokens) with code",
            [
                "",
                "stream s",
                "task, 1st quarter",
                "task, last quarter",
                "task, all",
                "script",
                "layout+style",
            ],
            rows,
        )
    )
    print(harness.machine_line())


if __name__ == "__main__":
    main()
