"""The deployment tier: one team topology for the module (see tests/support/topology.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.topology import Topology, run_topology

# Short enough for tests: a killed worker's run is reaped within REAP_AFTER + INTERVAL.
FAST_AGENT = {
    "DEMO_TOKENS_PER_SECOND": "40",
    "AGENT_HEARTBEAT_SECONDS": "1",
    "AGENT_REAP_AFTER_SECONDS": "3",
    "AGENT_REAP_INTERVAL_SECONDS": "1",
    "AGENT_SHUTDOWN_GRACE_SECONDS": "3",
}
REAP_AFTER_SECONDS = float(FAST_AGENT["AGENT_REAP_AFTER_SECONDS"])


@pytest.fixture(scope="module")
def team() -> Iterator[Topology]:
    with run_topology(webs=2, workers=2, env=FAST_AGENT) as topology:
        yield topology
