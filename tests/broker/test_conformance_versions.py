"""A mutation's `version` carries the operation's clientId, description and metadata, as Ably's does."""

from __future__ import annotations

import pytest
from ably.types.message import Message
from ably.types.operations import MessageOperation

from tests.broker.realtime_helpers import fresh_channel
from tests.support.ably_clients import rest_client
from tests.support.node_scripts import run_scenario

pytestmark = pytest.mark.live


def test_ably_js_reads_the_operation_back_in_version(live_broker):
    config = {"port": live_broker.port, "key": live_broker.api_key, "channel": fresh_channel("ver")}
    [result] = [
        line for line in run_scenario("conformance_versions.mjs", config) if line["event"] == "result"
    ]
    editor = {"clientId": "editor", "description": "typo", "metadata": {"reason": "fix"}}
    assert result["updates"] == [editor, {"clientId": "alice", "description": "self", "metadata": None}]
    assert result["rest"] == editor
    assert (result["impersonation"]["ok"], result["impersonation"]["code"]) == (False, 40012)


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_ably_python_rest_update_names_the_operation_client(live_broker, binary):
    channel_name = fresh_channel("ver")
    # A wildcard token may declare any operation clientId (an anonymous one may not).
    wildcard = {"client_id": "*"}
    async with rest_client(live_broker, use_binary_protocol=binary, default_token_params=wildcard) as rest:
        channel = rest.channels.get(channel_name)
        published = await channel.publish("m", "v1")
        serial = published.serials[0]
        operation = MessageOperation(client_id="bot", description="edit", metadata={"k": "v"})
        await channel.update_message(Message(serial=serial, data="v2"), operation)
        latest = await channel.get_message(serial)
    assert latest.data == "v2"
    assert (latest.version.client_id, latest.version.description, latest.version.metadata) == (
        "bot",
        "edit",
        {"k": "v"},
    )
