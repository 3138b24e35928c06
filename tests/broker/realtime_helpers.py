"""Helpers for the realtime tests: ably-python realtime clients, a raw WebSocket peer, bounded waits.

ably-python builds its WebSocket URL without the port (Q-P1), so realtime clients here use
`endpoint='127.0.0.1:PORT'` and get their tokens through an `auth_callback` backed by a separate
AblyRest client (the realtime client's own REST calls would go to the wrong URL). No SDK code is
patched.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import msgpack
import websockets
from ably import AblyRealtime

from tests.support.ably_clients import rest_client
from tests.support.live_server import HOST, LiveServer

WAIT_SECONDS = 20


def fresh_channel(prefix: str = "rt") -> str:
    return f"{prefix}:{uuid.uuid4().hex[:10]}"


def token_callback(server: LiveServer, **token_params: Any) -> Callable:
    """An async auth_callback issuing a fresh broker token per call (counted in `.calls`)."""
    rest = rest_client(server, use_binary_protocol=False)

    async def callback(_params: Any) -> Any:
        callback.calls += 1
        return await rest.auth.request_token(token_params=dict(token_params))

    callback.calls = 0
    return callback


def realtime(server: LiveServer, *, binary: bool = True, auth_callback: Callable | None = None, **options):
    """An ably-python realtime client on the live server (token auth unless `key=` is given)."""
    if auth_callback is None and "key" not in options:
        client_id = options.get("client_id")
        params = {"client_id": client_id} if client_id else {}
        auth_callback = token_callback(server, **params)
    if auth_callback is not None:
        options["auth_callback"] = auth_callback
    return AblyRealtime(endpoint=f"{HOST}:{server.port}", tls=False, use_binary_protocol=binary, **options)


async def bounded(awaitable, what: str = "event", seconds: float = WAIT_SECONDS):
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


class Collector:
    """A listener that records what it is given and lets a test wait until a condition holds."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._changed = asyncio.Event()

    def add(self, item: Any) -> None:
        """The listener to hand to an SDK (ably-python wants a function or method, not a callable object)."""
        self.items.append(item)
        self._changed.set()

    async def until(self, predicate: Callable[[list[Any]], bool], what: str = "items") -> list[Any]:
        async def wait() -> list[Any]:
            while not predicate(self.items):
                self._changed.clear()
                await self._changed.wait()
            return self.items

        return await bounded(wait(), what)

    async def count(self, n: int) -> list[Any]:
        return await self.until(lambda items: len(items) >= n, f"{n} items")


async def state_change(emitter, state: str, what: str = "state"):
    """Wait for an ably-python emitter (connection or channel) to reach `state`; returns the change."""
    arrived: asyncio.Future = asyncio.get_running_loop().create_future()

    def listener(change) -> None:
        if change.current == state and not arrived.done():
            arrived.set_result(change)

    emitter.on(listener)
    try:
        return await bounded(arrived, f"{what} {state}")
    finally:
        emitter.off(listener)


class RawPeer:
    """A bare WebSocket speaking the Ably protocol by hand, for what no SDK would ever send."""

    def __init__(self, socket, binary: bool) -> None:
        self.socket = socket
        self.binary = binary

    @classmethod
    async def connect(cls, server: LiveServer, query: str = "", *, binary: bool = False, path: str = "/"):
        fmt = "msgpack" if binary else "json"
        url = f"ws://{HOST}:{server.port}{path}?key={server.api_key}&format={fmt}&v=6"
        if query:
            url += "&" + query
        socket = await bounded(websockets.connect(url, max_size=None), "websocket open")
        return cls(socket, binary)

    async def send(self, frame: dict) -> None:
        await self.socket.send(msgpack.packb(frame, use_bin_type=True) if self.binary else json.dumps(frame))

    async def send_raw(self, raw: str | bytes) -> None:
        await self.socket.send(raw)

    async def recv(self) -> dict:
        raw = await bounded(self.socket.recv(), "a frame")
        if self.binary:
            assert isinstance(raw, bytes), "a msgpack connection must get binary frames"
            return msgpack.unpackb(raw, raw=False)
        assert isinstance(raw, str), "a JSON connection must get text frames"
        return json.loads(raw)

    async def recv_until(self, predicate: Callable[[dict], bool]) -> tuple[dict, list[dict]]:
        """The first frame matching `predicate`, and every frame received before it (bounded overall)."""
        skipped: list[dict] = []

        async def scan() -> dict:
            while True:
                frame = await self.recv()
                if predicate(frame):
                    return frame
                skipped.append(frame)

        return await bounded(scan(), "a matching frame"), skipped

    async def closed(self) -> None:
        await bounded(self.socket.wait_closed(), "the server to close the socket")

    async def close(self) -> None:
        await self.socket.close()
