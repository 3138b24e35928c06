"""Issue 10: hostile input over both transports gets an Ably error, never a 5xx, a traceback or a
mute socket, and one connection's flood does not stall another connection's stream.

One regression test per observed failure, each against a live server whose log must stay free of
tracebacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time

import httpx
import msgpack
import pytest
import websockets

from broker.wire import Action
from tests.broker.bystander import Bystander, attached, connected, still_answers_ping, tracebacks
from tests.broker.realtime_helpers import RawPeer, bounded, fresh_channel
from tests.support.ably_clients import basic_auth
from tests.support.live_server import BASE_DIR, run_live_server

pytestmark = pytest.mark.live

SURROGATE = "\ud800"
DEEP_JSON = "[" * 100_000 + "]" * 100_000
BIG_INT = 2**70


@pytest.fixture(scope="module")
def server():
    with run_live_server() as live:
        yield live


@pytest.fixture(autouse=True)
def _no_tracebacks(request):
    """Whatever the test sent, the server must not have logged a traceback for it."""
    servers = [
        request.getfixturevalue(name) for name in ("server", "limited") if name in request.fixturenames
    ]
    before = [tracebacks(live.log()) for live in servers]
    yield
    for live, count in zip(servers, before, strict=True):
        log = live.log()
        assert tracebacks(log) == count, log[-4000:]


async def publish_frame(peer: RawPeer, msg_serial: int, message: dict, channel: str = "hard:x") -> dict:
    await peer.send(
        {"action": Action.MESSAGE, "channel": channel, "msgSerial": msg_serial, "messages": [message]}
    )
    reply, _ = await peer.recv_until(lambda f: f["action"] in (Action.ACK, Action.NACK, Action.ERROR))
    return reply


async def assert_nacked_then_carries_on(server, message: dict, code: int) -> None:
    peer = await connected(server)
    nack = await publish_frame(peer, 0, message)
    assert nack["action"] == Action.NACK and nack["msgSerial"] == 0, nack
    assert nack["error"]["code"] == code, nack
    assert (await publish_frame(peer, 1, {"data": "fine"}))["action"] == Action.ACK
    assert await still_answers_ping(peer)
    await peer.close()


async def assert_fatal_error_then_closed(peer: RawPeer, code: int) -> dict:
    raw = await bounded(peer.socket.recv(), "an ERROR frame")
    assert isinstance(raw, str) and SURROGATE not in raw  # an error frame never echoes unencodable text
    error = json.loads(raw)
    assert error["action"] == Action.ERROR and error["error"]["code"] == code, error
    await peer.closed()
    return error


async def rest(server, method: str, path: str, *, auth: bool = True, **kwargs) -> httpx.Response:
    headers = {**(basic_auth(server.api_key) if auth else {}), **kwargs.pop("headers", {})}
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.request(method, server.url(path), headers=headers, **kwargs)


def assert_ably_error(response: httpx.Response, status: int, code: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert response.headers["X-Ably-ErrorCode"] == str(code)


# -- a non-string encoding


async def test_a_non_string_encoding_is_nacked_not_an_internal_error(server):
    await assert_nacked_then_carries_on(server, {"data": "x", "encoding": 7}, 40000)


async def test_a_non_string_encoding_over_rest_is_a_400(server):
    response = await rest(
        server, "POST", f"/channels/{fresh_channel()}/messages", json={"data": "x", "encoding": 7}
    )
    assert_ably_error(response, 400, 40000)


# -- lone surrogates


@pytest.mark.parametrize("field", ["name", "data"])
async def test_a_lone_surrogate_in_a_message_is_nacked(server, field):
    await assert_nacked_then_carries_on(server, {field: f"a{SURROGATE}b"}, 40001)


@pytest.mark.parametrize("field", ["name", "data"])
async def test_a_lone_surrogate_over_rest_is_a_400(server, field):
    body = json.dumps({field: SURROGATE})  # json.dumps escapes it as \ud800, as an attacker would
    response = await rest(
        server,
        "POST",
        f"/channels/{fresh_channel()}/messages",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert_ably_error(response, 400, 40001)


@pytest.mark.parametrize("field", ["channel", "channelSerial"])
async def test_a_lone_surrogate_in_an_attach_fails_the_connection_without_echoing_it(server, field):
    bystander_channel = fresh_channel()
    bystander = await attached(server, bystander_channel)
    peer = await connected(server)
    frame = {"action": Action.ATTACH, "channel": "hard:attach", field: f"x{SURROGATE}"}
    await peer.send(frame)
    await assert_fatal_error_then_closed(peer, 40001)
    assert await still_answers_ping(bystander)
    await bystander.close()


# -- integers beyond 64 bits


@pytest.mark.parametrize(
    "message",
    [{"data": "x", "extras": {"n": BIG_INT}}, {"data": {"n": -BIG_INT}}, {"data": [BIG_INT]}],
    ids=["extras", "object-data", "array-data"],
)
async def test_integers_beyond_64_bits_are_nacked(server, message):
    await assert_nacked_then_carries_on(server, message, 40001)


async def test_integers_beyond_64_bits_over_rest_are_a_400(server):
    response = await rest(
        server, "POST", f"/channels/{fresh_channel()}/messages", json={"data": "x", "extras": {"n": BIG_INT}}
    )
    assert_ably_error(response, 400, 40001)


# -- deep nesting


async def test_deep_nesting_on_a_socket_is_a_fatal_40001_not_50000(server):
    peer = await connected(server)
    await peer.send_raw(DEEP_JSON)
    await assert_fatal_error_then_closed(peer, 40001)


async def test_moderately_deep_nesting_inside_a_publish_is_nacked(server):
    nested: object = "x"
    for _ in range(40):
        nested = [nested]
    await assert_nacked_then_carries_on(server, {"data": "x", "extras": {"deep": nested}}, 40001)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(DEEP_JSON, "application/json"), (b"\x91" * 100_000, "application/x-msgpack")],
    ids=["json", "msgpack"],
)
async def test_deep_nesting_over_rest_is_a_400(server, content, content_type):
    response = await rest(
        server,
        "POST",
        f"/channels/{fresh_channel()}/messages",
        content=content,
        headers={"Content-Type": content_type},
    )
    assert_ably_error(response, 400, 40001)


async def test_deep_nesting_in_an_unauthenticated_token_request_is_a_400(server):
    response = await rest(
        server,
        "POST",
        f"/keys/{server.key_name}/requestToken",
        auth=False,
        content=DEEP_JSON,
        headers={"Content-Type": "application/json"},
    )
    assert_ably_error(response, 400, 40001)


# -- integers written with Unicode digits


@pytest.mark.parametrize("value", ["³", "١٢", "1_0", " 5", "99999999999999999999"])
async def test_history_limit_must_be_ascii_digits(server, value):
    response = await rest(server, "GET", f"/channels/{fresh_channel()}/messages", params={"limit": value})
    assert_ably_error(response, 400, 40003)


@pytest.mark.parametrize("field", ["ttl", "timestamp"])
async def test_token_request_integers_must_be_ascii_digits(server, field):
    from broker.auth.signing import mac_for

    request = {"keyName": server.key_name, "nonce": "n" * 16, "timestamp": str(int(time.time() * 1000))}
    request[field] = "³"
    request["mac"] = mac_for(request, server.api_key.split(":", 1)[1])
    response = await rest(server, "POST", f"/keys/{server.key_name}/requestToken", auth=False, json=request)
    assert_ably_error(response, 400, 40003)


# -- rate limits, bounded intake and fairness


@pytest.fixture(scope="module")
def limited():
    with run_live_server({"BROKER_MAX_INBOUND_RATE": "10", "BROKER_INBOUND_BURST": "10"}) as live:
        yield live


async def test_publishes_over_the_rate_are_nacked_with_42911_in_order(limited):
    peer = await connected(limited)
    sent = 40
    for serial in range(sent):
        await peer.send(
            {
                "action": Action.MESSAGE,
                "channel": "hard:rate",
                "msgSerial": serial,
                "messages": [{"data": "x"}],
            }
        )
    replies = []
    while len(replies) < sent:
        frame, _ = await peer.recv_until(lambda f: f["action"] in (Action.ACK, Action.NACK))
        # One ACK frame may settle several consecutive msgSerials (`count`).
        replies.extend({**frame, "msgSerial": frame["msgSerial"] + n} for n in range(frame.get("count", 1)))
    assert [r["msgSerial"] for r in replies] == list(range(sent))
    acked = [r for r in replies if r["action"] == Action.ACK]
    nacked = [r for r in replies if r["action"] == Action.NACK]
    assert 10 <= len(acked) < sent
    assert nacked and {r["error"]["code"] for r in nacked} == {42911}
    assert {r["error"]["statusCode"] for r in nacked} == {429}
    assert await still_answers_ping(peer)
    await asyncio.sleep(1.2)  # the bucket refills: publishing works again
    assert (await publish_frame(peer, sent, {"data": "later"}, "hard:rate"))["action"] == Action.ACK
    await peer.close()


async def test_connected_advertises_the_inbound_rate(limited):
    peer = await RawPeer.connect(limited)
    assert (await peer.recv())["connectionDetails"]["maxInboundRate"] == 10
    await peer.close()


async def test_a_connection_holding_the_key_is_not_rate_limited(limited):
    """Server-side components (the agent streams every answer over one connection) hold the key."""
    peer = await RawPeer.connect(limited)
    assert (await peer.recv())["action"] == Action.CONNECTED
    for serial in range(60):
        await peer.send(
            {"action": Action.MESSAGE, "channel": "hard:key", "msgSerial": serial, "messages": [{}]}
        )
    replies = []
    while len(replies) < 60:
        frame, _ = await peer.recv_until(lambda f: f["action"] in (Action.ACK, Action.NACK))
        replies.extend([frame["action"]] * frame.get("count", 1))
    assert set(replies) == {Action.ACK}
    await peer.close()


async def test_a_flood_far_beyond_the_rate_closes_the_connection_with_42921(limited):
    peer = await connected(limited)
    frame = json.dumps({"action": Action.MESSAGE, "channel": "hard:flood", "msgSerial": 0, "messages": [{}]})
    for _ in range(400):
        await peer.send_raw(frame)
    error, _ = await peer.recv_until(lambda f: f["action"] == Action.ERROR)
    assert error["error"]["code"] == 42921 and "channel" not in error
    await peer.closed()


async def test_one_connections_flood_does_not_stall_another_connections_stream(server):
    """The issue's two floods at once (many small cancels, many 60 kB publishes) next to a stream."""
    bystander = Bystander(server, [f"tok{n} " for n in range(60)], interval=0.02)
    await bystander.start(publisher_listens_to=("hard:cancels", "hard:big"))
    cancels = await connected(server)
    big = await connected(server)
    cancel = {"name": "ai-cancel", "data": "{}"}
    payload = "x" * 60_000

    async def flood_cancels() -> None:
        for serial in range(12_580):
            await cancels.send(
                {"action": 15, "channel": "hard:cancels", "msgSerial": serial, "messages": [cancel]}
            )

    async def flood_big() -> None:
        for serial in range(150):
            await big.send(
                {"action": 15, "channel": "hard:big", "msgSerial": serial, "messages": [{"data": payload}]}
            )

    started = time.monotonic()
    await asyncio.gather(flood_cancels(), flood_big())
    await bystander.finish()
    elapsed = time.monotonic() - started
    assert bystander.assembled == bystander.published
    gap, ack = bystander.worst_gap_ms, bystander.worst_ack_ms
    print(f"worst gap {gap:.0f} ms, worst ack {ack:.0f} ms, {elapsed:.1f} s")
    # Generous for a shared CI machine; before the fix a stream stalled for 15-21 s.
    assert bystander.worst_gap_ms < 5000, (bystander.worst_gap_ms, bystander.worst_ack_ms, elapsed)
    for peer in (cancels, big):
        await peer.close()


