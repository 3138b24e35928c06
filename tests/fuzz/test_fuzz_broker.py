"""Fuzz tier: hostile frames and REST requests against a live server while a bystander streams.

Every reply must be a success or an Ably error with a code (never 5xx), the server log must stay
free of tracebacks, the fuzzing socket must answer a ping after each frame unless the server
closed it with an ERROR (never mute), the bystander's assembled text must equal what it published,
and the server's memory must come back once the fuzzing connections are gone.

Bounded to about a minute or two: FUZZ_FRAMES and FUZZ_REQUESTS set the number of examples.
The figures are printed at the end (run with -s to see them).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import msgpack
import pytest
import websockets
from hypothesis import HealthCheck, Phase, given, settings

from tests.broker.bystander import Bystander, server_rss_kb, tracebacks
from tests.fuzz.strategies import raw_frames, rest_requests
from tests.support.ably_clients import basic_auth
from tests.support.live_server import HOST, LiveServer, run_live_server

pytestmark = pytest.mark.live

FRAMES = int(os.environ.get("FUZZ_FRAMES", "1200"))
REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "600"))
REPLY_SECONDS = 10
RSS_SLACK_KB = 40_000
FUZZ_SETTINGS = {
    "deadline": None,
    "database": None,
    "phases": [Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    "suppress_health_check": list(HealthCheck),
}
CLOSING_ACTIONS = (5, 7)  # DISCONNECT and CLOSE: the client itself asked for the socket to go


@dataclass
class Figures:
    frames: int = 0
    requests: int = 0
    server_errors: int = 0
    mute: int = 0
    fatal_closes: int = 0
    codes: dict[int, int] = field(default_factory=dict)

    def count(self, code: int) -> None:
        self.codes[code] = self.codes.get(code, 0) + 1


class LoopThread:
    """An event loop in a thread: the bystander streams there while Hypothesis runs synchronously."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[LiveServer]:
    # A high rate limit, so the fuzz reaches the field checks instead of 42911 (tested elsewhere).
    with run_live_server({"BROKER_MAX_INBOUND_RATE": "5000", "BROKER_INBOUND_BURST": "5000"}) as server:
        yield server


class FuzzSocket:
    """The attacker's connection: reopened whenever the server closes it (after an ERROR)."""

    def __init__(self, server: LiveServer, figures: Figures) -> None:
        self.server = server
        self.figures = figures
        self.socket = None
        self.binary = False

    async def _open(self) -> None:
        self.binary = not self.binary  # alternate JSON and msgpack connections
        fmt = "msgpack" if self.binary else "json"
        url = f"ws://{HOST}:{self.server.port}/?key={self.server.api_key}&format={fmt}&v=6"
        self.socket = await websockets.connect(url, max_size=None)
        await self._reply()  # CONNECTED

    async def _reply(self) -> dict:
        raw = await asyncio.wait_for(self.socket.recv(), REPLY_SECONDS)
        frame = msgpack.unpackb(raw, raw=False) if isinstance(raw, bytes) else json.loads(raw)
        error = frame.get("error")
        if error is not None:
            assert isinstance(error.get("code"), int) and isinstance(error.get("statusCode"), int), frame
            assert error["statusCode"] < 500 and error["code"] != 50000, frame
            self.figures.count(error["code"])
        return frame

    async def send(self, raw: str | bytes) -> None:
        """Send one frame, then a DETACH probe (handled after it, in order) and a ping (answered on
        arrival); both answered means the frame was dealt with and the socket is alive."""
        if self.socket is None:
            await self._open()
        self.figures.frames += 1
        probe = f"fuzz:probe-{uuid.uuid4().hex}"
        ping = uuid.uuid4().hex
        saw_error, probed, pinged = False, False, False
        try:
            await self.socket.send(raw)
            await self.socket.send(json.dumps({"action": 12, "channel": probe}))
            await self.socket.send(json.dumps({"action": 0, "id": ping}))
            while not (probed and pinged):
                frame = await self._reply()
                saw_error = saw_error or (frame.get("action") == 9 and "channel" not in frame)
                probed = probed or (frame.get("action") == 13 and frame.get("channel") == probe)
                pinged = pinged or (frame.get("action") == 0 and frame.get("id") == ping)
        except websockets.ConnectionClosed:
            self.socket = None
            self.figures.fatal_closes += 1
            assert saw_error or _asked_to_close(raw), f"closed without an ERROR frame after {raw[:200]!r}"
        except TimeoutError:
            self.figures.mute += 1
            self.socket = None
            raise AssertionError(f"socket went mute after {raw[:200]!r}") from None

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


