"""SIGTERM to a web process running the agent in-process: answers in flight end, Daphne exits 0.

The web process embeds the broker and the agent (the default setup) on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from chat.runs.errors import ERROR_SHUTTING_DOWN
from tests.agent.conftest import invoke, new_conversation
from tests.support.team_clients import browser_peer, run_row, team_user
from tests.support.topology import run_topology
from tests.transport.conftest import streamed_text

pytestmark = pytest.mark.live

EXIT_BUDGET_SECONDS = 20


async def test_sigterm_ends_runs_in_flight_with_their_text_and_exits_zero():
    env = {
        "AGENT_IN_PROCESS": "true",
        "REDIS_URL": "",
        "DEMO_TOKENS_PER_SECOND": "10",
        "AGENT_SHUTDOWN_GRACE_SECONDS": "3",
    }
    with run_topology(webs=0, workers=0, brokers=0, env=env) as team:
        web = team.add_web()
        team.brokers.append(web)  # the embedded broker
        alice = team_user(team, "alice", web=web)
        conversation = await new_conversation(alice)
        peer = await browser_peer(team, alice, conversation)
        try:
            runs = []
            for text in ("first long answer", "second long answer"):
                event_id, _ = await peer.send_input(text)
                response = await invoke(alice, event_id, conversation)
                assert response.status_code == 200, response.text
                runs.append(response.json()["runId"])
            deadline = time.monotonic() + 30
            while not all(len(streamed_text(peer, r)) > 20 for r in runs):
                assert time.monotonic() < deadline, web.log()[-3000:]
                await asyncio.sleep(0.1)
            seen = {run_id: streamed_text(peer, run_id) for run_id in runs}
            await peer.clients.close()  # clients gone just before the SIGTERM (the segfault report)
            await asyncio.sleep(0.3)
            web.signal(signal.SIGTERM)
            status = await asyncio.to_thread(web.wait, EXIT_BUDGET_SECONDS)
        finally:
            await alice.http.aclose()
        assert status == 0, web.log()[-3000:]
        for run_id in runs:
            row = run_row(team, run_id)
            assert (row.status, row.error_code) == ("error", ERROR_SHUTTING_DOWN), (row, web.log()[-4000:])
            assert row.text.startswith(seen[run_id]) and len(row.text) > 20
