"""The realtime wire protocol as a peer sees it, driven by a raw WebSocket for what no SDK would send.

Every bad-input case runs next to a bystander connection that must keep working afterwards.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from broker.wire import DEFAULT_MODES, MODE_FLAGS, Action, Flag
from tests.broker.realtime_helpers import RawPeer, bounded, fresh_channel
from tests.support.ably_clients import rest_client
from tests.support.live_server import run_live_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def quick_timers():
    """A server whose heartbeat interval and presence leave delay are short enough to observe."""
    with run_live_server(
        {"BROKER_MAX_IDLE_INTERVAL_MS": "300", "BROKER_PRESENCE_LEAVE_DELAY_MS": "0"}
    ) as server:
        yield server


async def token_for(server, **params) -> str:
    details = await rest_client(server, use_binary_protocol=False).auth.request_token(token_params=params)
    return details.token


async def connected_peer(server, query: str = "", *, binary: bool = False) -> tuple[RawPeer, dict]:
    peer = await RawPeer.connect(server, query, binary=binary)
    connected = await peer.recv()
    assert connected["action"] == Action.CONNECTED, connected
    return peer, connected


async def attached_peer(server, channel: str) -> RawPeer:
    peer, _ = await connected_peer(server)
    await peer.send({"action": Action.ATTACH, "channel": channel})
    attached = await peer.recv()
    assert attached["action"] == Action.ATTACHED
    return peer


async def assert_still_served(server, bystander: RawPeer, channel: str) -> None:
    """The bystander, attached to `channel`, still gets what a fresh connection publishes."""
    publisher, _ = await connected_peer(server)
    await publisher.send(
        {"action": Action.MESSAGE, "channel": channel, "msgSerial": 0, "messages": [{"name": "alive"}]}
    )
    frame, _ = await bystander.recv_until(lambda f: f["action"] == Action.MESSAGE)
    assert frame["messages"][0]["name"] == "alive"
    await publisher.close()


@pytest.mark.parametrize("binary", [False, True], ids=["json", "msgpack"])
async def test_connected_carries_full_connection_details(live_broker, binary):
    peer, connected = await connected_peer(live_broker, binary=binary)
    details = connected["connectionDetails"]
    connection_id = connected["connectionId"]
    assert ":" not in connection_id and "!" not in connection_id
    assert details["connectionKey"] == connected["connectionKey"]
    assert details["connectionKey"].startswith(connection_id + "!")
    assert details["maxMessageSize"] == 65536
    assert details["connectionStateTtl"] == 120000
    assert details["maxIdleInterval"] > 0
    assert details["maxFrameSize"] >= 65536
    assert details["serverId"] and details["siteCode"]
    await peer.close()


async def test_ping_with_id_is_echoed(live_broker):
    peer, _ = await connected_peer(live_broker)
    await peer.send({"action": Action.HEARTBEAT, "id": "ping-7"})
    assert await peer.recv() == {"action": Action.HEARTBEAT, "id": "ping-7"}
    await peer.close()


async def test_idle_connection_gets_server_heartbeats(quick_timers):
    peer, connected = await connected_peer(quick_timers, binary=True)
    assert connected["connectionDetails"]["maxIdleInterval"] == 300
    assert await peer.recv() == {"action": Action.HEARTBEAT}
    assert await peer.recv() == {"action": Action.HEARTBEAT}
    await peer.close()


async def test_connectivity_check_path_accepts_a_bare_upgrade(live_broker):
    import websockets

    socket = await bounded(websockets.connect(f"ws://127.0.0.1:{live_broker.port}/ws-up"))
    await socket.close()


async def test_close_answers_closed_and_forgets_the_connection(live_broker):
    peer, connected = await connected_peer(live_broker)
    await peer.send({"action": Action.CLOSE})
    assert (await peer.recv())["action"] == Action.CLOSED
    await peer.closed()
    again, reconnected = await connected_peer(live_broker, f"resume={connected['connectionKey']}")
    assert reconnected["connectionId"] != connected["connectionId"]
    assert reconnected["error"]["code"] == 80008
    await again.close()


async def test_resume_keeps_the_connection_id_and_bad_keys_get_a_new_one(live_broker):
    peer, connected = await connected_peer(live_broker)
    peer.socket.transport.abort()
    resumed, again = await connected_peer(live_broker, f"resume={connected['connectionKey']}")
    assert again["connectionId"] == connected["connectionId"]
    assert "error" not in again
    malformed, fresh = await connected_peer(live_broker, "resume=not-a-key")
    assert fresh["error"]["code"] == 80018 and fresh["connectionId"] != connected["connectionId"]
    unknown, fresh = await connected_peer(live_broker, "recover=abc!def")
    assert fresh["error"]["code"] == 80008
    for p in (resumed, malformed, unknown):
        await p.close()


async def test_attached_grants_modes_and_a_channel_serial(live_broker):
    channel = fresh_channel()
    peer, _ = await connected_peer(live_broker)
    await peer.send({"action": Action.ATTACH, "channel": channel, "params": None})
    attached = await peer.recv()
    assert attached["channel"] == channel
    assert attached["flags"] & MODE_FLAGS == DEFAULT_MODES
    assert attached["channelSerial"]
    await peer.send({"action": Action.ATTACH, "channel": channel + "b", "flags": int(Flag.SUBSCRIBE)})
    assert (await peer.recv())["flags"] & MODE_FLAGS == Flag.SUBSCRIBE
    await peer.close()


async def test_no_channel_traffic_before_attached_and_none_doubled(live_broker):
    channel = fresh_channel()
    publisher, _ = await connected_peer(live_broker)
    subscriber, _ = await connected_peer(live_broker)
    for serial in range(30):
        await publisher.send(
            {
                "action": Action.MESSAGE,
                "channel": channel,
                "msgSerial": serial,
                "messages": [{"data": str(serial)}],
            }
        )
        if serial == 10:
            await subscriber.send({"action": Action.ATTACH, "channel": channel})
    acks = 0
    while acks < 30:
        frame = await publisher.recv()
        # One ACK frame may settle several consecutive msgSerials (`count`).
        acks += frame["count"] if frame["action"] == Action.ACK else 0
    await publisher.send(
        {"action": Action.MESSAGE, "channel": channel, "msgSerial": 30, "messages": [{"data": "end"}]}
    )
    first = await subscriber.recv()
    assert first["action"] == Action.ATTACHED
    _, frames = await subscriber.recv_until(
        lambda f: f["action"] == Action.MESSAGE and f["messages"][0]["data"] == "end"
    )
    serials = [f["messages"][0]["serial"] for f in frames]
    assert all(s > first["channelSerial"] for s in serials)
    assert serials == sorted(set(serials))
    for p in (publisher, subscriber):
        await p.close()


async def test_detach_stops_delivery(live_broker):
    channel = fresh_channel()
    subscriber = await attached_peer(live_broker, channel)
    await subscriber.send({"action": Action.DETACH, "channel": channel})
    assert await subscriber.recv() == {"action": Action.DETACHED, "channel": channel}
    publisher, _ = await connected_peer(live_broker)
    await publisher.send(
        {"action": Action.MESSAGE, "channel": channel, "msgSerial": 0, "messages": [{"data": "x"}]}
    )
    assert (await publisher.recv())["action"] == Action.ACK
    await subscriber.send({"action": Action.HEARTBEAT, "id": "after"})
    assert await subscriber.recv() == {"action": Action.HEARTBEAT, "id": "after"}
    for p in (publisher, subscriber):
        await p.close()


async def test_retransmitted_msg_serial_is_answered_from_the_stored_ack(live_broker):
    channel = fresh_channel()
    bystander = await attached_peer(live_broker, channel)
    peer, _ = await connected_peer(live_broker)
    publish = {"action": Action.MESSAGE, "channel": channel, "msgSerial": 0, "messages": [{"data": "once"}]}
    await peer.send(publish)
    first, _ = await peer.recv_until(lambda f: f["action"] == Action.ACK)
    await peer.send(publish)
    second, _ = await peer.recv_until(lambda f: f["action"] == Action.ACK)
    assert first == second and first["res"][0]["serials"][0]
    await peer.send(
        {"action": Action.MESSAGE, "channel": channel, "msgSerial": 1, "messages": [{"data": "end"}]}
    )
    _, frames = await bystander.recv_until(lambda f: f.get("messages", [{}])[0].get("data") == "end")
    assert [f["messages"][0]["data"] for f in frames] == ["once"]
    for p in (bystander, peer):
        await p.close()


FATAL_FRAMES = [
    pytest.param("{not json", 40001, id="malformed-json"),
    pytest.param(b"\xc1", 40001, id="malformed-msgpack"),
    pytest.param("[1, 2]", 40001, id="not-an-object"),
    pytest.param(json.dumps({"action": 99}), 40000, id="unknown-action"),
    pytest.param(json.dumps({"action": "15"}), 40000, id="action-not-int"),
    pytest.param(json.dumps({"action": Action.ACK, "msgSerial": 0}), 40000, id="server-only-action"),
    pytest.param(
        json.dumps({"action": 15, "msgSerial": "0", "channel": "x", "messages": []}), 40000, id="serial-str"
    ),
    pytest.param(json.dumps({"action": Action.AUTH, "auth": {}}), 40000, id="auth-without-token"),
    pytest.param("x" * 600_000, 40009, id="frame-too-large"),
]


@pytest.mark.parametrize(("raw", "code"), FATAL_FRAMES)
async def test_unreadable_frames_fail_only_their_own_connection(live_broker, raw, code):
    channel = fresh_channel()
    bystander = await attached_peer(live_broker, channel)
    peer, _ = await connected_peer(live_broker)
    await peer.send_raw(raw)
    error = await peer.recv()
    assert error["action"] == Action.ERROR and "channel" not in error
    assert error["error"]["code"] == code and error["error"]["statusCode"] and error["error"]["message"]
    await peer.closed()
    await assert_still_served(live_broker, bystander, channel)
    await bystander.close()


NACKED_PUBLISHES = [
    pytest.param({"messages": "hi"}, 40000, id="messages-not-a-list"),
    pytest.param({"messages": [{"name": 5}]}, 40000, id="name-not-a-string"),
    pytest.param({"messages": [{"data": 12}]}, 40013, id="data-a-number"),
    pytest.param({"channel": 5, "messages": [{"data": "x"}]}, 40010, id="channel-not-a-string"),
    pytest.param({"messages": [{"data": "x" * 70_000}]}, 40009, id="over-64KiB"),
    pytest.param({"messages": [{"data": "x", "action": 5}]}, 40003, id="append-without-serial"),
    pytest.param(
        {"messages": [{"data": "x", "action": 5, "serial": "01700000000000-000@local:000"}]},
        40400,
        id="append-unknown-serial",
    ),
    pytest.param({"messages": [{"data": "x", "action": 4}]}, 40003, id="summary-action"),
]


@pytest.mark.parametrize("binary", [False, True], ids=["json", "msgpack"])
@pytest.mark.parametrize(("fields", "code"), NACKED_PUBLISHES)
async def test_bad_publishes_are_nacked_and_the_connection_carries_on(live_broker, fields, code, binary):
    channel = fresh_channel()
    peer, _ = await connected_peer(live_broker, binary=binary)
    await peer.send({"action": Action.MESSAGE, "channel": channel, "msgSerial": 0, **fields})
    nack = await peer.recv()
    assert nack["action"] == Action.NACK and nack["msgSerial"] == 0 and nack["count"] == 1
    assert nack["error"]["code"] == code
    await peer.send(
        {"action": Action.MESSAGE, "channel": channel, "msgSerial": 1, "messages": [{"data": "ok"}]}
    )
    ack, _ = await peer.recv_until(lambda f: f["action"] in (Action.ACK, Action.NACK))
    assert ack["action"] == Action.ACK and ack["msgSerial"] == 1
    await peer.close()


async def test_unsupported_ack_required_actions_are_nacked(live_broker):
    peer, _ = await connected_peer(live_broker)
    await peer.send({"action": Action.OBJECT, "channel": "a", "msgSerial": 0, "state": []})
    nack = await peer.recv()
    assert nack["action"] == Action.NACK and nack["error"]["code"] == 40000
    await peer.send({"action": Action.ANNOTATION, "channel": "a", "msgSerial": 1, "annotations": []})
    invalid = await peer.recv()
    assert invalid["action"] == Action.NACK and invalid["error"]["code"] == 40003
    await peer.close()


async def test_bad_attach_params_fail_only_the_channel(live_broker):
    peer, _ = await connected_peer(live_broker)
    await peer.send({"action": Action.ATTACH, "channel": "c:1", "params": ["appendMode"]})
    error = await peer.recv()
    assert error["action"] == Action.ERROR and error["channel"] == "c:1" and error["error"]["code"] == 40003
    await peer.send({"action": Action.HEARTBEAT, "id": "alive"})
    assert await peer.recv() == {"action": Action.HEARTBEAT, "id": "alive"}
    await peer.close()


async def test_identity_errors_on_the_wire(live_broker):
    token = await token_for(live_broker, client_id="alice")
    peer = await RawPeer.connect(live_broker, f"access_token={token}&clientId=mallory")
    error = await peer.recv()
    assert error["action"] == Action.ERROR and error["error"]["code"] == 40102
    await peer.closed()
    alice = await RawPeer.connect(live_broker, f"accessToken={token}")
    assert (await alice.recv())["connectionDetails"]["clientId"] == "alice"
    await alice.send(
        {
            "action": Action.MESSAGE,
            "channel": "c",
            "msgSerial": 0,
            "messages": [{"data": "x", "clientId": "bob"}],
        }
    )
    assert (await alice.recv())["error"]["code"] == 40012
    await alice.close()


async def test_expired_token_on_connect_is_a_token_error(live_broker):
    token = await token_for(live_broker, ttl=1)
    peer = await RawPeer.connect(live_broker, f"access_token={token}")
    error = await peer.recv()
    assert error["action"] == Action.ERROR and error["error"]["code"] == 40142
    assert error["error"]["statusCode"] == 401
    await peer.closed()


async def test_a_short_token_gets_no_early_auth_only_disconnected_40142_at_expiry(live_broker):
    token = await token_for(live_broker, ttl=1500)
    peer = await RawPeer.connect(live_broker, f"access_token={token}")
    assert (await peer.recv())["action"] == Action.CONNECTED
    disconnected = await peer.recv()
    assert disconnected["action"] == Action.DISCONNECTED and disconnected["error"]["code"] == 40142
    await peer.closed()


async def test_client_reauth_keeps_the_connection_past_the_old_expiry(live_broker):
    token = await token_for(live_broker, ttl=1500)
    peer = await RawPeer.connect(live_broker, f"access_token={token}")
    connected = await peer.recv()
    started = time.monotonic()
    await peer.send({"action": Action.AUTH, "auth": {"accessToken": await token_for(live_broker, ttl=3000)}})
    again = await peer.recv()
    assert again["action"] == Action.CONNECTED and again["connectionId"] == connected["connectionId"]
    # Nothing until the new token expires: the old expiry passes unnoticed.
    disconnected = await peer.recv()
    assert disconnected["action"] == Action.DISCONNECTED and disconnected["error"]["code"] == 40142
    assert time.monotonic() - started > 2.0
    await peer.close()


async def test_presence_leaves_when_a_connection_drops(quick_timers):
    channel = fresh_channel()
    watcher = await attached_peer(quick_timers, channel)
    token = await token_for(quick_timers, client_id="ann")
    member = await RawPeer.connect(quick_timers, f"access_token={token}")
    await member.recv()
    await member.send(
        {"action": Action.PRESENCE, "channel": channel, "msgSerial": 0, "presence": [{"action": 2}]}
    )
    assert (await member.recv())["action"] == Action.ACK
    entered, _ = await watcher.recv_until(lambda f: f["action"] == Action.PRESENCE)
    assert entered["presence"][0]["clientId"] == "ann" and entered["presence"][0]["action"] == 2
    member.socket.transport.abort()
    left, _ = await watcher.recv_until(lambda f: f["action"] == Action.PRESENCE)
    [leave] = left["presence"]
    assert leave["action"] == 3 and leave["clientId"] == "ann"
    assert not leave["id"].startswith(entered["presence"][0]["connectionId"])
    await watcher.close()


async def test_many_bad_connections_do_not_disturb_a_good_one(live_broker):
    channel = fresh_channel()
    bystander = await attached_peer(live_broker, channel)

    async def misbehave() -> None:
        peer, _ = await connected_peer(live_broker)
        await peer.send_raw("\x00garbage")
        await peer.recv()
        await peer.closed()

    await bounded(asyncio.gather(*(misbehave() for _ in range(10))))
    await assert_still_served(live_broker, bystander, channel)
    await bystander.close()
