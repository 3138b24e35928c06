"""ably-python 3.1.4 realtime against the live broker, over msgpack and JSON.

Everything is asserted as the SDK reports it: delivered Message objects, PublishResult serials,
connection and channel state changes and AblyException codes.
"""

from __future__ import annotations

import asyncio

import pytest
from ably.types.message import Message, MessageAction
from ably.types.operations import MessageOperation
from ably.util.exceptions import AblyException

from tests.broker.realtime_helpers import (
    Collector,
    bounded,
    fresh_channel,
    realtime,
    state_change,
    token_callback,
)
from tests.support.ably_clients import rest_client
from tests.support.live_server import run_live_server

PRESENCE_LEAVE, PRESENCE_UPDATE = 3, 4

pytestmark = [pytest.mark.live, pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])]


async def connect(server, binary: bool, **options):
    client = realtime(server, binary=binary, **options)
    await state_change(client.connection, "connected", "connection")
    return client


def connection_id(client) -> str:
    return client.connection.connection_manager.connection_id


async def test_attach_subscribe_publish_ack(live_broker, binary):
    channel = fresh_channel()
    publisher = await connect(live_broker, binary, client_id="alice")
    subscriber = await connect(live_broker, binary, client_id="bob")
    try:
        got = Collector()
        await subscriber.channels.get(channel).subscribe(got.add)
        result = await publisher.channels.get(channel).publish("greeting", {"text": "hi"})
        assert len(result.serials) == 1 and result.serials[0]
        binary_result = await publisher.channels.get(channel).publish("blob", b"\x00\x01\xff")
        [greeting, blob] = await got.count(2)
        assert greeting.name == "greeting" and greeting.data == {"text": "hi"}
        assert greeting.serial == result.serials[0]
        assert greeting.client_id == "alice" and greeting.connection_id == connection_id(publisher)
        assert greeting.action == MessageAction.MESSAGE_CREATE
        assert blob.data == b"\x00\x01\xff" and blob.serial == binary_result.serials[0]
    finally:
        await publisher.close()
        await subscriber.close()


async def test_echo_false_connection_does_not_get_its_own_messages(live_broker, binary):
    channel = fresh_channel()
    quiet = await connect(live_broker, binary, transport_params={"echo": "false"})
    other = await connect(live_broker, binary)
    try:
        got = Collector()
        await quiet.channels.get(channel).subscribe(got.add)
        await quiet.channels.get(channel).publish("own", "mine")
        await other.channels.get(channel).publish("marker", "theirs")
        await got.until(lambda items: any(m.name == "marker" for m in items), "marker")
        assert [m.name for m in got.items] == ["marker"]
    finally:
        await quiet.close()
        await other.close()


async def test_mutations_seen_by_subscribers_attached_before_and_after_the_create(live_broker, binary):
    channel = fresh_channel()
    agent = await connect(
        live_broker, binary, client_id="agent", transport_params={"appendRollupWindow": "0"}
    )
    early_client = await connect(live_broker, binary)
    late_client = await connect(live_broker, binary)
    try:
        early, late = Collector(), Collector()
        await early_client.channels.get(channel).subscribe(early.add)
        ch = agent.channels.get(channel)
        serial = (await ch.publish("answer", "Hello")).serials[0]
        first = await ch.append_message(Message(serial=serial, data=", wor"))
        await ch.append_message(Message(serial=serial, data="ld"))
        await late_client.channels.get(channel).subscribe(late.add)
        last = await ch.append_message(
            Message(serial=serial, data="!", extras={"headers": {"status": "complete"}}),
            MessageOperation(description="last", metadata={"phase": "done"}),
        )
        edited = await ch.update_message(Message(serial=serial, data="Edited"))
        deleted = await ch.delete_message(Message(serial=serial))
        assert (
            len({first.version_serial, last.version_serial, edited.version_serial, deleted.version_serial})
            == 4
        )

        await early.count(6)
        await late.count(3)
        assert [(m.action, m.data) for m in early.items] == [
            (MessageAction.MESSAGE_CREATE, "Hello"),
            (MessageAction.MESSAGE_APPEND, ", wor"),
            (MessageAction.MESSAGE_APPEND, "ld"),
            (MessageAction.MESSAGE_APPEND, "!"),
            (MessageAction.MESSAGE_UPDATE, "Edited"),
            (MessageAction.MESSAGE_DELETE, "Edited"),
        ]
        assert [(m.action, m.data) for m in late.items] == [
            (MessageAction.MESSAGE_UPDATE, "Hello, world!"),
            (MessageAction.MESSAGE_UPDATE, "Edited"),
            (MessageAction.MESSAGE_DELETE, "Edited"),
        ]
        appended = early.items[3]
        assert appended.serial == serial and appended.version.serial == last.version_serial
        assert appended.extras == {"headers": {"status": "complete"}}
        assert appended.version.metadata == {"phase": "done"}
        assert late.items[0].version.serial == last.version_serial
    finally:
        for client in (agent, early_client, late_client):
            await client.close()


