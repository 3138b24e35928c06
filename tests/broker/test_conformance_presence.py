"""Presence as Ably serves it: enterClient for key connections, remainPresentFor, REST presence."""

from __future__ import annotations

import httpx
import pytest

from broker.wire import Action, PresenceAction
from tests.broker.realtime_helpers import RawPeer, fresh_channel, realtime, state_change
from tests.support.ably_clients import rest_client
from tests.support.node_scripts import run_scenario

pytestmark = pytest.mark.live


def test_ably_js_key_connection_enters_for_others_and_rest_reads_presence(live_broker):
    channel = fresh_channel("presence")
    lines = run_scenario(
        "conformance_presence.mjs", {"port": live_broker.port, "key": live_broker.api_key, "channel": channel}
    )
    [result] = [line for line in lines if line["event"] == "result"]
    assert all(outcome["ok"] for outcome in result["outcomes"].values()), result["outcomes"]
    assert result["members"] == [
        {"clientId": "bob", "action": "present", "data": "again"},
        {"clientId": "carol", "action": "present", "data": {"role": "guest"}},
    ]
    assert result["onlyCarol"] == ["carol"]
    assert result["batch"] == {
        "successCount": 1,
        "failureCount": 1,
        "results": [
            {"channel": channel, "clientIds": ["bob", "carol"], "code": None},
            {"channel": ":bad", "clientIds": None, "code": 40010},
        ],
    }
    assert result["history"] == [
        {"clientId": "bob", "action": "enter"},
        {"clientId": "carol", "action": "enter"},
        {"clientId": "bob", "action": "update"},
        {"clientId": "bob", "action": "leave"},
    ]
    assert result["hasNext"]


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_ably_python_enter_client_and_rest_presence(live_broker, binary):
    channel_name = fresh_channel("presence")
    client = realtime(live_broker, binary=binary, key=live_broker.api_key)
    try:
        await state_change(client.connection, "connected", "connection")
        channel = client.channels.get(channel_name)
        await channel.attach()
        await channel.presence.enter_client("dora", "hi")
        await channel.presence.update_client("dora", b"\x00\x01")
        async with rest_client(live_broker, use_binary_protocol=binary) as rest:
            members = await rest.channels.get(channel_name).presence.get()
            history = await rest.channels.get(channel_name).presence.history()
        assert [(m.client_id, m.data) for m in members.items] == [("dora", b"\x00\x01")]
        assert [m.action for m in history.items] == [PresenceAction.UPDATE, PresenceAction.ENTER]
    finally:
        await client.close()


async def test_remain_present_for_sets_how_long_a_dropped_member_stays(live_broker):
    channel = fresh_channel("presence")
    watcher = await RawPeer.connect(live_broker)
    member = await RawPeer.connect(live_broker, "clientId=eve&remainPresentFor=300")
    try:
        await watcher.recv()
        await watcher.send({"action": Action.ATTACH, "channel": channel})
        await watcher.recv_until(lambda f: f.get("action") == Action.ATTACHED)
        await member.recv()
        await member.send(
            {"action": Action.PRESENCE, "channel": channel, "msgSerial": 0, "presence": [{"action": 2}]}
        )
        entered, _ = await watcher.recv_until(lambda f: f.get("action") == Action.PRESENCE)
        await member.socket.close()  # abruptly: no CLOSE frame
        # remainPresentFor=300: eve leaves within a second, not after the default 15 s.
        left, _ = await watcher.recv_until(lambda f: f.get("action") == Action.PRESENCE)
    finally:
        await watcher.close()
    assert entered["presence"][0]["action"] == PresenceAction.ENTER
    assert [(p["clientId"], p["action"]) for p in left["presence"]] == [("eve", PresenceAction.LEAVE)]
    assert left["presence"][0]["timestamp"] - entered["presence"][0]["timestamp"] < 5000


async def test_presence_fixtures_of_a_sandbox_app_are_members(live_broker):
    channel = fresh_channel("persisted:presence_fixtures")
    spec = {
        "keys": [{}],
        "channels": [{"name": channel, "presence": [{"clientId": "client_bool", "data": "true"}]}],
    }
    async with httpx.AsyncClient() as http:
        created = await http.post(live_broker.url("/apps"), json=spec)
    key = created.json()["keys"][0]["keyStr"]
    async with rest_client(live_broker, key=key) as rest:
        members = await rest.channels.get(channel).presence.get()
    assert [(m.client_id, m.data) for m in members.items] == [("client_bool", "true")]