async def test_a_flood_reaches_the_channels_other_subscribers_only_at_the_rate(server):
    """The agent subscribes to every conversation: one user's flood of 12,580 cancels must reach it
    at the rate limit (burst, then 50/s until the flooder is cut off), not all at once."""
    channel = fresh_channel("hard-shared")
    listener = await attached(server, channel)
    flooder = await connected(server)
    frame = {"action": 15, "channel": channel, "messages": [{"name": "ai-cancel", "data": "{}"}]}
    started = time.monotonic()
    try:
        for serial in range(12_580):
            await flooder.send({**frame, "msgSerial": serial})
    except websockets.ConnectionClosed:
        pass  # closed with 42921 part-way: what a flood far beyond the rate gets
    delivered = 0
    with contextlib.suppress(AssertionError):  # bounded: stop once nothing arrives for a while
        while True:
            message = await bounded(listener.recv(), "a delivery", seconds=2)
            delivered += message["action"] == Action.MESSAGE
    allowed = 500 + 50 * (time.monotonic() - started)
    assert delivered <= allowed, (delivered, allowed)
    assert await still_answers_ping(listener)
    await listener.close()


# -- socket writes and error frames


async def test_a_failed_socket_write_closes_the_connection_instead_of_leaving_it_mute():
    from broker.realtime.codec import FrameCodec
    from broker.realtime.outbox import Outbox

    closed = asyncio.Event()

    async def broken_write(_raw) -> None:
        raise ConnectionResetError("gone")

    outbox = Outbox(
        FrameCodec(binary=False),
        broken_write,
        heartbeat_ms=0,
        max_backlog=10,
        on_overflow=lambda: None,
        on_write_failure=closed.set,
    )
    outbox.start()
    outbox.put({"action": Action.HEARTBEAT})
    await bounded(closed.wait(), "the connection to be closed")