async def test_rollup_folds_appends_but_acks_each_one(live_broker, binary):
    channel = fresh_channel()
    agent = await connect(live_broker, binary, transport_params={"appendRollupWindow": "500"})
    watcher = await connect(live_broker, binary)
    try:
        got = Collector()
        await watcher.channels.get(channel).subscribe(got.add)
        ch = agent.channels.get(channel)
        serial = (await ch.publish("answer", "")).serials[0]
        tokens = [f"t{i} " for i in range(20)]
        # A streaming publisher pipelines its appends; each still gets its own ACK and version serial.
        pending = []
        for token in tokens:
            pending.append(asyncio.ensure_future(ch.append_message(Message(serial=serial, data=token))))
            await asyncio.sleep(0)
        results = await asyncio.gather(*pending)
        assert len({r.version_serial for r in results}) == len(tokens)
        text = "".join(tokens)

        def rebuilt(items) -> str:
            value = ""
            for m in items:
                value = value + m.data if m.action == MessageAction.MESSAGE_APPEND else m.data
            return value

        await got.until(lambda items: rebuilt(items) == text, "the whole text")
        assert len(got.items) < 1 + len(tokens)
        assert got.items[-1].version.serial == results[-1].version_serial
    finally:
        await agent.close()
        await watcher.close()


async def test_resume_after_a_dropped_socket_loses_and_doubles_nothing(live_broker, binary):
    channel = fresh_channel()
    subscriber = await connect(live_broker, binary, client_id="sub")
    publisher = await connect(live_broker, binary)
    observer = await connect(live_broker, binary)
    try:
        got, seen = Collector(), Collector()
        sub_channel = subscriber.channels.get(channel)
        await sub_channel.subscribe(got.add)
        await observer.channels.get(channel).subscribe(seen.add)
        pub = publisher.channels.get(channel)
        await pub.publish("m1", "one")
        await got.count(1)
        before = connection_id(subscriber)

        # Stop reading (what the server sends next is lost in flight), publish, then kill the TCP connection.
        socket = subscriber.connection.connection_manager.transport.websocket
        socket.transport.pause_reading()
        await pub.publish("m2", "two")
        pending_own = asyncio.ensure_future(sub_channel.publish("own", "mine"))
        await seen.until(lambda items: any(m.name == "own" for m in items), "own at the observer")
        socket.transport.abort()

        own = await bounded(pending_own, "the retransmitted publish's ACK")
        await got.until(lambda items: any(m.name == "own" for m in items), "replayed messages")
        await pub.publish("m3", "three")
        await got.until(lambda items: any(m.name == "m3" for m in items), "m3")
        await seen.until(lambda items: any(m.name == "m3" for m in items), "m3 at the observer")
        assert connection_id(subscriber) == before
        assert [m.name for m in got.items] == ["m1", "m2", "own", "m3"]
        assert [m.name for m in seen.items] == ["m1", "m2", "own", "m3"]
        assert own.serials == [seen.items[2].serial]
    finally:
        for client in (subscriber, publisher, observer):
            await client.close()


async def test_short_token_expiry_disconnects_with_40142_and_the_sdk_resumes_with_a_new_token(
    live_broker, binary
):
    channel = fresh_channel()
    callback = token_callback(live_broker, ttl=3000)
    client = await connect(live_broker, binary, auth_callback=callback)
    try:
        first = connection_id(client)
        got = Collector()
        await client.channels.get(channel).subscribe(got.add)
        drops, reconnects = Collector(), Collector()
        client.connection.on("disconnected", drops.add)
        client.connection.on("connected", reconnects.add)
        await reconnects.count(1)
        assert [(d.reason.code, d.reason.status_code) for d in drops.items] == [(40142, 401)]
        assert callback.calls == 2
        await client.channels.get(channel).publish("after", "renewal")
        await got.until(lambda items: [m.name for m in items] == ["after"], "the publish after renewal")
        assert connection_id(client) == first
    finally:
        await client.close()


