"""`delta: 'vcdiff'` channel param: both SDKs, with their vcdiff plugins, get deltas and decode them."""

from __future__ import annotations

import pytest
from ably import AblyVCDiffDecoder
from ably.types.channeloptions import ChannelOptions

from tests.broker.realtime_helpers import Collector, fresh_channel, realtime, state_change
from tests.support.ably_clients import rest_client
from tests.support.node_scripts import run_scenario

pytestmark = pytest.mark.live


@pytest.mark.parametrize("binary", [False, True], ids=["json", "msgpack"])
def test_vcdiff_deltas_decode_to_every_message(live_broker, binary):
    config = {
        "port": live_broker.port,
        "key": live_broker.api_key,
        "channel": fresh_channel("vc"),
        "binary": binary,
    }
    [result] = [line for line in run_scenario("conformance_vcdiff.mjs", config) if line["event"] == "result"]
    assert result["params"] == {"delta": "vcdiff"}
    assert result["seen"] == result["expected"] == result["plainSeen"]
    assert result["channelState"] == "attached"
    # Every whole message but the first follows one it resembles and travels as a vcdiff delta; the
    # append fragments travel as they are.
    assert result["deltaFrames"] == 6


class CountingDecoder(AblyVCDiffDecoder):
    """ably-python's own vcdiff plugin, counting the deltas it was handed."""

    calls = 0

    def decode(self, delta: bytes, base: bytes) -> bytes:
        self.calls += 1
        return super().decode(delta, base)


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_ably_python_decodes_the_deltas_too(live_broker, binary):
    channel_name = fresh_channel("vc")
    base = "The assistant answered: " + "lorem ipsum dolor sit amet, " * 20
    sent = [
        base,
        base + " And one more thing.",
        {"answer": base},
        {"answer": base, "n": 2},
        base.encode() + b"\x01",
    ]
    decoder = CountingDecoder()
    client = realtime(live_broker, binary=binary, vcdiff_decoder=decoder)
    try:
        await state_change(client.connection, "connected", "connection")
        channel = client.channels.get(channel_name, ChannelOptions(params={"delta": "vcdiff"}))
        got = Collector()
        await channel.subscribe(got.add)
        async with rest_client(live_broker) as rest:
            for data in sent:
                await rest.channels.get(channel_name).publish("m", data)
        received = await got.count(len(sent))
        assert channel.state == "attached"
    finally:
        await client.close()
    assert [m.data for m in received] == sent
    assert decoder.calls == len(sent) - 1  # every message after the first arrived as a delta
