"""Channel params (echo, rewind) and channel modes, as ably-js sees them."""

from __future__ import annotations

import pytest

from tests.broker.realtime_helpers import fresh_channel
from tests.support.node_scripts import run_scenario

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def lines(live_broker) -> dict[str, dict]:
    config = {"port": live_broker.port, "key": live_broker.api_key, "channel": fresh_channel("ch")}
    return {line["event"]: line for line in run_scenario("conformance_channels.mjs", config)}


def test_attached_echoes_accepted_params_and_drops_unknown_ones(lines):
    echo = lines["echo"]
    assert echo["params"] == {"rewind": "1", "delta": "vcdiff", "occupancy": "metrics"}
    assert echo["modes"] == ["publish", "subscribe"]


def test_the_modes_param_stands_in_for_mode_flags(lines):
    assert lines["echo"]["modesFromParam"] == ["presence", "subscribe"]
    assert lines["echo"]["paramsFromParam"] == {"modes": "subscribe,presence"}


def test_rewind_replays_by_count_and_by_time(lines):
    rewind = lines["rewind"]
    assert rewind["one"] == ["m3"]
    assert rewind["ten"] == ["m1", "m2", "m3"]
    assert rewind["twoMinutes"] == ["m1", "m2", "m3"]


def test_a_subscribe_only_attachment_may_not_publish(lines):
    modes = lines["modes"]
    assert modes["modes"] == ["subscribe"]
    assert (modes["publish"]["ok"], modes["publish"]["code"]) == (False, 40160)
    assert modes["connection"] == "connected"


def test_inband_occupancy_follows_attachments_and_presence(lines):
    occupancy = lines["occupancy"]
    busiest = max(occupancy["events"], key=lambda metrics: metrics["connections"])
    assert occupancy["events"][0]["connections"] == 1
    assert (busiest["connections"], busiest["presenceMembers"]) == (2, 1)
    assert (occupancy["last"]["connections"], occupancy["last"]["presenceMembers"]) == (1, 0)
    assert set(occupancy["last"]) >= {
        "publishers",
        "subscribers",
        "presenceConnections",
        "presenceSubscribers",
    }