async def test_long_token_is_renewed_by_server_auth_on_the_same_connection(binary):
    with run_live_server(extra_env={"BROKER_TOKEN_RENEWAL_LEAD_MS": "1500"}) as server:
        callback = token_callback(server, ttl=4000)
        client = await connect(server, binary, auth_callback=callback)
        try:
            first = connection_id(client)
            renewals, drops = Collector(), Collector()
            client.connection.on("update", renewals.add)
            client.connection.on("disconnected", drops.add)
            # AUTH 1.5 s before each expiry: two renewals mean the connection outlived its first token.
            await renewals.count(2)
            assert callback.calls >= 3 and drops.items == []
            assert connection_id(client) == first and client.connection.state == "connected"
        finally:
            await client.close()


async def test_expiry_without_renewal_disconnects_with_40142(live_broker, binary):
    issued = []
    fresh = token_callback(live_broker, ttl=2000)

    async def stale_callback(params):
        if not issued:
            issued.append(await fresh(params))
        return issued[0]

    client = realtime(live_broker, binary=binary, auth_callback=stale_callback)
    try:
        change = await state_change(client.connection, "disconnected", "connection")
        assert change.reason.code == 40142 and change.reason.status_code == 401
    finally:
        await client.close()


async def test_capability_errors_as_the_sdk_reports_them(live_broker, binary):
    callback = token_callback(
        live_broker, client_id="lim", capability={"open:*": ["publish", "subscribe"], "ro:*": ["subscribe"]}
    )
    limited = await connect(live_broker, binary, auth_callback=callback)
    owner = await connect(live_broker, binary)
    try:
        denied = limited.channels.get("secret:1")
        with pytest.raises(AblyException) as attach_error:
            await denied.attach()
        assert attach_error.value.code == 40160
        assert denied.state == "failed" and limited.connection.state == "connected"
        with pytest.raises(AblyException) as publish_error:
            await limited.channels.get(fresh_channel("ro")).publish("x", "y")
        assert publish_error.value.code == 40160
        open_name = fresh_channel("open")
        serial = (await owner.channels.get(open_name).publish("m", "text")).serials[0]
        with pytest.raises(AblyException) as append_error:
            await limited.channels.get(open_name).append_message(Message(serial=serial, data="!"))
        assert append_error.value.code == 40160
        with pytest.raises(AblyException) as unknown:
            await owner.channels.get(open_name).append_message(
                Message(serial="01700000000000-000@local:000", data="!")
            )
        assert unknown.value.code == 40400
        with pytest.raises(AblyException) as presence_error:
            await limited.channels.get(open_name).presence.enter("hi")
        assert presence_error.value.code == 40160
        assert (await limited.channels.get(open_name).publish("still", "fine")).serials[0]
    finally:
        await limited.close()
        await owner.close()


async def test_presence_enter_sync_update_and_leave(live_broker, binary):
    channel = fresh_channel()
    ann = await connect(live_broker, binary, client_id="ann")
    ben = await connect(live_broker, binary, client_id="ben")
    try:
        await ann.channels.get(channel).presence.enter({"status": "here"})
        members = await bounded(ben.channels.get(channel).presence.get(), "presence get")
        assert [(m.client_id, m.data) for m in members] == [("ann", {"status": "here"})]
        events = Collector()
        await ben.channels.get(channel).presence.subscribe(events.add)
        await ann.channels.get(channel).presence.update({"status": "busy"})
        await ann.close()
        await events.count(2)
        assert [(e.action, e.client_id) for e in events.items] == [
            (PRESENCE_UPDATE, "ann"),
            (PRESENCE_LEAVE, "ann"),
        ]
        assert await bounded(ben.channels.get(channel).presence.get(), "presence get") == []
    finally:
        await ben.close()


async def test_rest_publishes_and_mutations_reach_realtime_subscribers(live_broker, binary):
    channel = fresh_channel()
    subscriber = await connect(live_broker, binary)
    rest = rest_client(live_broker, use_binary_protocol=binary)
    try:
        got = Collector()
        await subscriber.channels.get(channel).subscribe(got.add)
        serial = (await rest.channels.get(channel).publish("rest", "Hi")).serials[0]
        await rest.channels.get(channel).append_message(Message(serial=serial, data=" there"))
        await got.count(2)
        assert [(m.action, m.data, m.serial) for m in got.items] == [
            (MessageAction.MESSAGE_CREATE, "Hi", serial),
            (MessageAction.MESSAGE_APPEND, " there", serial),
        ]
    finally:
        await subscriber.close()
