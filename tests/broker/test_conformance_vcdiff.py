"""`delta: 'vcdiff'` channel param: ably-js with @ably/vcdiff-decoder gets deltas and decodes them."""

from __future__ import annotations

import pytest

from tests.broker.realtime_helpers import fresh_channel
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