def _asked_to_close(raw: str | bytes) -> bool:
    try:
        frame = msgpack.unpackb(raw) if isinstance(raw, bytes) else json.loads(raw)
    except Exception:  # garbage: not a request to close
        return False
    return isinstance(frame, dict) and frame.get("action") in CLOSING_ACTIONS


def _error_code(response: httpx.Response) -> int | None:
    try:
        body = (
            msgpack.unpackb(response.content)
            if "msgpack" in response.headers.get("Content-Type", "")
            else response.json()
        )
    except Exception:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def test_hostile_frames_and_requests_leave_the_server_and_a_bystander_unharmed(fuzz_server):
    server = fuzz_server
    figures = Figures()
    loop = LoopThread()
    http = httpx.Client(timeout=REPLY_SECONDS)
    fuzz = FuzzSocket(server, figures)
    bystander = Bystander(server, [f"word{n} " for n in range(1500)], interval=0.03)
    try:
        loop.run(bystander.start())
        rss_before = server_rss_kb(server)
        logged_before = tracebacks(server.log())
        started = time.monotonic()

        @settings(max_examples=FRAMES, **FUZZ_SETTINGS)
        @given(raw=raw_frames())
        def fuzz_frames(raw):
            loop.run(fuzz.send(raw))

        @settings(max_examples=REQUESTS, **FUZZ_SETTINGS)
        @given(request=rest_requests())
        def fuzz_requests(request):
            figures.requests += 1
            headers = dict(request["headers"])
            if request["path"].startswith("/channels") or "{key_name}" in request["path"]:
                headers.update(basic_auth(server.api_key))
            path = request["path"].replace("{key_name}", server.key_name)
            response = http.request(
                request["method"],
                server.url(path),
                params=request["params"],
                headers=headers,
                content=request["body"],
            )
            if response.status_code >= 500:
                figures.server_errors += 1
            assert response.status_code < 500, (request, response.status_code, response.text[:300])
            if response.status_code >= 400:
                code = _error_code(response)
                assert isinstance(code, int), (request, response.status_code, response.text[:300])
                figures.count(code)

        fuzz_frames()
        fuzz_requests()
        loop.run(fuzz.close())
        loop.run(bystander.finish(), timeout=180)
        elapsed = time.monotonic() - started
        time.sleep(4)  # sockets gone: the broker hands freed memory back shortly after
        rss_after = server_rss_kb(server)
        logged = tracebacks(server.log()) - logged_before
        print(
            f"\nfuzz figures: {figures.frames} frames, {figures.requests} requests in {elapsed:.0f} s; "
            f"5xx {figures.server_errors}; tracebacks {logged}; mute connections {figures.mute}; "
            f"fatal closes {figures.fatal_closes}; bystander worst gap {bystander.worst_gap_ms:.0f} ms "
            f"(worst ack {bystander.worst_ack_ms:.0f} ms); "
            f"RSS {rss_before // 1024} MB -> {rss_after // 1024} MB; "
            f"error codes {dict(sorted(figures.codes.items()))}"
        )
        assert logged == 0, server.log()[-5000:]
        assert bystander.assembled == bystander.published
        assert rss_after - rss_before < RSS_SLACK_KB, (rss_before, rss_after)
    finally:
        http.close()
        loop.stop()
