"""Browser tests: Debian's Chromium driven by Playwright against a live Daphne (embedded broker, demo model).

Playwright's own browser download is never used: the system `chromium` is launched by path. Every wait
is bounded by Playwright's timeouts; nothing sleeps. Screenshots of the key states land in
`test-artifacts/screenshots/`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.support.live_server import BASE_DIR, VENV_BIN, LiveServer, run_live_server
from tests.support.web_sessions import make_web_user, manage

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = BASE_DIR / "test-artifacts" / "screenshots"
# Demo tokens per second: an answer (~200 tokens) takes several seconds, so Stop and reload land mid-stream.
DEMO_RATE = "25"
WAIT_MS = 20_000
COLLECTSTATIC_TIMEOUT_SECONDS = 120

pytestmark = pytest.mark.live

_MESSAGE_RECORD = """
import json
from chat.models import Message
m = Message.objects.select_related("run").get(codec_message_id={codec_message_id!r})
print(json.dumps({{"text": m.text, "status": m.status, "run_status": m.run.status if m.run else None,
                  "end_reason": m.run.end_reason if m.run else None}}))
"""


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium).")
    return CHROMIUM


@pytest.fixture(scope="package")
def browser_server() -> Iterator[LiveServer]:
    # The live server serves static files from the manifest, so the page must see the current scripts.
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        check=True,
        timeout=COLLECTSTATIC_TIMEOUT_SECONDS,
    )
    with run_live_server({"DEMO_TOKENS_PER_SECOND": DEMO_RATE}) as server:
        yield server


@pytest.fixture(scope="package")
def browser(chromium_path) -> Iterator[Browser]:
    # Playwright's sync API leaves an event loop installed in this thread, so `make test` runs
    # this package in its own pytest process, apart from the asyncio tests.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class ChatUser:
    """A logged-in user of the live server, with a browser context carrying their session."""

    pk: int
    session_cookie: str
    server: LiveServer
    context: BrowserContext
    browser: Browser
    contexts: list[BrowserContext]

    @property
    def client_id(self) -> str:
        return f"user:{self.pk}"

    def new_conversation(self) -> str:
        """A fresh conversation of this user; returns its page path."""
        with httpx.Client(base_url=self.server.base_url, cookies=self._cookies(), timeout=10) as http:
            http.get("/")
            csrf = http.cookies["csrftoken"]
            response = http.post(
                "/c/new", headers={"X-CSRFToken": csrf, "Referer": self.server.base_url + "/"}
            )
        assert response.status_code == 302, response.text
        return response.headers["location"]

    def another_device(self) -> ChatUser:
        """The same user in a separate browser context (its own network, like a second device)."""
        return ChatUser(
            self.pk,
            self.session_cookie,
            self.server,
            new_context(self.browser, self.server, self.session_cookie, self.contexts),
            self.browser,
            self.contexts,
        )

    def _cookies(self) -> dict[str, str]:
        return {"sessionid": self.session_cookie}

    def open(self, path: str) -> Page:
        """Open a conversation page and wait until its session is connected and hydrated."""
        page = self.context.new_page()
        page.goto(self.server.url(path))
        wait_connected(page)
        return page


def new_context(
    browser: Browser, server: LiveServer, session_cookie: str, contexts: list[BrowserContext]
) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(WAIT_MS)
    context.add_cookies([{"name": "sessionid", "value": session_cookie, "url": server.base_url}])
    contexts.append(context)
    return context


@pytest.fixture
def make_user(browser_server, browser) -> Iterator:
    contexts: list[BrowserContext] = []

    def make(staff: bool = False) -> ChatUser:
        web_user = make_web_user(browser_server, f"b{uuid.uuid4().hex[:8]}", staff=staff)
        session_cookie = web_user.http.cookies["sessionid"]
        # web_user.http (an AsyncClient) never sent a request, so it holds no connection to close.
        context = new_context(browser, browser_server, session_cookie, contexts)
        return ChatUser(web_user.pk, session_cookie, browser_server, context, browser, contexts)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def alice(make_user) -> ChatUser:
    return make_user()


def wait_connected(page: Page) -> None:
    expect(page.locator("#connection-status")).to_have_attribute("data-state", "connected")
    page.wait_for_function("() => window.chatSession && !window.chatSession.hydrating")


def send(page: Page, text: str) -> None:
    page.locator("#composer-input").fill(text)
    page.locator("#composer-input").press("Enter")


def answers(page: Page):
    return page.locator("#transcript .message.assistant")


def runs(page: Page) -> list[dict]:
    return page.evaluate("window.chatSession.runs()")


def wait_run(page: Page, predicate_js: str) -> dict:
    """The first run for which `predicate_js` (a JS expression over `r`) holds, waiting for it."""
    handle = page.wait_for_function(f"() => window.chatSession.runs().find((r) => {predicate_js}) || null")
    return handle.json_value()


def wait_streaming_text(page: Page, min_chars: int = 1) -> dict:
    """The first active run once its answer has at least `min_chars` characters on screen."""
    return wait_run(page, f"r.status === 'active' && r.text.length >= {min_chars}")


def message_record(server: LiveServer, codec_message_id: str) -> dict:
    output = manage(server, "shell", "-c", _MESSAGE_RECORD.format(codec_message_id=codec_message_id))
    return json.loads(output.strip().splitlines()[-1])


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path))
    return path
