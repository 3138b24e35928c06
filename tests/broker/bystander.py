"""A bystander stream for the hardening tests: one connection publishing a message and appending to it,
another subscribed, both raw WebSockets, while a test attacks the server from other connections.

The stream is what must not be disturbed: the subscriber's assembled text must equal what was
published, and the time between two of its deliveries (the worst gap) must stay small.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from broker.wire import Action, MessageAction
from tests.broker.realtime_helpers import RawPeer, bounded, fresh_channel
from tests.support.ably_clients import rest_client
from tests.support.live_server import LiveServer


async def issued_token(server: LiveServer) -> str:
    """A broker-issued token, as a browser holds (its connections are the rate-limited kind)."""
    rest = rest_client(server)
    try:
        return (await rest.auth.request_token()).token
    finally:
        await rest.close()


async def connected(server: LiveServer, query: str = "", *, binary: bool = False) -> RawPeer:
    """A raw peer authenticated like a browser, with an issued token (which takes precedence over the key)."""
    token = f"access_token={await issued_token(server)}"
    peer = await RawPeer.connect(server, f"{token}&{query}" if query else token, binary=binary)
    frame = await peer.recv()
    assert frame["action"] == Action.CONNECTED, frame
    return peer


async def attached(server: LiveServer, channel: str, *, binary: bool = False) -> RawPeer:
    peer = await connected(server, binary=binary)
    await peer.send({"action": Action.ATTACH, "channel": channel})
    frame, _ = await peer.recv_until(lambda f: f["action"] in (Action.ATTACHED, Action.ERROR))
    assert frame["action"] == Action.ATTACHED, frame
    return peer


async def still_answers_ping(peer: RawPeer, ping_id: str = "still-there") -> bool:
    """Whether the server still answers this socket's HEARTBEAT ping (a mute socket never does)."""
    try:
        await peer.send({"action": Action.HEARTBEAT, "id": ping_id})
        await peer.recv_until(lambda f: f["action"] == Action.HEARTBEAT and f.get("id") == ping_id)
    except Exception:  # closed or silent: either way not answered
        return False
    return True


def server_rss_kb(server: LiveServer) -> int:
    for line in Path(f"/proc/{server.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS for the server process")


def tracebacks(log: str) -> int:
    return log.count("Traceback (most recent call last)")


@dataclass
class Bystander:
    """Publishes one message and appends `tokens` to it at `interval`, while a subscriber assembles it."""

    server: LiveServer
    tokens: list[str]
    interval: float = 0.01
    channel: str = field(default_factory=lambda: fresh_channel("bystander"))
    published: str = ""
    assembled: str = ""
    worst_gap_ms: float = 0.0
    worst_ack_ms: float = 0.0
    _task: asyncio.Task | None = None
    _reader: asyncio.Task | None = None

    async def start(self, *, publisher_listens_to: tuple[str, ...] = ()) -> None:
        """Start streaming; the publisher also subscribes to `publisher_listens_to`, as the agent
        subscribes to every conversation it answers in."""
        self.subscriber = await attached(self.server, self.channel)
        self.publisher = await connected(self.server)
        for channel in publisher_listens_to:
            await self.publisher.send({"action": Action.ATTACH, "channel": channel})
            await self.publisher.recv_until(
                lambda f, c=channel: f["action"] == Action.ATTACHED and f["channel"] == c
            )
        self._progress = asyncio.Event()
        self._reader = asyncio.create_task(self._assemble())
        self._task = asyncio.create_task(self._stream())

    async def _publish(self, msg_serial: int, message: dict) -> dict:
        started = time.monotonic()
        await self.publisher.send(
            {
                "action": Action.MESSAGE,
                "channel": self.channel,
                "msgSerial": msg_serial,
                "messages": [message],
            }
        )
        ack, _ = await self.publisher.recv_until(
            lambda f: f["action"] in (Action.ACK, Action.NACK) and f.get("msgSerial") == msg_serial
        )
        assert ack["action"] == Action.ACK, ack
        self.worst_ack_ms = max(self.worst_ack_ms, (time.monotonic() - started) * 1000)
        return ack

    async def _stream(self) -> None:
        ack = await self._publish(0, {"name": "answer", "data": self.tokens[0]})
        self.published = self.tokens[0]
        serial = ack["res"][0]["serials"][0]
        for index, token in enumerate(self.tokens[1:], start=1):
            await asyncio.sleep(self.interval)
            await self._publish(index, {"action": MessageAction.APPEND, "serial": serial, "data": token})
            self.published += token

    async def _assemble(self) -> None:
        """Read the subscriber as frames arrive, so the gaps measured are the server's, not ours."""
        last = None
        while True:
            frame = await self.subscriber.recv()
            now = time.monotonic()
            if frame["action"] != Action.MESSAGE:
                continue
            for message in frame["messages"]:
                data = message.get("data") or ""
                appended = message.get("action") == MessageAction.APPEND
                self.assembled = self.assembled + data if appended else data
            if last is not None:
                self.worst_gap_ms = max(self.worst_gap_ms, (now - last) * 1000)
            last = now
            self._progress.set()

    async def finish(self) -> None:
        """Wait for the stream to end and the subscriber to hold all of it (or time out trying)."""
        await bounded(self._task, "the bystander's stream", seconds=120)

        async def complete() -> None:
            while self.assembled != self.published:
                self._progress.clear()
                await self._progress.wait()

        try:
            await bounded(complete(), "the subscriber to assemble the stream", seconds=30)
        finally:
            self._reader.cancel()
            await self.subscriber.close()
            await self.publisher.close()
