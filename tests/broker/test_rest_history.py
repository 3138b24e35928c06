"""REST publish and history with ably-python: idempotency, data types, pagination, untilAttach bounds."""

from __future__ import annotations

import httpx
import pytest
from ably.types.message import Message

from tests.support.ably_clients import basic_auth, fresh_channel, rest_client

pytestmark = pytest.mark.live


async def _publish_numbered(rest, channel_name: str, count: int) -> list[str]:
    channel = rest.channels.get(channel_name)
    serials = []
    for number in range(count):
        result = await channel.publish(f"m{number}", str(number))
        serials.extend(result.serials)
    return serials


async def _all_pages(first_page) -> list[list[str]]:
    pages, page = [], first_page
    while True:
        pages.append([m.data for m in page.items])
        if not page.has_next():
            return pages
        page = await page.next()


async def test_a_retried_publish_is_stored_once_with_its_original_serial(live_broker):
    channel_name = fresh_channel("hist")
    async with rest_client(live_broker) as rest:
        channel = rest.channels.get(channel_name)
        first = await channel.publish(messages=[Message(name="once", data="x", id="retry-base:0")])
        again = await channel.publish(messages=[Message(name="once", data="x", id="retry-base:0")])
        history = await channel.history()
    assert first.serials == again.serials
    assert [m.id for m in history.items] == ["retry-base:0"]


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_text_binary_and_json_data_survive_the_round_trip(live_broker, binary):
    channel_name = fresh_channel("hist")
    async with rest_client(live_broker, use_binary_protocol=binary) as rest:
        channel = rest.channels.get(channel_name)
        await channel.publish("text", "héllo")
        await channel.publish("bytes", b"\x00\xff\x10")
        await channel.publish("object", {"a": [1, 2]})
        history = await channel.history(direction="forwards")
    assert [(m.name, m.data) for m in history.items] == [
        ("text", "héllo"),
        ("bytes", b"\x00\xff\x10"),
        ("object", {"a": [1, 2]}),
    ]


async def test_messages_carry_serial_id_timestamp_and_create_action(live_broker):
    channel_name = fresh_channel("hist")
    async with rest_client(live_broker, default_token_params={"client_id": "alice"}) as rest:
        result = await rest.channels.get(channel_name).publish("n", "d")
        (message,) = (await rest.channels.get(channel_name).history()).items
    assert message.serial == result.serials[0]
    assert message.id and message.timestamp and message.client_id == "alice"
    assert message.action == 0


@pytest.mark.parametrize("direction", ["backwards", "forwards"])
async def test_history_pages_cover_every_message_once_in_order(live_broker, direction):
    channel_name = fresh_channel("hist")
    async with rest_client(live_broker) as rest:
        await _publish_numbered(rest, channel_name, 5)
        pages = await _all_pages(await rest.channels.get(channel_name).history(direction=direction, limit=2))
    expected = ["0", "1", "2", "3", "4"] if direction == "forwards" else ["4", "3", "2", "1", "0"]
    assert pages == [expected[0:2], expected[2:4], expected[4:5]]


async def test_history_of_an_unknown_channel_is_an_empty_list(live_broker):
    async with rest_client(live_broker) as rest:
        history = await rest.channels.get(fresh_channel("hist")).history()
    assert history.items == [] and not history.has_next()


async def test_from_serial_bounds_history_at_the_attach_point(live_broker):
    channel_name = fresh_channel("hist")
    async with rest_client(live_broker) as rest:
        serials = await _publish_numbered(rest, channel_name, 4)
    async with httpx.AsyncClient() as http:
        response = await http.get(
            live_broker.url(f"/channels/{channel_name}/messages"),
            params={"from_serial": serials[1], "limit": 1},
            headers=basic_auth(live_broker.api_key),
        )
        follow = response.links["next"]["url"]
        assert follow.startswith("./messages?") and "from_serial=" in follow
        second = await http.get(
            live_broker.url(f"/channels/{channel_name}/{follow[2:]}"), headers=basic_auth(live_broker.api_key)
        )
    assert [m["data"] for m in response.json()] == ["1"]
    assert [m["data"] for m in second.json()] == ["0"]
    assert "next" not in second.links


async def test_time_window_and_limit_are_honoured(live_broker):
    channel_name = fresh_channel("hist")
    async with rest_client(live_broker) as rest:
        await _publish_numbered(rest, channel_name, 3)
        everything = (await rest.channels.get(channel_name).history(direction="forwards")).items
        window = await rest.channels.get(channel_name).history(
            start=everything[1].timestamp, end=everything[1].timestamp, direction="forwards"
        )
    assert "1" in [m.data for m in window.items]
    assert all(m.timestamp == everything[1].timestamp for m in window.items)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": "1001"}, 40003),
        ({"limit": "0"}, 40003),
        ({"limit": "ten"}, 40003),
        ({"direction": "sideways"}, 40003),
        ({"from_serial": "not-a-serial"}, 40003),
        ({"cursor": "nope"}, 40003),
        ({"from_serial": "01700000000000-000@local:000", "direction": "forwards"}, 40003),
    ],
)
async def test_bad_history_parameters_get_clear_errors(live_broker, params, code):
    async with httpx.AsyncClient() as http:
        response = await http.get(
            live_broker.url(f"/channels/{fresh_channel('hist')}/messages"),
            params=params,
            headers=basic_auth(live_broker.api_key),
        )
    assert response.status_code == 400
    assert response.headers["X-Ably-ErrorCode"] == str(code)
