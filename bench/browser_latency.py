"""Browser latency: first token painted after Enter, Stop painted in another tab, a long page's render time.

Everything runs for real: a Daphne with its own temporary database (embedded broker, demo model at
R tokens/s), Debian's Chromium driven by Playwright, the page's own session.js/ui.js.

- Time to first token painted: Enter keydown in the composer -> the first frame after the answer's first text
  reached the DOM (a MutationObserver, then requestAnimationFrame). Includes the demo model's own delay before
  its first token (1/R s), shown separately.
- Stop -> `stopped` painted in a second tab: the Stop click in tab A -> the first frame after tab B shows
  the answer's `stopped` badge. Both stamps are `performance.timeOrigin + performance.now()` (one clock for
  the whole browser).
- Server render of an N-message conversation: wall time of `GET /c/<id>/` over loopback (the page is
  server-rendered; markdown and highlighting included), after one warm-up request.

Run: .venv/bin/python bench/browser_latency.py [--runs 8] [--rate 50] [--messages 200]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from playwright.sync_api import sync_playwright

from bench import harness
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ChatUser, new_context, send
from tests.support.live_server import BASE_DIR, VENV_BIN, LiveServer, run_live_server
from tests.support.web_sessions import make_web_user, manage

STOP_AFTER_CHARS = 20
RENDER_REQUESTS = 10

_ARM_FIRST_PAINT = """() => {
  window.__firstToken = new Promise((resolve) => {
    const box = document.getElementById('composer-input');
    let pressed = 0;
    box.addEventListener('keydown', (event) => { if (event.key === 'Enter') pressed = performance.now(); },
                         { capture: true, once: true });
    const observer = new MutationObserver(() => {
      const body = document.querySelector('#transcript .message.assistant .message-body');
      if (pressed && body && body.textContent.length > 0) {
        observer.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - pressed));
      }
    });
    const watched = { subtree: true, childList: true, characterData: true };
    observer.observe(document.getElementById('transcript'), watched);
  });
}"""

_ARM_STOPPED = """(runId) => {
  window.__stopped = new Promise((resolve) => {
    const selector = `#transcript .message.assistant[data-run-id="${runId}"] .badge.stopped`;
    const observer = new MutationObserver(() => {
      if (document.querySelector(selector)) {
        observer.disconnect();
        requestAnimationFrame(() => resolve(performance.timeOrigin + performance.now()));
      }
    });
    const watched = { subtree: true, childList: true, characterData: true };
    observer.observe(document.getElementById('transcript'), watched);
  });
}"""

_CLICK_STOP = """(runId) => {
  const button = document.querySelector(`#transcript .message.assistant[data-run-id="${runId}"] .stop-run`);
  const clicked = performance.timeOrigin + performance.now();
  button.click();
  return clicked;
}"""

_SEED_CONVERSATION = """
import json
from django.contrib.auth import get_user_model
from chat.models import Conversation, Message
owner = get_user_model().objects.get(pk={pk})
conversation = Conversation.objects.create(owner=owner, title="Long conversation")
answer = ("## A heading\\n\\nSome **bold** text and a list:\\n\\n1. one\\n2. two\\n\\n"
          "```python\\ndef f(x):\\n    return x * 2\\n```\\n\\nA closing paragraph with `code`.")
Message.objects.bulk_create([
    Message(conversation=conversation, codec_message_id=f"seed-{{n}}",
            role="user" if n % 2 == 0 else "assistant",
            text=f"Question number {{n}}?" if n % 2 == 0 else answer)
    for n in range({count})
])
print(json.dumps({{"path": conversation.get_absolute_url()}}))
"""


def first_token_ms(user: ChatUser, runs: int) -> list[float]:
    samples = []
    for n in range(runs):
        page = user.open(user.new_conversation())
        page.evaluate(_ARM_FIRST_PAINT)
        send(page, f"Benchmark question {n}")
        samples.append(page.evaluate("window.__firstToken"))
        page.keyboard.press("Escape")
        page.wait_for_function("() => window.chatSession.activeRuns().length === 0")
        page.close()
    return samples


def stop_painted_ms(user: ChatUser, runs: int) -> list[float]:
    samples = []
    for n in range(runs):
        path = user.new_conversation()
        starter, watcher = user.open(path), user.open(path)
        send(starter, f"Stop benchmark {n}")
        streaming = f"r.status === 'active' && r.text.length >= {STOP_AFTER_CHARS}"
        run = watcher.wait_for_function(
            f"() => window.chatSession.runs().find((r) => {streaming})"
        ).json_value()
        watcher.evaluate(_ARM_STOPPED, run["runId"])
        clicked = starter.evaluate(_CLICK_STOP, run["runId"])
        samples.append(watcher.evaluate("window.__stopped") - clicked)
        for page in (starter, watcher):
            page.close()
    return samples


def render_ms(server: LiveServer, user: ChatUser, count: int) -> list[float]:
    seeded = manage(server, "shell", "-c", _SEED_CONVERSATION.format(pk=user.pk, count=count))
    path = json.loads(seeded.strip().splitlines()[-1])["path"]
    samples = []
    with httpx.Client(
        base_url=server.base_url, cookies={"sessionid": user.session_cookie}, timeout=30
    ) as http:
        http.get(path).raise_for_status()
        for _ in range(RENDER_REQUESTS):
            started = time.perf_counter()
            response = http.get(path)
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            assert response.text.count('class="message ') == count
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=8, help="samples of each browser measurement")
    parser.add_argument("--rate", type=float, default=50.0, help="demo model tokens per second")
    parser.add_argument("--messages", type=int, default=200, help="messages in the rendered conversation")
    args = parser.parse_args()

    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"], cwd=BASE_DIR, check=True
    )
    with (
        run_live_server({"DEMO_TOKENS_PER_SECOND": str(args.rate)}) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts = []
        web_user = make_web_user(server, "bench-browser")
        cookie = web_user.http.cookies["sessionid"]
        user = ChatUser(
            web_user.pk, cookie, server, new_context(browser, server, cookie, contexts), browser, contexts
        )
        first = first_token_ms(user, args.runs)
        stop = stop_painted_ms(user, args.runs)
        render = render_ms(server, user, args.messages)
        browser.close()

    rows = [
        ("first token painted after Enter (ms)", len(first), *harness.p50_p99(first), max(first)),
        ("  of which demo model delay (ms)", "-", 1000 / args.rate, 1000 / args.rate, 1000 / args.rate),
        ("Stop -> 'stopped' painted in tab 2 (ms)", len(stop), *harness.p50_p99(stop), max(stop)),
        (f"server render, {args.messages} messages (ms)", len(render), *harness.p50_p99(render), max(render)),
    ]
    print(
        harness.table(
            f"browser latency (demo model {args.rate:g} tokens/s)", ["", "n", "p50", "p99", "max"], rows
        )
    )
    print(harness.machine_line())


if __name__ == "__main__":
    main()
