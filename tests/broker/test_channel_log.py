"""The write path: batches, folding before serials, ACK once stored, and the stream invariant.

Batches are written to the real test database. The invariant checked throughout: replaying the
stored events of a message (create, then each append's delta in serial order) gives exactly the
message row that history returns, and every ACKed serial is one the store knows.
"""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from broker import store
from broker.auth import authenticate_realtime
from broker.auth.capability import Capability
from broker.channel_log import ChannelLogs
from broker.errors import AblyError, ErrorCode
from broker.fanout import FanoutHub, group_name, hub
from broker.models import ChannelEvent
from broker.store.batch import ChannelState, MutationOp, PublishOp, write_batch
from broker.wire import MessageAction

APPEND = int(MessageAction.APPEND)
WINDOW_MS = 120_000


@pytest.fixture
def root():
    return authenticate_realtime(key=settings.ABLY_API_KEY, access_token=None)


def _create(data="", message_id="m1", connection="c1") -> PublishOp:
    return PublishOp([{"id": message_id, "name": "answer", "data": data}], [None], connection)


def _append(root, serial, data, *, fold=True, connection="c1", client_id=None) -> MutationOp:
    return MutationOp(serial, APPEND, {"serial": serial, "data": data}, root, client_id, connection, fold)


def _replayed_text(channel: str, serial: str) -> str:
    """The message's text rebuilt from its stored events, as a subscriber applying them would."""
    text = ""
    for event in store.events_after(channel, "00000000000000-000@local:000"):
        if event.message_serial != serial:
            continue
        data = event.delta.get("data") or ""
        text = text + data if event.action == APPEND else data
    return text


def _history_text(channel: str, serial: str) -> str:
    return store.latest_version(channel, serial)["data"]


@pytest.mark.django_db
def test_folded_appends_become_one_event_with_each_append_acked_by_its_own_serial(root):
    state = ChannelState("log:fold")
    [created] = write_batch(state, [_create("a")], idempotency_window_ms=WINDOW_MS).outcomes
    serial = created[0]
    result = write_batch(
        state, [_append(root, serial, piece) for piece in "bcd"], idempotency_window_ms=WINDOW_MS
    )
    acked = [outcome[0] for outcome in result.outcomes]
    assert len(set(acked)) == 3 and acked == sorted(acked)
    [event] = result.events
    assert event.delta["data"] == "bcd"
    assert event.channel_serial == acked[-1] == event.full["version"]["serial"]
    assert _history_text("log:fold", serial) == _replayed_text("log:fold", serial) == "abcd"
    assert ChannelEvent.objects.filter(channel__name="log:fold").count() == 2


@pytest.mark.django_db
def test_appends_without_a_window_are_one_event_each(root):
    state = ChannelState("log:nofold")
    serial = write_batch(state, [_create()], idempotency_window_ms=WINDOW_MS).outcomes[0][0]
    result = write_batch(
        state, [_append(root, serial, p, fold=False) for p in "xyz"], idempotency_window_ms=WINDOW_MS
    )
    assert [e.delta["data"] for e in result.events] == ["x", "y", "z"]
    assert _replayed_text("log:nofold", serial) == "xyz"


@pytest.mark.django_db
def test_nothing_folds_across_another_write_or_another_publisher(root):
    state = ChannelState("log:barrier")
    serial = write_batch(state, [_create()], idempotency_window_ms=WINDOW_MS).outcomes[0][0]
    ops = [
        _append(root, serial, "1"),
        _append(root, serial, "2"),
        _create("cancel", message_id="m2"),
        _append(root, serial, "3"),
        _append(root, serial, "4", connection="c2"),
        _append(root, serial, "5"),
    ]
    result = write_batch(state, ops, idempotency_window_ms=WINDOW_MS)
    assert [(e.action, e.delta.get("data")) for e in result.events] == [
        (APPEND, "12"),
        (int(MessageAction.CREATE), "cancel"),
        (APPEND, "3"),
        (APPEND, "4"),
        (APPEND, "5"),
    ]
    serials = [e.channel_serial for e in result.events]
    assert serials == sorted(serials)
    assert _history_text("log:barrier", serial) == _replayed_text("log:barrier", serial) == "12345"


@pytest.mark.django_db
def test_a_bad_op_is_refused_alone_and_the_rest_of_its_batch_is_stored(root):
    state = ChannelState("log:partial")
    serial = write_batch(state, [_create("text")], idempotency_window_ms=WINDOW_MS).outcomes[0][0]
    ops = [
        _append(root, serial, "a"),
        _append(root, serial, b"bytes"),
        _append(root, "nope", "x"),
        _append(root, serial, "b"),
    ]
    outcomes = write_batch(state, ops, idempotency_window_ms=WINDOW_MS).outcomes
    assert isinstance(outcomes[1], AblyError) and outcomes[1].code == ErrorCode.INVALID_DATA
    assert isinstance(outcomes[2], AblyError) and outcomes[2].code == ErrorCode.NOT_FOUND
    assert not isinstance(outcomes[0], AblyError) and not isinstance(outcomes[3], AblyError)
    assert _history_text("log:partial", serial) == _replayed_text("log:partial", serial) == "textab"


