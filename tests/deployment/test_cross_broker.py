"""Two broker processes on one database: a subscriber on broker 2 follows a run the agent streams
through broker 1 (stored events fan out over Redis; gaps are refilled from the store)."""

from __future__ import annotations

import pytest

from chat.transport import wire
from tests.agent.conftest import new_conversation
from tests.deployment.conftest import FAST_AGENT
from tests.support.team_clients import browser_clients, team_user, wait_run_closed
from tests.support.topology import run_topology
from tests.transport.conftest import Peer, headers, streamed_text

pytestmark = [
    pytest.mark.deployment,
    pytest.mark.cross_broker,
]


async def test_a_subscriber_on_another_broker_process_sees_the_whole_answer():
    with run_topology(webs=0, workers=0, brokers=0, env=FAST_AGENT) as team:
        for _ in range(2):
            team.add_broker(REDIS_URL=team.redis.url)
        team.add_web()
        team.add_worker()  # reaches broker 1 (ABLY_ENDPOINT)
        alice = team_user(team, "alice")
        conversation = await new_conversation(alice)
        peer = Peer(
            browser_clients(team.brokers[1], alice, conversation), f"ai:{conversation}", alice.client_id
        )
        try:
            await peer.attach()
            event_id, _ = await peer.send_input("across brokers")
            response = await alice.http.post(
                "/agent/invoke", json={"inputEventId": event_id, "sessionName": f"ai:{conversation}"}
            )
            assert response.status_code == 200, response.text
            run_id = response.json()["runId"]
            end = await peer.wait_run_end(run_id)
            assert headers(end)[wire.HEADER_RUN_REASON] == "complete"
            assert (await wait_run_closed(team, run_id, 10)).text == streamed_text(peer, run_id)
        finally:
            await peer.clients.close()
            await alice.http.aclose()
