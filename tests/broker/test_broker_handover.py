"""Two broker processes behind one address: SIGTERM one mid-stream, clients move to the other.

Processes A and B share one database and a private Redis (cross-process fan-out). The clients reach
them through a plain TCP forwarder, as they would through a load balancer. Mid-stream the forwarder
starts sending new connections to B and A gets SIGTERM: A stores and ACKs what it accepted, tells
its clients DISCONNECTED (80003), and they reconnect at once, to B. The subscriber must end with
exactly the stored text and the publisher's text must be stored exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import os
import signal

from ably import AblyRealtime
from ably.types.message import Message

from tests.broker.realtime_helpers import bounded, fresh_channel, state_change
from tests.support.live_server import HOST, run_live_server
from tests.support.private_redis import private_redis_server

TOKENS = 240


class Forwarder:
    """Accepts on one port and pipes each connection to whichever backend port is current."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._pipe, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, self.target)
        except OSError:
            writer.close()
            return

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()


def _client(port: int, key: str, **options) -> AblyRealtime:
    return AblyRealtime(key=key, endpoint=f"{HOST}:{port}", tls=False, use_binary_protocol=True, **options)


async def test_sigterm_moves_clients_to_the_other_broker_with_nothing_lost_or_repeated():
    with (
        private_redis_server() as redis_url,
        run_live_server({"BROKER_REDIS_URL": redis_url}) as first,
        run_live_server({"BROKER_REDIS_URL": redis_url}, reuse=first) as second,
    ):
        forwarder = Forwarder(first.port)
        await forwarder.start()
        channel_name = fresh_channel("handover")
        publisher = _client(forwarder.port, first.api_key, client_id="agent")
        subscriber = _client(forwarder.port, first.api_key, client_id="reader")
        held: dict[str, object] = {}
        states: list = []
        try:
            await state_change(subscriber.connection, "connected", "subscriber")
            subscriber.connection.on(lambda change: states.append(change))

            def on_message(message) -> None:
                version = (message.version.serial if message.version else None) or message.serial
                if held and version <= held["version"]:
                    return
                if message.action.name == "MESSAGE_APPEND" and held:
                    held["text"] += message.data or ""
                else:
                    held["text"] = message.data or ""
                held["version"] = version
                held["done"] = (message.extras or {}).get("headers", {}).get("status") == "complete"

            await subscriber.channels.get(channel_name).subscribe(on_message)
            channel = publisher.channels.get(channel_name)
            serial = (await channel.publish("answer", "")).serials[0]
            intended, acks = "", []
            for index in range(TOKENS):
                token = f"t{index} "
                intended += token
                acks.append(asyncio.ensure_future(channel.append_message(Message(serial=serial, data=token))))
                await asyncio.sleep(0.005)
                if index == TOKENS // 2:
                    forwarder.target = second.port
                    os.kill(first.pid, signal.SIGTERM)
            last = Message(serial=serial, data="", extras={"headers": {"status": "complete"}})
            acks.append(asyncio.ensure_future(channel.append_message(last)))
            outcomes = await bounded(
                asyncio.gather(*acks, return_exceptions=True), "every append", seconds=60
            )
            failed = [o for o in outcomes if isinstance(o, BaseException)]
            if failed:
                # ably-python raises for a send on a closing socket instead of queueing it; a publisher
                # then repairs with one update, as our stream encoder does.
                repair = Message(serial=serial, data=intended, extras={"headers": {"status": "complete"}})
                await bounded(channel.update_message(repair), "the repair", seconds=30)

            async def finished() -> None:
                while not held.get("done"):
                    await asyncio.sleep(0.05)

            await bounded(finished(), "the subscriber to see the end", seconds=60)
            stored = await _stored_text(second, channel_name, serial)
        finally:
            await publisher.close()
            await subscriber.close()
            await forwarder.close()

    changed = [d for d in difflib.ndiff(intended.split(), stored.split()) if d[0] in "+-"]
    assert stored == intended, f"stored other than published ({len(failed)} repaired): {changed[:10]}"
    assert held["text"] == stored
    reasons = [getattr(change.reason, "code", None) for change in states if change.current == "disconnected"]
    assert 80003 in reasons, reasons


async def _stored_text(server, channel: str, serial: str) -> str:
    from tests.support.ably_clients import rest_client

    rest = rest_client(server)
    try:
        page = await rest.channels.get(channel).history()
        [message] = [m for m in page.items if m.serial == serial]
        return message.data
    finally:
        await rest.close()
