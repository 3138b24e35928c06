"""Runs with `runworker agent` processes on PostgreSQL and a private Redis (no in-process agent).

Exactly-once claims, the reaper from a worker's start, and what Redis going away does to
`/agent/invoke` and to the workers. The tests share one topology and run in file order: the
last one stops Redis.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator

import pytest
from channels_redis.core import RedisChannelLayer

from chat.runs.jobs import AGENT_CHANNEL, InvocationJob
from chat.transport import wire
from tests.agent.conftest import invoke, new_conversation
from tests.support.team_clients import browser_peer, run_row, team_user, wait_run_closed
from tests.support.topology import Topology, run_topology
from tests.transport.conftest import Peer, headers, streamed_text

pytestmark = pytest.mark.live

AGENT_ENV = {
    "DEMO_TOKENS_PER_SECOND": "25",
    "AGENT_HEARTBEAT_SECONDS": "0.5",
    "AGENT_REAP_AFTER_SECONDS": "2",
    "AGENT_REAP_INTERVAL_SECONDS": "0.5",
    "AGENT_SHUTDOWN_GRACE_SECONDS": "2",
    "AGENT_CLAIM_TIMEOUT_SECONDS": "4",
}
REAP_BUDGET_SECONDS = float(AGENT_ENV["AGENT_REAP_AFTER_SECONDS"]) + 10
EXIT_BUDGET_SECONDS = 30


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    with run_topology(webs=1, workers=2, env=AGENT_ENV) as started:
        yield started


@pytest.fixture
async def alice(topology):
    user = team_user(topology, f"alice{time.monotonic_ns() % 10**9}")
    conversation = await new_conversation(user)
    peer = await browser_peer(topology, user, conversation)
    yield user, conversation, peer
    await peer.clients.close()
    await user.http.aclose()


def lifecycle(peer: Peer, name: str, run_id: str) -> list:
    return [m for m in peer.named(name) if headers(m).get(wire.HEADER_RUN_ID) == run_id]


async def wait_until(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        await asyncio.sleep(0.1)


async def start_run(user, peer: Peer, conversation: str, text: str) -> tuple[str, str, str]:
    event_id, _ = await peer.send_input(text)
    response = await invoke(user, event_id, conversation)
    assert response.status_code == 200, response.text
    return response.json()["runId"], response.json()["invocationId"], event_id


async def test_two_deliveries_of_one_job_answer_once(topology, alice):
    user, conversation, peer = alice
    run_id, invocation_id, event_id = await start_run(user, peer, conversation, "answer me once")
    duplicate = InvocationJob(
        run_id, invocation_id, event_id, f"ai:{conversation}", conversation, user.client_id
    )
    layer = RedisChannelLayer(hosts=[topology.redis.url], prefix=topology.env()["CHANNEL_LAYER_PREFIX"])
    await layer.send(AGENT_CHANNEL, duplicate.to_message())  # the second delivery, racing the first
    await layer.close_pools()

    await wait_until(lambda: lifecycle(peer, wire.EVENT_RUN_END, run_id), 30, "the run end")
    await asyncio.sleep(1.5)  # a second answer would have started by now
    assert len(lifecycle(peer, wire.EVENT_RUN_START, run_id)) == 1
    assert len(lifecycle(peer, wire.EVENT_RUN_END, run_id)) == 1
    row = await wait_run_closed(topology, run_id, 10)
    assert (row.status, row.assistant_rows) == ("complete", 1)
    assert row.text == streamed_text(peer, run_id)
    logs = "".join(worker.log() for worker in topology.workers)
    assert f"run {run_id} already claimed or ended; duplicate delivery ignored" in logs


async def test_a_fresh_workers_reaper_ends_a_killed_workers_run_once_with_its_text(topology, alice):
    user, conversation, peer = alice
    run_id, _, _ = await start_run(user, peer, conversation, "a slow answer please")
    await wait_until(lambda: len(streamed_text(peer, run_id)) > 30, 30, "some answer text")
    holder = run_row(topology, run_id).worker_id
    (victim,) = [w for w in topology.workers if holder.endswith(f":{w.pid}")]
    (other,) = [w for w in topology.workers if w is not victim]
    victim.signal(signal.SIGKILL)
    other.signal(signal.SIGTERM)
    assert await asyncio.to_thread(other.wait, EXIT_BUDGET_SECONDS) == 0  # idle worker: clean exit
    killed_at = time.monotonic()
    topology.workers.clear()
    fresh = [topology.add_worker(), topology.add_worker()]  # no jobs: only their reapers run

    await wait_until(lambda: lifecycle(peer, wire.EVENT_RUN_END, run_id), REAP_BUDGET_SECONDS, "the reaping")
    row = await wait_run_closed(
        topology, run_id, max(1.0, REAP_BUDGET_SECONDS - (time.monotonic() - killed_at))
    )
    await asyncio.sleep(2 * float(AGENT_ENV["AGENT_REAP_INTERVAL_SECONDS"]))  # the losing reaper's sweep
    (end,) = lifecycle(peer, wire.EVENT_RUN_END, run_id)
    assert headers(end)[wire.HEADER_RUN_REASON] == "error" and headers(end)[wire.HEADER_ERROR_CODE] == "50003"
    assert (row.status, row.error_code) == ("error", 50003)
    assert row.text and row.text == streamed_text(peer, run_id)
    assert sum(f"reaper ended run {run_id}" in worker.log() for worker in fresh) == 1


async def test_a_run_whose_job_never_arrived_is_ended_by_the_reaper(topology, alice):
    """A job lost in Redis (restart without persistence) must not leave its question hanging."""
    user, conversation, peer = alice
    run_id = f"lost-{time.monotonic_ns()}"
    topology.database.query(
        "insert into chat_run (run_id, invocation_id, conversation_id, owner_id, status, end_reason,"
        " error_message, input_codec_message_id, started_at, model_name, heartbeat_at, worker_id,"
        " prompt_tokens, completion_tokens) values (%s, %s, %s, %s, 'active', '', '', '',"
        " now() - interval '10 seconds', '', now() - interval '10 seconds', '', 0, 0) returning id",
        (run_id, "inv-lost", conversation, user.pk),
    )
    budget = float(AGENT_ENV["AGENT_REAP_INTERVAL_SECONDS"]) + 10
    await wait_until(lambda: lifecycle(peer, wire.EVENT_RUN_END, run_id), budget, "the reaper's run end")
    (end,) = lifecycle(peer, wire.EVENT_RUN_END, run_id)
    assert headers(end)[wire.HEADER_RUN_REASON] == "error" and headers(end)[wire.HEADER_ERROR_CODE] == "50004"
    row = await wait_run_closed(topology, run_id, 5)
    assert (row.status, row.error_code) == ("error", 50004) and "picked up" in row.error_message


async def test_without_the_database_invoke_answers_503_and_recovers(topology, alice):
    user, conversation, peer = alice
    event_id, _ = await peer.send_input("is the database there?")
    topology.database.refuse_connections()
    try:
        response = await invoke(user, event_id, conversation)
    finally:
        topology.database.accept_connections()
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["statusCode"] == 503
    response = await invoke(user, event_id, conversation)
    assert response.status_code == 200, response.text
    run_id = response.json()["runId"]
    await wait_until(lambda: lifecycle(peer, wire.EVENT_RUN_END, run_id), 30, "the run end after the outage")
    assert (await wait_run_closed(topology, run_id, 10)).status == "complete"


async def test_without_redis_invoke_answers_503_and_workers_exit_non_zero(topology, alice):
    user, conversation, peer = alice
    topology.redis.stop()
    event_id, _ = await peer.send_input("is anyone there?")
    response = await invoke(user, event_id, conversation)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["statusCode"] == 503
    active = topology.database.query("select count(*) from chat_run where status = 'active'")[0][0]
    assert active == 0
    statuses = [await asyncio.to_thread(worker.wait, EXIT_BUDGET_SECONDS) for worker in topology.workers]
    assert all(status not in (0, None) for status in statuses), statuses
