"""Thin WebSocket clients with one shape for the broker (Ably protocol, JSON) and for the bare relay.

Both do the same work per message (one JSON parse per frame, a callback per message), so comparing
the broker with the relay through them compares the servers, not two client libraries. The SDK's own
cost is measured separately with ably-python.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect

HEARTBEAT, ACK, NACK, CONNECTED, ERROR, ATTACH, ATTACHED, MESSAGE = 0, 1, 2, 4, 9, 10, 11, 15
WAIT_SECONDS = 15
OnData = Callable[[Any], None]


class WireClient(Protocol):
    async def connect(self) -> None: ...
    async def subscribe(self, channel: str, on_data: OnData) -> None: ...
    async def publish(self, channel: str, data: str) -> None: ...
    async def close(self) -> None: ...


def ably_url(host: str, port: int, token: str) -> str:
    """The URL ably-js would open: token in `access_token`, JSON framing, protocol v6."""
    query = urlencode({"access_token": token, "format": "json", "heartbeats": "true", "v": "6"})
    return f"ws://{host}:{port}/?{query}"


class AblyWireClient:
    """The Ably realtime protocol spoken by hand: CONNECTED, ATTACH/ATTACHED, MESSAGE with ACKs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._next_serial = 0
        self._acks: dict[int, asyncio.Future] = {}
        self._attached: dict[str, asyncio.Future] = {}
        self._listeners: dict[str, OnData] = {}

    async def connect(self) -> None:
        self._ws = await connect(self.url, max_size=1 << 20, compression=None, open_timeout=WAIT_SECONDS)
        first = json.loads(await asyncio.wait_for(self._ws.recv(), WAIT_SECONDS))
        if first.get("action") != CONNECTED:
            raise RuntimeError(f"expected CONNECTED, got {first}")
        self._reader = asyncio.ensure_future(self._read())

    async def subscribe(self, channel: str, on_data: OnData) -> None:
        self._listeners[channel] = on_data
        attached = asyncio.get_running_loop().create_future()
        self._attached[channel] = attached
        await self._send({"action": ATTACH, "channel": channel})
        await asyncio.wait_for(attached, WAIT_SECONDS)

    async def publish(self, channel: str, data: str) -> None:
        serial, self._next_serial = self._next_serial, self._next_serial + 1
        acked = asyncio.get_running_loop().create_future()
        self._acks[serial] = acked
        await self._send(
            {"action": MESSAGE, "channel": channel, "msgSerial": serial, "messages": [{"data": data}]}
        )
        await asyncio.wait_for(acked, WAIT_SECONDS)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._ws is not None:
            await self._ws.close()

    async def _send(self, frame: dict) -> None:
        assert self._ws is not None
        await self._ws.send(json.dumps(frame))

    async def _read(self) -> None:
        assert self._ws is not None
        with contextlib.suppress(Exception):
            async for raw in self._ws:
                self._dispatch(json.loads(raw))

    def _dispatch(self, frame: dict) -> None:
        action = frame.get("action")
        if action == MESSAGE:
            on_data = self._listeners.get(frame.get("channel", ""))
            if on_data is not None:
                for message in frame.get("messages") or ():
                    on_data(message.get("data"))
        elif action in (ACK, NACK):
            first, count = frame.get("msgSerial", 0), frame.get("count", 1)
            for serial in range(first, first + count):
                future = self._acks.pop(serial, None)
                if future is not None and not future.done():
                    if action == ACK:
                        future.set_result(None)
                    else:
                        future.set_exception(RuntimeError(f"NACK: {frame.get('error')}"))
        elif action == ATTACHED:
            future = self._attached.pop(frame.get("channel", ""), None)
            if future is not None and not future.done():
                future.set_result(None)
        elif action == ERROR:
            failure = RuntimeError(f"broker error: {frame.get('error')}")
            for future in [*self._acks.values(), *self._attached.values()]:
                if not future.done():
                    future.set_exception(failure)


class RelayWireClient:
    """The same client shape against the bare relay (`bench/relay.py` frames)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._next_id = 0
        self._acks: dict[int, asyncio.Future] = {}
        self._subscribed: dict[str, asyncio.Future] = {}
        self._listeners: dict[str, OnData] = {}

    async def connect(self) -> None:
        self._ws = await connect(self.url, max_size=1 << 20, compression=None, open_timeout=WAIT_SECONDS)
        await self._ws.send('{"op": "hello"}')
        first = json.loads(await asyncio.wait_for(self._ws.recv(), WAIT_SECONDS))
        if first.get("op") != "connected":
            raise RuntimeError(f"expected connected, got {first}")
        self._reader = asyncio.ensure_future(self._read())

    async def subscribe(self, channel: str, on_data: OnData) -> None:
        self._listeners[channel] = on_data
        subscribed = asyncio.get_running_loop().create_future()
        self._subscribed[channel] = subscribed
        await self._send({"op": "sub", "channel": channel})
        await asyncio.wait_for(subscribed, WAIT_SECONDS)

    async def publish(self, channel: str, data: str) -> None:
        ident, self._next_id = self._next_id, self._next_id + 1
        acked = asyncio.get_running_loop().create_future()
        self._acks[ident] = acked
        await self._send({"op": "pub", "channel": channel, "id": ident, "data": data})
        await asyncio.wait_for(acked, WAIT_SECONDS)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._ws is not None:
            await self._ws.close()

    async def _send(self, frame: dict) -> None:
        assert self._ws is not None
        await self._ws.send(json.dumps(frame))

    async def _read(self) -> None:
        assert self._ws is not None
        with contextlib.suppress(Exception):
            async for raw in self._ws:
                frame = json.loads(raw)
                op = frame.get("op")
                if op == "msg":
                    on_data = self._listeners.get(frame["channel"])
                    if on_data is not None:
                        on_data(frame["data"])
                elif op == "ack":
                    future = self._acks.pop(frame["id"], None)
                    if future is not None and not future.done():
                        future.set_result(None)
                elif op == "subscribed":
                    future = self._subscribed.pop(frame["channel"], None)
                    if future is not None and not future.done():
                        future.set_result(None)