@pytest.mark.django_db
def test_the_capability_is_checked_before_the_message_is_looked_up(root):
    state = ChannelState("log:probe")
    serial = write_batch(state, [_create("secret")], idempotency_window_ms=WINDOW_MS).outcomes[0][0]
    reader = root.__class__(
        root.key_name, "eve", Capability.parse('{"*":["publish","subscribe"]}'), None, None
    )
    outcomes = write_batch(
        state,
        [
            _append(reader, serial, "x", client_id="eve"),
            _append(reader, "00000000000001-000@local:000", "x", client_id="eve"),
        ],
        idempotency_window_ms=WINDOW_MS,
    ).outcomes
    assert [o.code for o in outcomes] == [ErrorCode.CAPABILITY_DENIED, ErrorCode.CAPABILITY_DENIED]


@pytest.mark.django_db
def test_a_retried_publish_id_is_stored_once(root):
    state = ChannelState("log:idem")
    first = write_batch(state, [_create("once", message_id="same")], idempotency_window_ms=WINDOW_MS)
    again = write_batch(
        ChannelState("log:idem"), [_create("once", message_id="same")], idempotency_window_ms=WINDOW_MS
    )
    assert again.outcomes == first.outcomes and again.events == []


@pytest.mark.django_db
def test_a_write_by_another_process_is_noticed_and_the_cached_state_reloaded(root):
    ours, theirs = ChannelState("log:cas"), ChannelState("log:cas")
    serial = write_batch(ours, [_create("a")], idempotency_window_ms=WINDOW_MS).outcomes[0][0]
    write_batch(ours, [_append(root, serial, "b")], idempotency_window_ms=WINDOW_MS)
    other = write_batch(theirs, [_append(root, serial, "c")], idempotency_window_ms=WINDOW_MS)
    mine = write_batch(ours, [_append(root, serial, "d")], idempotency_window_ms=WINDOW_MS)
    assert mine.events[0].channel_serial > other.events[0].channel_serial
    assert mine.events[0].full["data"] == "abcd"
    assert _history_text("log:cas", serial) == _replayed_text("log:cas", serial) == "abcd"


class _Recorder:
    def __init__(self) -> None:
        self.deliveries = []
        self.presence: list[dict] = []
        self.arrived = asyncio.Event()

    def on_deliveries(self, deliveries):
        self.deliveries.extend(deliveries)
        self.arrived.set()

    def on_presence(self, presence):
        self.presence.extend(presence)
        self.arrived.set()


@pytest.mark.django_db(transaction=True)
async def test_the_first_append_goes_at_once_and_later_ones_fold_within_the_window(root):
    logs, recorder = ChannelLogs(), _Recorder()
    await hub.listen("log:window", recorder)
    try:
        channel_log = logs.get("log:window")
        [serial] = await channel_log.submit(_create())
        first = await channel_log.submit(_append(root, serial, "a", fold=False), window_ms=100)
        held = [channel_log.submit(_append(root, serial, p, fold=False), window_ms=100) for p in "bcd"]
        outcomes = await asyncio.gather(*held)
        assert all(not isinstance(o, AblyError) for o in [first, *outcomes])
        appends = [d.event.delta["data"] for d in recorder.deliveries if d.is_append]
        assert appends == ["a", "bcd"]
        assert await asyncio.to_thread(_history_text, "log:window", serial) == "abcd"
    finally:
        await hub.unlisten("log:window", recorder)


@pytest.mark.django_db(transaction=True)
async def test_another_write_flushes_held_appends_at_once(root):
    logs, recorder = ChannelLogs(), _Recorder()
    await hub.listen("log:stop", recorder)
    try:
        channel_log = logs.get("log:stop")
        [serial] = await channel_log.submit(_create())
        await channel_log.submit(_append(root, serial, "a"), window_ms=10_000)
        held = channel_log.submit(_append(root, serial, "b"), window_ms=10_000)
        cancel = channel_log.submit(_create("stop", message_id="m2"))
        await asyncio.wait_for(asyncio.gather(held, cancel), 5)  # far less than the 10 s window
        assert [d.event.delta.get("data") for d in recorder.deliveries] == ["", "a", "b", "stop"]
    finally:
        await hub.unlisten("log:stop", recorder)


async def test_cross_process_relay_delivers_events_and_presence_once():
    from channels.layers import InMemoryChannelLayer

    from broker.fanout import Delivery
    from broker.store.events import StoredEvent

    layer = InMemoryChannelLayer()
    process_a = FanoutHub(layer=layer, cross_process=True)
    process_b = FanoutHub(layer=layer, cross_process=True)
    local, remote = _Recorder(), _Recorder()
    await process_a.listen("chat:é 1", local)
    await process_b.listen("chat:é 1", remote)
    event = StoredEvent("chat:é 1", "s1", 0, "s1", {"data": b"\x00"}, {"data": b"\x00"}, "c1")
    process_a.dispatch("chat:é 1", [Delivery.of(event)])
    await asyncio.wait_for(remote.arrived.wait(), 5)
    assert [d.event for d in remote.deliveries] == [d.event for d in local.deliveries] == [event]
    assert remote.deliveries[0].origin_connection_id == "c1"
    remote.arrived.clear()
    await process_b.broadcast_presence("chat:é 1", [{"action": 2, "clientId": "bob", "connectionId": "x"}])
    await asyncio.wait_for(local.arrived.wait(), 5)
    assert local.presence == remote.presence == [{"action": 2, "clientId": "bob", "connectionId": "x"}]


def test_group_names_are_valid_for_channels_redis_whatever_the_channel_name():
    for name in ["chat:1", "with space/and+plus", "ü" * 300, "[meta]log"]:
        group = group_name(name)
        assert len(group) < 100
        assert all(c.isascii() and (c.isalnum() or c in "-_.") for c in group)
