"""Annotations: publish, delete and list over REST and realtime, delivered with annotation_subscribe."""

from __future__ import annotations

import pytest
from ably.types.annotation import Annotation, AnnotationAction

from tests.broker.realtime_helpers import fresh_channel
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
