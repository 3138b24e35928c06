"""The store's contract with realtime: serial order, replay after a serial, and consistent delta/full."""

from __future__ import annotations

import pytest
from django.conf import settings

from broker import store
from broker.auth import authenticate_realtime
from broker.errors import AblyError, ErrorCode
from broker.store.serials import SerialAllocator, zero_serial

pytestmark = pytest.mark.django_db

APPEND = 5


@pytest.fixture
def root():
    return authenticate_realtime(key=settings.ABLY_API_KEY, access_token=None)


def _publish(root, channel: str, data) -> str:
    return store.publish(
        channel, [{"data": data}], credentials=root, client_id=None, connection_id="c1"
    ).serials[0]


def _append(root, channel: str, serial: str, data) -> store.StoredEvent:
    return store.mutate(
        channel, serial, APPEND, {"data": data}, credentials=root, client_id=None, connection_id="c1"
    )


def test_serials_keep_increasing_even_when_the_clock_does_not():
    batch = SerialAllocator("", now_ms=1000)
    first = [batch.next(), batch.next()]
    same_ms = SerialAllocator(first[-1], now_ms=1000).next()
    clock_went_back = SerialAllocator(same_ms, now_ms=10).next()
    overflow = SerialAllocator("00000000001000-999@local:000", now_ms=1000).next()
    ordered = [*first, same_ms, clock_went_back]
    assert ordered == sorted(ordered) and len(set(ordered)) == 4
    assert overflow > "00000000001000-999@local:000"
    assert zero_serial() < first[0]
    big = SerialAllocator("", now_ms=5)
    many = [big.next() for _ in range(2500)]
    assert many == sorted(many) and len(set(many)) == 2500


def test_a_replay_from_mid_stream_rebuilds_each_full_version(root):
    channel = "replay:mid"
    serial = _publish(root, channel, "a")
    first_append = _append(root, channel, serial, "b")
    _append(root, channel, serial, "c")
    _append(root, channel, serial, "d")
    replayed = store.events_after(channel, first_append.channel_serial)
    assert [(e.action, e.delta["data"], e.full["data"]) for e in replayed] == [
        (APPEND, "c", "abc"),
        (APPEND, "d", "abcd"),
    ]
    assert all(e.message_serial == serial and e.full["action"] == 1 for e in replayed)


def test_replay_is_paged_and_ordered(root):
    channel = "replay:paged"
    serials = [_publish(root, channel, str(n)) for n in range(5)]
    first_page = store.events_after(channel, zero_serial(), limit=2)
    rest = store.events_after(channel, first_page[-1].channel_serial)
    assert [e.channel_serial for e in first_page + rest] == serials


def test_continuity_cannot_be_promised_for_unknown_positions(root):
    channel = "replay:unknown"
    _publish(root, channel, "x")
    with pytest.raises(AblyError) as future:
        store.events_after(channel, "99999999999999-000@local:000")
    with pytest.raises(AblyError) as malformed:
        store.events_after(channel, "garbage")
    assert future.value.code == ErrorCode.CONTINUITY_LOST
    assert malformed.value.code == ErrorCode.INVALID_PARAMETER
    assert store.events_after("replay:empty", zero_serial()) == []


def test_latest_channel_serial_is_never_empty(root):
    assert store.latest_channel_serial("replay:nothing") == zero_serial()
    serial = _publish(root, "replay:latest", "x")
    assert store.latest_channel_serial("replay:latest") == serial
    event = _append(root, "replay:latest", serial, "y")
    assert store.latest_channel_serial("replay:latest") == event.channel_serial > serial
