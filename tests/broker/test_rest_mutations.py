"""Updating, deleting and appending over REST with ably-python, and what history then shows."""

from __future__ import annotations

import pytest
from ably import AblyException
from ably.types.message import Message
from ably.types.operations import MessageOperation

from tests.support.ably_clients import fresh_channel, rest_client

pytestmark = pytest.mark.live

APPEND, UPDATE, DELETE, CREATE = 5, 1, 2, 0


async def _published(channel, name: str, data) -> Message:
    result = await channel.publish(name, data)
    return Message(serial=result.serials[0])


async def test_appends_roll_up_into_one_message_with_update_action(live_broker):
    async with rest_client(live_broker, default_token_params={"client_id": "agent"}) as rest:
        channel = rest.channels.get(fresh_channel("mut"))
        original = await _published(channel, "answer", "Hel")
        await channel.append_message(Message(serial=original.serial, data="lo"))
        done = await channel.append_message(
            Message(serial=original.serial, data=", world", extras={"headers": {"status": "complete"}}),
            MessageOperation(metadata={"phase": "done"}),
        )
        latest = await channel.get_message(original.serial)
        history = await channel.history()
    assert latest.data == "Hello, world" and latest.action == UPDATE
    assert latest.serial == original.serial and latest.name == "answer"
    assert latest.version.serial == done.version_serial > original.serial
    assert latest.version.metadata == {"phase": "done"}
    assert latest.extras == {"headers": {"status": "complete"}}
    assert [(m.serial, m.data) for m in history.items] == [(original.serial, "Hello, world")]


async def test_binary_appends_concatenate_bytes(live_broker):
    async with rest_client(live_broker) as rest:
        channel = rest.channels.get(fresh_channel("mut"))
        original = await _published(channel, "blob", b"\x00\x01")
        await channel.append_message(Message(serial=original.serial, data=b"\x02"))
        latest = await channel.get_message(original.serial)
    assert latest.data == b"\x00\x01\x02"


async def test_appending_text_to_binary_is_refused(live_broker):
    async with rest_client(live_broker) as rest:
        channel = rest.channels.get(fresh_channel("mut"))
        original = await _published(channel, "blob", b"\x00")
        with pytest.raises(AblyException) as refused:
            await channel.append_message(Message(serial=original.serial, data="text"))
        latest = await channel.get_message(original.serial)
    assert refused.value.code == 40013
    assert latest.data == b"\x00"


async def test_update_and_delete_are_versions_but_appends_are_not(live_broker):
    async with rest_client(live_broker, use_binary_protocol=False) as rest:
        channel = rest.channels.get(fresh_channel("mut"))
        original = await _published(channel, "draft", "v1")
        await channel.append_message(Message(serial=original.serial, data="+"))
        await channel.update_message(Message(serial=original.serial, name="final", data="v2"))
        await channel.delete_message(Message(serial=original.serial), MessageOperation(description="spam"))
        versions = await channel.get_message_versions(original.serial)
        latest = await channel.get_message(original.serial)
    assert [(v.action, v.name, v.data) for v in versions.items] == [
        (CREATE, "draft", "v1"),
        (UPDATE, "final", "v2"),
        (DELETE, "final", "v2"),
    ]
    assert latest.action == DELETE and latest.version.description == "spam"


async def test_mutations_need_the_update_capability(live_broker):
    channel_name = fresh_channel("mut")
    async with rest_client(live_broker) as server_side:
        original = await _published(server_side.channels.get(channel_name), "agent-output", "x")
        token = await server_side.auth.request_token(
            {"client_id": "browser", "capability": {channel_name: ["publish", "subscribe", "history"]}}
        )
    async with rest_client(live_broker, token_details=token) as browser:
        channel = browser.channels.get(channel_name)
        with pytest.raises(AblyException) as append_denied:
            await channel.append_message(Message(serial=original.serial, data="injected"))
        with pytest.raises(AblyException) as delete_denied:
            await channel.delete_message(Message(serial=original.serial))
        latest = await channel.get_message(original.serial)
    assert append_denied.value.code == 40160 and delete_denied.value.code == 40160
    assert latest.data == "x" and latest.action == CREATE


async def test_update_own_allows_only_the_original_publisher(live_broker):
    channel_name = fresh_channel("mut")
    capability = {channel_name: ["publish", "history", "message-update-own"]}
    async with rest_client(live_broker) as server_side:
        alice_token = await server_side.auth.request_token({"client_id": "alice", "capability": capability})
        bob_token = await server_side.auth.request_token({"client_id": "bob", "capability": capability})
    async with rest_client(live_broker, token_details=alice_token) as alice:
        mine = await _published(alice.channels.get(channel_name), "note", "a")
        await alice.channels.get(channel_name).append_message(Message(serial=mine.serial, data="b"))
    async with rest_client(live_broker, token_details=bob_token) as bob:
        with pytest.raises(AblyException) as denied:
            await bob.channels.get(channel_name).append_message(Message(serial=mine.serial, data="c"))
        latest = await bob.channels.get(channel_name).get_message(mine.serial)
    assert denied.value.code == 40160
    assert latest.data == "ab" and latest.client_id == "alice" and latest.version.client_id == "alice"


async def test_an_unknown_serial_is_not_found(live_broker):
    missing = "01700000000000-000@local:000"
    async with rest_client(live_broker) as rest:
        channel = rest.channels.get(fresh_channel("mut"))
        with pytest.raises(AblyException) as get_missing:
            await channel.get_message(missing)
        with pytest.raises(AblyException) as append_missing:
            await channel.append_message(Message(serial=missing, data="x"))
    assert get_missing.value.code == 40400 and get_missing.value.status_code == 404
    assert append_missing.value.code == 40400
