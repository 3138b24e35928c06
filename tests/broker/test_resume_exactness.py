"""ably-python resumes exactly: a subscriber cut off again and again mid-stream loses and doubles nothing.

One publisher streams a message by pipelined appends (as the agent does) under an append rollup window of 0,
40 or 200 ms; a subscriber's socket is dropped five times while it streams. Each drop stops reading first, so
what the broker sends next is in flight (a witness shows the stream moving on meanwhile), then kills the TCP
connection without a close frame, as a network failure would. The SDK resumes; the subscriber must end with
exactly the text the broker stored for the message, which must be exactly what was published.
"""

from __future__ import annotations

import asyncio

import pytest
from ably.types.message import Message, MessageAction

from tests.broker.realtime_helpers import Collector, bounded, fresh_channel, realtime, state_change

pytestmark = pytest.mark.live

HEAD = "Once upon a time: "
FRAGMENTS = [f"f{i:03d} " for i in range(240)]
TEXT = HEAD + "".join(FRAGMENTS)
APPEND_PAUSE_SECONDS = 0.01  # between pipelined appends: the stream lasts a few seconds
MOMENTS = [len(TEXT) * share // 100 for share in (10, 25, 40, 55, 70)]
IN_FLIGHT_CHARS = 30


def rebuilt(items: list) -> str:
    """The text a subscriber assembles: a full copy replaces, an append adds its delta."""
    text = ""
    for message in items:
        text = text + (message.data or "") if message.action == MessageAction.MESSAGE_APPEND else message.data
    return text


async def connect(server, **options):
    client = realtime(server, **options)
    await state_change(client.connection, "connected", "connection")
    return client


async def stream(channel, serial: str) -> list:
    """Append every fragment without waiting for the ACKs in between; returns the ACK results."""
    pending = []
    for fragment in FRAGMENTS:
        pending.append(asyncio.ensure_future(channel.append_message(Message(serial=serial, data=fragment))))
        await asyncio.sleep(APPEND_PAUSE_SECONDS)
    return await asyncio.gather(*pending)


@pytest.mark.parametrize("rollup_ms", [0, 40, 200])
async def test_a_subscriber_dropped_mid_stream_ends_with_exactly_the_stored_text(
    live_broker, server_db, rollup_ms
):
    channel = fresh_channel("resume")
    publisher = await connect(live_broker, transport_params={"appendRollupWindow": str(rollup_ms)})
    subscriber = await connect(live_broker, client_id="sub")
    witness = await connect(live_broker)
    streaming = None
    try:
        got, seen = Collector(), Collector()
        await subscriber.channels.get(channel).subscribe(got.add)
        await witness.channels.get(channel).subscribe(seen.add)
        pub = publisher.channels.get(channel)
        serial = (await pub.publish("answer", HEAD)).serials[0]
        connection_id = subscriber.connection.connection_manager.connection_id
        streaming = asyncio.ensure_future(stream(pub, serial))

        for moment in MOMENTS:
            await got.until(lambda items, moment=moment: len(rebuilt(items)) >= moment, f"{moment} chars")
            socket = subscriber.connection.connection_manager.transport.websocket
            socket.transport.pause_reading()
            in_flight_from = max(len(rebuilt(got.items)), len(rebuilt(seen.items))) + IN_FLIGHT_CHARS
            await seen.until(lambda items, n=in_flight_from: len(rebuilt(items)) >= n, "text in flight")
            assert not streaming.done(), f"the stream ended before the drop at {moment} chars"
            reconnected = asyncio.ensure_future(
                state_change(subscriber.connection, "connected", "reconnection")
            )
            await asyncio.sleep(0)  # the listener is registered before the socket dies
            socket.transport.abort()
            await reconnected
            # Resumed, not recovered as a new connection (which would be another, weaker, guarantee).
            assert subscriber.connection.connection_manager.connection_id == connection_id

        results = await bounded(streaming, "every append's ACK")
        assert len({result.version_serial for result in results}) == len(FRAGMENTS)
        last_version = results[-1].version_serial

        def has_last(items: list) -> bool:
            return any(m.version is not None and m.version.serial == last_version for m in items)

        await got.until(has_last, "the last append at the subscriber")
        await seen.until(has_last, "the last append at the witness")
        stored = await server_db(live_broker).stored_message(channel, serial)
        assert stored["data"] == TEXT
        assert rebuilt(got.items) == stored["data"]
        assert rebuilt(seen.items) == stored["data"]
        assert {m.serial for m in got.items} == {serial}
    finally:
        if streaming is not None and not streaming.done():
            streaming.cancel()
        for client in (publisher, subscriber, witness):
            await client.close()