@pytest.mark.parametrize("binary", [False, True], ids=["json", "msgpack"])
def test_outbound_frames_quoting_unencodable_text_are_still_writable(binary):
    from broker.realtime.codec import FrameCodec

    frame = {"action": Action.ERROR, "channel": f"c{SURROGATE}", "error": {"message": f"bad {SURROGATE}"}}
    raw = FrameCodec(binary=binary).encode(frame)
    decoded = msgpack.unpackb(raw) if binary else json.loads(raw.encode("utf-8"))
    assert decoded["channel"] == "c\ufffd"


# -- start-up


def run_runbroker(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ABLY_ENDPOINT")}
    environment.update({"DJANGO_SETTINGS_MODULE": "project.settings", "DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "manage.py", "runbroker", "--port", "1"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_runbroker_refuses_a_database_that_was_never_migrated(tmp_path):
    result = run_runbroker(tmp_path)
    assert result.returncode != 0
    assert "unapplied migration" in result.stderr and "manage.py migrate" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_and_the_sandbox_are_warned_about_at_start_up(tmp_path):
    result = run_runbroker(tmp_path, DJANGO_DEBUG="true", BROKER_SANDBOX="true")
    assert "WARNING broker.W001" in result.stderr and "DEBUG" in result.stderr
    assert "WARNING broker.W002" in result.stderr and "BROKER_SANDBOX" in result.stderr


def test_the_warnings_are_system_checks(settings):
    from django.core.checks import run_checks

    settings.DEBUG, settings.BROKER_SANDBOX = True, True
    assert {"broker.W001", "broker.W002"} <= {m.id for m in run_checks()}
    settings.DEBUG, settings.BROKER_SANDBOX = False, False
    assert not {"broker.W001", "broker.W002"} & {m.id for m in run_checks()}


# -- the append stream through all of it


async def test_appends_still_assemble_exactly(server):
    bystander = Bystander(server, ["Hel", "lo", " wor", "ld", " ✓"], interval=0.0)
    await bystander.start()
    await bystander.finish()
    assert bystander.assembled == "Hello world ✓"


async def test_a_newline_in_a_channel_name_still_gets_an_ably_error_not_an_html_page(server):
    response = await rest(server, "DELETE", "/channels/a%0Ab/messages")
    assert_ably_error(response, 405, 40500)
    published = await rest(server, "POST", "/channels/a%0Ab/messages", json={"data": "x"})
    assert published.status_code == 201
