"""Annotations: publish, delete and list over REST and realtime, delivered with annotation_subscribe."""

from __future__ import annotations

import pytest
from ably.types.annotation import Annotation, AnnotationAction
from ably.types.channelmode import ChannelMode
from ably.types.channeloptions import ChannelOptions
from ably.types.message import MessageAction

from tests.broker.realtime_helpers import Collector, fresh_channel, realtime, state_change
from tests.support.ably_clients import rest_client
from tests.support.node_scripts import run_scenario

pytestmark = pytest.mark.live

TYPE = "reaction:distinct.v1"


def test_annotations_with_ably_js(live_broker):
    config = {"port": live_broker.port, "key": live_broker.api_key, "channel": fresh_channel("ann")}
    [result] = [
        line for line in run_scenario("conformance_annotations.mjs", config) if line["event"] == "result"
    ]
    serial = result["serial"]
    assert result["seen"] == [
        {
            "action": "annotation.create",
            "type": TYPE,
            "name": "👍",
            "clientId": "annotator",
            "messageSerial": serial,
        },
        {
            "action": "annotation.create",
            "type": TYPE,
            "name": "🎉",
            "clientId": "server",
            "messageSerial": serial,
        },
        {
            "action": "annotation.delete",
            "type": TYPE,
            "name": "👍",
            "clientId": "annotator",
            "messageSerial": serial,
        },
    ]
    assert result["listed"] == [
        {"action": "annotation.create", "name": "👍", "clientId": "annotator", "serial": True},
        {"action": "annotation.create", "name": "🎉", "clientId": "server", "serial": True},
        {"action": "annotation.delete", "name": "👍", "clientId": "annotator", "serial": True},
    ]
    thumbs = {"total": 1, "clientIds": ["annotator"], "clipped": False}
    party = {"total": 1, "clientIds": ["server"], "clipped": False}
    assert result["summaries"] == [
        {"serial": serial, "summary": {TYPE: {"👍": thumbs}}},
        {"serial": serial, "summary": {TYPE: {"👍": thumbs, "🎉": party}}},
        {"serial": serial, "summary": {TYPE: {"🎉": party}}},
    ]
    assert result["blindFrames"] == 0 and "annotation_subscribe" not in result["blindModes"]
    assert (result["unknown"]["ok"], result["unknown"]["code"]) == (False, 40400)


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_annotations_with_ably_python_rest(live_broker, binary):
    channel_name = fresh_channel("ann")
    async with rest_client(
        live_broker, use_binary_protocol=binary, default_token_params={"client_id": "*"}
    ) as rest:
        channel = rest.channels.get(channel_name)
        serial = (await channel.publish("m", "x")).serials[0]
        await channel.annotations.publish(
            serial, Annotation(type=TYPE, name="+1", client_id="py", data={"n": 1})
        )
        await channel.annotations.delete(serial, Annotation(type=TYPE, name="+1", client_id="py"))
        listed = await channel.annotations.get(serial)
    assert [(a.action, a.name, a.client_id, a.message_serial) for a in listed.items] == [
        (AnnotationAction.ANNOTATION_CREATE, "+1", "py", serial),
        (AnnotationAction.ANNOTATION_DELETE, "+1", "py", serial),
    ]
    assert listed.items[0].data == {"n": 1}


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_ably_python_realtime_gets_annotations_and_summaries(live_broker, binary):
    channel_name = fresh_channel("ann")
    modes = [
        ChannelMode.PUBLISH,
        ChannelMode.SUBSCRIBE,
        ChannelMode.ANNOTATION_PUBLISH,
        ChannelMode.ANNOTATION_SUBSCRIBE,
    ]
    client = realtime(live_broker, binary=binary, client_id="pyann")
    try:
        await state_change(client.connection, "connected", "connection")
        channel = client.channels.get(channel_name, ChannelOptions(modes=modes))
        await channel.attach()
        seen, summaries = Collector(), Collector()
        await channel.annotations.subscribe(seen.add)
        await channel.subscribe(
            lambda m: summaries.add(m) if m.action == MessageAction.MESSAGE_SUMMARY else None
        )
        serial = (await channel.publish("m", "x")).serials[0]
        await channel.annotations.publish(serial, Annotation(type="vote:multiple.v1", name="yes", count=2))
        [annotation] = await seen.count(1)
        [summary] = await summaries.count(1)
    finally:
        await client.close()
    assert (annotation.type, annotation.name, annotation.client_id) == ("vote:multiple.v1", "yes", "pyann")
    assert summary.serial == serial
    assert summary.annotations.summary["vote:multiple.v1"]["yes"]["clientIds"] == {"pyann": 2}
