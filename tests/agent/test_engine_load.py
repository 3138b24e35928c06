"""Answers stay exact under load: a write flood on another user's channel, and a Stop among many runs.

The live server is the whole product (Daphne, embedded broker, in-process agent, demo model) on the
file-backed SQLite database it always uses. Peers authenticate as the browser does. What a subscriber
assembled from the stream is compared with what the agent stored (read through the ORM).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from chat.transport import wire
from tests.agent.conftest import DEMO_RATE, browser_clients, invoke, new_conversation
from tests.support.live_server import run_live_server
from tests.transport.conftest import Peer, headers, streamed_text

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def agent_server():
    """The agent's server with the per-connection inbound rate limit off: the flood here is about write
    contention at full speed, which a browser-token connection would otherwise be held to 50/s for
    (the limit has its own tests in tests/broker/test_hardening.py)."""
    env = {
        "DEMO_TOKENS_PER_SECOND": DEMO_RATE,
        "AGENT_HEARTBEAT_SECONDS": "0.5",
        "BROKER_MAX_INBOUND_RATE": "0",
    }
    with run_live_server(env) as server:
        yield server


CLOSING_WORDS = "That is all the demo model knows."  # the end of every complete demo answer
RUN_END_SECONDS = 50  # bound on a run under load (an unloaded demo answer takes about 5 s)
FLOOD_CONNECTIONS = 8
FLOOD_IN_FLIGHT = 16  # publishes each flooding connection keeps unacknowledged
FLOOD_REST_LOOPS = 6
FLOOD_PAYLOAD = "flood " * 40


async def start_run(user, peer: Peer, conversation_id: str, text: str) -> tuple[str, str]:
    event_id, codec_id = await peer.send_input(text)
    response = await invoke(user, event_id, conversation_id)
    assert response.status_code == 200, response.text
    return response.json()["runId"], codec_id


def end_reason(end) -> str:
    return headers(end)[wire.HEADER_RUN_REASON]


@dataclass
class Flood:
    """One user's publishes, as fast as the broker takes them, on their own channel; counts what came back."""

    clients: list
    channel_name: str
    acked: int = 0
    errors: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task] = field(default_factory=list)
    _counted: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> None:
        for clients in self.clients[:FLOOD_CONNECTIONS]:
            self.tasks.append(
                asyncio.ensure_future(self._realtime(clients.realtime.channels.get(self.channel_name)))
            )
        for clients in self.clients[:FLOOD_REST_LOOPS]:
            self.tasks.append(asyncio.ensure_future(self._rest(clients.rest.channels.get(self.channel_name))))

    async def _realtime(self, channel) -> None:
        in_flight: set[asyncio.Future] = set()
        while not self.stop.is_set():
            publish = asyncio.ensure_future(channel.publish("flood", FLOOD_PAYLOAD))
            publish.add_done_callback(self._count)
            in_flight.add(publish)
            publish.add_done_callback(in_flight.discard)
            if len(in_flight) >= FLOOD_IN_FLIGHT:
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.sleep(0)
        await asyncio.gather(*in_flight, return_exceptions=True)

    async def _rest(self, channel) -> None:
        while not self.stop.is_set():
            try:
                await channel.publish("flood-rest", FLOOD_PAYLOAD)
                self.acked += 1
                self._counted.set()
            except Exception as exc:
                self.errors.append(f"REST: {exc!r}")

    def _count(self, publish: asyncio.Future) -> None:
        if publish.cancelled():
            return
        if publish.exception() is not None:
            self.errors.append(f"realtime: {publish.exception()!r}")
        else:
            self.acked += 1
        self._counted.set()

    async def until_acked(self, count: int) -> None:
        async def wait() -> None:
            while self.acked < count:
                self._counted.clear()
                await self._counted.wait()

        try:
            await asyncio.wait_for(wait(), 20)
        except TimeoutError:
            raise AssertionError(f"the flood got {self.acked} ACKs, errors: {self.errors[:5]}") from None

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks), 30)


async def test_answers_stay_complete_and_exact_while_another_user_floods_their_channel(
    agent_server, web, peer_for, server_db
):
    flooder, alice = await web(), await web()
    flood_conversation = await new_conversation(flooder)
    flood_clients = [
        browser_clients(agent_server, flooder, flood_conversation) for _ in range(FLOOD_CONNECTIONS)
    ]
    flood = Flood(flood_clients, f"ai:{flood_conversation}")
    conversations = [await new_conversation(alice) for _ in range(3)]
    peers = [await peer_for(alice, conversation) for conversation in conversations]
    try:
        flood.start()
        await flood.until_acked(200)  # the flood is on before the first question is asked
        runs = await asyncio.gather(
            *[
                start_run(alice, peer, conversation, f"Question {n}: what makes a stream durable?")
                for n, (peer, conversation) in enumerate(zip(peers, conversations, strict=True))
            ]
        )
        acked_at_start = flood.acked
        ends = await asyncio.gather(
            *[
                peer.wait_run_end(run_id, RUN_END_SECONDS)
                for peer, (run_id, _) in zip(peers, runs, strict=True)
            ]
        )
        acked_during_runs = flood.acked - acked_at_start
        await flood.finish()
    finally:
        flood.stop.set()
        for clients in flood_clients:
            await clients.close()

    assert acked_during_runs > 0, "the flood had stopped before the answers streamed"
    assert flood.errors == []
    for peer, (run_id, _), end in zip(peers, runs, ends, strict=True):
        assert end_reason(end) == "complete", headers(end)
        stored = await server_db(agent_server).ended_run(run_id)
        assert (stored.status, stored.end_reason, stored.error_code) == ("complete", "complete", None)
        text = streamed_text(peer, run_id)
        assert stored.answer == ("complete", text)
        assert CLOSING_WORDS in text


async def test_stop_among_many_concurrent_runs_keeps_every_answer_exact(
    agent_server, web, peer_for, server_db
):
    alice = await web()
    conversations = [await new_conversation(alice) for _ in range(4)]
    peers = {conversation: await peer_for(alice, conversation) for conversation in conversations}
    plan = [conversations[n % len(conversations)] for n in range(12)]  # 12 runs, three per conversation
    runs = await asyncio.gather(
        *[
            start_run(alice, peers[conversation], conversation, f"Question {n}: explain streams, please.")
            for n, conversation in enumerate(plan)
        ]
    )
    stopped_peer, (stopped_run, stopped_input) = peers[plan[0]], runs[0]
    await stopped_peer.wait_for(
        lambda: len(streamed_text(stopped_peer, stopped_run)) > 40,
        "some of the answer to stop",
        RUN_END_SECONDS,
    )
    await stopped_peer.cancel(input_codec_message_id=stopped_input)
    ends = await asyncio.gather(
        *[
            peers[conversation].wait_run_end(run_id, RUN_END_SECONDS)
            for conversation, (run_id, _) in zip(plan, runs, strict=True)
        ]
    )

    for n, (conversation, (run_id, _), end) in enumerate(zip(plan, runs, ends, strict=True)):
        text = streamed_text(peers[conversation], run_id)
        stored = await server_db(agent_server).ended_run(run_id)
        if n == 0:
            assert end_reason(end) == "cancelled", headers(end)
            assert (stored.status, stored.end_reason) == ("cancelled", "cancelled")
            assert stored.answer == ("cancelled", text)
            assert len(text) > 40 and CLOSING_WORDS not in text
        else:
            assert end_reason(end) == "complete", (n, headers(end))
            assert (stored.status, stored.end_reason) == ("complete", "complete"), n
            assert stored.answer == ("complete", text), n
            assert CLOSING_WORDS in text, n
