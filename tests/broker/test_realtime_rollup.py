"""Append rollup folding and the fan-out hub's ordering, in-process and across processes.

These drive the real hub with real StoredEvents; the cross-process case uses two hubs (as two
processes would have) joined by one channel layer, so the relay path channels-redis would carry is
exercised end to end.
"""

from __future__ import annotations

import asyncio

from channels.layers import InMemoryChannelLayer

from broker.fanout import FanoutHub, group_name
from broker.realtime.rollup import Delivery, coalesce
from broker.store.events import StoredEvent
from broker.wire import MessageAction


def _event(channel_serial: str, action: int, message_serial: str, data) -> StoredEvent:
    return StoredEvent(
        channel="ch",
        channel_serial=channel_serial,
        action=action,
        message_serial=message_serial,
        delta={"serial": message_serial, "action": action, "data": data},
        full={"serial": message_serial, "action": MessageAction.UPDATE, "data": f"full@{channel_serial}"},
    )


def _append(cs: str, ms: str, data, origin: str = "c1") -> Delivery:
    return Delivery.of(_event(cs, MessageAction.APPEND, ms, data), origin)


def test_consecutive_appends_to_one_message_fold_into_one_delta():
    [folded] = coalesce([_append("s1", "m", "a"), _append("s2", "m", "b"), _append("s3", "m", "c")])
    assert folded.event.delta["data"] == "abc"
    assert folded.event.channel_serial == "s3"
    assert folded.first_channel_serial == "s1"
    assert folded.event.full["data"] == "full@s3"


def test_interleaved_streams_fold_per_message_and_keep_serial_order():
    out = coalesce([_append("s1", "A", "a1"), _append("s2", "B", "b1"), _append("s3", "A", "a2")])
    assert [(d.event.message_serial, d.event.delta["data"], d.event.channel_serial) for d in out] == [
        ("B", "b1", "s2"),
        ("A", "a1a2", "s3"),
    ]


def test_non_append_events_are_barriers():
    create = Delivery.of(_event("s2", MessageAction.CREATE, "X", "x"), "c1")
    out = coalesce([_append("s1", "A", "a"), create, _append("s3", "A", "b")])
    assert [d.event.channel_serial for d in out] == ["s1", "s2", "s3"]


def test_bytes_and_text_or_different_publishers_never_fold_together():
    assert len(coalesce([_append("s1", "A", "a"), _append("s2", "A", b"b")])) == 2
    assert len(coalesce([_append("s1", "A", "a", "c1"), _append("s2", "A", "b", "c2")])) == 2
    [folded] = coalesce([_append("s1", "A", b"a"), _append("s2", "A", b"b")])
    assert folded.event.delta["data"] == b"ab"


class _Recorder:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.presence: list[dict] = []
        self.arrived = asyncio.Event()

    def on_deliveries(self, deliveries):
        self.deliveries.extend(deliveries)
        self.arrived.set()

    def on_presence(self, presence):
        self.presence.extend(presence)
        self.arrived.set()


async def test_rollup_window_sends_first_append_at_once_and_folds_the_rest():
    hub = FanoutHub(cross_process=False)
    recorder = _Recorder()
    await hub.listen("ch", recorder)
    await hub.broadcast("ch", [_event("s1", MessageAction.APPEND, "m", "a")], rollup_window_ms=20)
    assert [d.event.delta["data"] for d in recorder.deliveries] == ["a"]
    for i, piece in enumerate("bcd", start=2):
        await hub.broadcast("ch", [_event(f"s{i}", MessageAction.APPEND, "m", piece)], rollup_window_ms=20)
    recorder.arrived.clear()
    await asyncio.wait_for(recorder.arrived.wait(), 5)
    assert [d.event.delta["data"] for d in recorder.deliveries] == ["a", "bcd"]


async def test_a_non_append_flushes_held_appends_first():
    hub = FanoutHub(cross_process=False)
    recorder = _Recorder()
    await hub.listen("ch", recorder)
    await hub.broadcast("ch", [_event("s1", MessageAction.APPEND, "m", "a")], rollup_window_ms=500)
    await hub.broadcast("ch", [_event("s2", MessageAction.APPEND, "m", "b")], rollup_window_ms=500)
    await hub.broadcast("ch", [_event("s3", MessageAction.CREATE, "n", "new")])
    assert [d.event.channel_serial for d in recorder.deliveries] == ["s1", "s2", "s3"]


async def test_cross_process_relay_delivers_events_and_presence_once():
    layer = InMemoryChannelLayer()
    process_a, process_b = (
        FanoutHub(layer=layer, cross_process=True),
        FanoutHub(layer=layer, cross_process=True),
    )
    local, remote = _Recorder(), _Recorder()
    await process_a.listen("chat:é 1", local)
    await process_b.listen("chat:é 1", remote)
    await process_a.broadcast("chat:é 1", [_event("s1", MessageAction.CREATE, "m", b"\x00")])
    await asyncio.wait_for(remote.arrived.wait(), 5)
    assert [d.event for d in remote.deliveries] == [d.event for d in local.deliveries]
    assert len(local.deliveries) == 1
    remote.arrived.clear()
    await process_b.broadcast_presence("chat:é 1", [{"action": 2, "clientId": "bob", "connectionId": "x"}])
    await asyncio.wait_for(local.arrived.wait(), 5)
    assert local.presence == remote.presence == [{"action": 2, "clientId": "bob", "connectionId": "x"}]


def test_group_names_are_valid_for_channels_redis_whatever_the_channel_name():
    for name in ["chat:1", "with space/and+plus", "ü" * 300, "[meta]log"]:
        group = group_name(name)
        assert len(group) < 100
        assert all(c.isascii() and (c.isalnum() or c in "-_.") for c in group)
