"""Fixtures for the transport tests: a live broker and Ably peers built with our client factory."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from ably.types.message import Message

from chat.transport import wire
from chat.transport.clients import AblyClients, AblyTarget, build_clients
from chat.transport.envelope import build_extras, transport_headers
from chat.transport.session import AgentSession
from tests.support.live_server import LiveServer, live_broker

__all__ = ["live_broker"]

USER_GRANT = {"ai:*": ["publish", "subscribe", "history"]}
WAIT_SECONDS = 10


@dataclass
class Peer:
    """A browser-like participant: publishes inputs and cancels, records everything it receives."""

    clients: AblyClients
    channel_name: str
    client_id: str
    received: list[Any] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def channel(self) -> Any:
        return self.clients.realtime.channels.get(self.channel_name)

    async def attach(self) -> None:
        await self.channel.subscribe(self._on_message)

    def _on_message(self, message: Any) -> None:
        self.received.append(message)
        self._arrived.set()

    async def send_input(self, text: str) -> tuple[str, str]:
        """Publish a fresh user message; returns (event-id, codec-message-id)."""
        event_id, codec_id = str(uuid.uuid4()), str(uuid.uuid4())
        transport = {
            wire.HEADER_ROLE: wire.ROLE_USER,
            wire.HEADER_CODEC_MESSAGE_ID: codec_id,
            wire.HEADER_EVENT_ID: event_id,
            wire.HEADER_RUN_CLIENT_ID: self.client_id,
            wire.HEADER_STREAM: wire.FALSE,
            wire.HEADER_DISCRETE: wire.TRUE,
        }
        codec = {wire.CODEC_KIND: wire.INPUT_KIND_USER_MESSAGE, wire.CODEC_PART_TYPE: "text"}
        await self.channel.publish(
            Message(name=wire.EVENT_INPUT, data=text, extras=build_extras(transport, codec))
        )
        return event_id, codec_id

    async def cancel(self, *, run_id: str | None = None, input_codec_message_id: str | None = None) -> None:
        transport = {wire.HEADER_EVENT_ID: str(uuid.uuid4())}
        if run_id:
            transport[wire.HEADER_RUN_ID] = run_id
        if input_codec_message_id:
            transport[wire.HEADER_INPUT_CODEC_MESSAGE_ID] = input_codec_message_id
        await self.channel.publish(Message(name=wire.EVENT_CANCEL, extras=build_extras(transport)))

    def named(self, name: str) -> list[Any]:
        return [m for m in self.received if m.name == name]

    async def wait_for(self, predicate, what: str, seconds: float = WAIT_SECONDS) -> None:
        async def poll() -> None:
            while not predicate():
                self._arrived.clear()
                await self._arrived.wait()

        try:
            await asyncio.wait_for(poll(), seconds)
        except TimeoutError as exc:
            names = [m.name for m in self.received]
            raise AssertionError(f"timed out waiting for {what}; received {names}") from exc

    async def wait_run_end(self, run_id: str, seconds: float = WAIT_SECONDS) -> Any:
        def ended() -> list[Any]:
            return [m for m in self.named(wire.EVENT_RUN_END) if headers(m).get(wire.HEADER_RUN_ID) == run_id]

        await self.wait_for(lambda: bool(ended()), f"ai-run-end of {run_id}", seconds)
        return ended()[0]


def headers(message: Any) -> dict[str, str]:
    return transport_headers(message.extras)


def text_stream(peer: Peer, run_id: str) -> tuple[str, list[str]]:
    """The text a subscriber rebuilds from a run's stream creates and appends, and the statuses it saw."""
    text, statuses = "", []
    for m in peer.named(wire.EVENT_OUTPUT):
        h = headers(m)
        if h.get(wire.HEADER_RUN_ID) != run_id or h.get(wire.HEADER_STREAM) != wire.TRUE:
            continue
        text = text + (m.data or "") if m.action == 5 else (m.data or "")
        statuses.append(h.get(wire.HEADER_STATUS))
    return text, statuses


def streamed_text(peer: Peer, run_id: str) -> str:
    return text_stream(peer, run_id)[0]


def target_of(server: LiveServer) -> AblyTarget:
    return AblyTarget("127.0.0.1", server.port, tls=False)


@pytest.fixture
def channel_name() -> str:
    return f"ai:{uuid.uuid4()}"


@pytest.fixture
async def make_peer(live_broker, channel_name) -> AsyncIterator:
    made: list[AblyClients] = []

    async def make(client_id: str = "user:1", attach: bool = True) -> Peer:
        clients = build_clients(
            live_broker.api_key, target_of(live_broker), client_id=client_id, capability=USER_GRANT
        )
        made.append(clients)
        peer = Peer(clients, channel_name, client_id)
        if attach:
            await peer.attach()
        return peer

    yield make
    for clients in made:
        await clients.close()


@pytest.fixture
async def agent_session(live_broker, channel_name) -> AsyncIterator[AgentSession]:
    clients = build_clients(live_broker.api_key, target_of(live_broker))
    session = AgentSession(clients.realtime, channel_name, history_client=clients.rest)
    await session.connect()
    yield session
    await session.detach()
    await clients.close()


async def slow_answer(
    words: list[str], delay: float, closed: asyncio.Event | None = None
) -> AsyncIterator[dict]:
    """A model stand-in: one text part streamed word by word; sets `closed` when the stream is closed."""
    try:
        yield {"type": "start"}
        yield {"type": "text-start", "id": "t1"}
        for word in words:
            await asyncio.sleep(delay)
            yield {"type": "text-delta", "id": "t1", "delta": word}
        yield {"type": "text-end", "id": "t1"}
        yield {"type": "finish", "finishReason": "stop"}
    finally:
        if closed is not None:
            closed.set()
