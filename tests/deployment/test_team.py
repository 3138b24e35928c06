"""A team deployment end to end: 2 web processes, 2 agent workers, a broker, PostgreSQL, Redis.

The tests share one topology and run in file order: the last one restarts Redis and replaces
the workers it stopped.
"""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from chat.transport import wire
from tests.agent.conftest import invoke, new_conversation
from tests.deployment.conftest import REAP_AFTER_SECONDS
from tests.support.team_clients import browser_peer, http_on, run_row, team_user, wait_run_closed
from tests.transport.conftest import Peer, headers, streamed_text

pytestmark = pytest.mark.deployment

CONCURRENT_RUNS = 20
CONVERSATIONS = 5
RUN_SECONDS = 60


async def start_run(user, peer: Peer, conversation: str, text: str, http=None) -> tuple[str, str]:
    event_id, codec_id = await peer.send_input(text)
    client = http or user.http
    response = await client.post(
        "/agent/invoke", json={"inputEventId": event_id, "sessionName": f"ai:{conversation}"}
    )
    assert response.status_code == 200, response.text
    return response.json()["runId"], codec_id


def lifecycle_of(peer: Peer, name: str, run_id: str) -> list:
    return [m for m in peer.named(name) if headers(m).get(wire.HEADER_RUN_ID) == run_id]


async def wait_until(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def people(team):
    """Factory of users (logged in on web 1) and their peers on the broker; closed afterwards."""
    made_users, made_peers = [], []

    async def make(name: str, staff: bool = False):
        user = team_user(team, f"{name}-{len(made_users)}-{time.monotonic_ns() % 10**6}", staff=staff)
        made_users.append(user)
        return user

    async def peer(user, conversation):
        p = await browser_peer(team, user, conversation)
        made_peers.append(p)
        return p

    yield make, peer
    for p in made_peers:
        await p.clients.close()
    for user in made_users:
        await user.http.aclose()


async def test_a_run_invoked_on_web_1_streams_and_completes(team, people):
    make, peer_for = people
    alice = await make("alice")
    conversation = await new_conversation(alice)
    peer = await peer_for(alice, conversation)
    run_id, _ = await start_run(alice, peer, conversation, "What is a durable stream?")
    await wait_until(lambda: lifecycle_of(peer, wire.EVENT_RUN_END, run_id), RUN_SECONDS, "the run end")
    assert headers(lifecycle_of(peer, wire.EVENT_RUN_END, run_id)[0])[wire.HEADER_RUN_REASON] == "complete"
    row = await wait_run_closed(team, run_id, 10)
    assert (row.status, row.assistant_rows, row.claimed) == ("complete", 1, True)
    assert row.text == streamed_text(peer, run_id) and "durable stream" in row.text


async def test_admin_stop_through_web_2_cancels_the_run(team, people):
    make, peer_for = people
    alice, root = await make("alice"), await make("root", staff=True)
    conversation = await new_conversation(alice)
    peer = await peer_for(alice, conversation)
    run_id, _ = await start_run(alice, peer, conversation, "a long answer please")
    await wait_until(lambda: streamed_text(peer, run_id), RUN_SECONDS, "the first token")
    (pk,) = team.database.query("select id from chat_run where run_id = %s", (run_id,))[0]
    async with http_on(root, team.webs[1]) as admin:
        response = await admin.post(
            "/admin/chat/run/", data={"action": "stop_selected_runs", "_selected_action": str(pk)}
        )
    assert response.status_code == 302, response.text
    await wait_until(lambda: lifecycle_of(peer, wire.EVENT_RUN_END, run_id), 15, "the run end")
    assert headers(lifecycle_of(peer, wire.EVENT_RUN_END, run_id)[0])[wire.HEADER_RUN_REASON] == "cancelled"
    row = await wait_run_closed(team, run_id, 10)
    assert row.status == "cancelled" and row.text == streamed_text(peer, run_id)


async def test_concurrent_runs_through_both_webs_complete_exactly_once(team, people):
    make, peer_for = people
    users = [await make(f"crowd{i}") for i in range(CONVERSATIONS)]
    conversations = [await new_conversation(user) for user in users]
    peers = [await peer_for(user, conv) for user, conv in zip(users, conversations, strict=True)]
    https = [http_on(user, team.webs[1]) for user in users]
    try:
        starts = []
        for i in range(CONCURRENT_RUNS):
            k = i % CONVERSATIONS
            via = https[k] if i % 2 else None  # alternate web 1 and web 2
            starts.append(start_run(users[k], peers[k], conversations[k], f"question {i}", http=via))
        started = await asyncio.gather(*starts)
        runs = [(peers[i % CONVERSATIONS], run_id) for i, (run_id, _) in enumerate(started)]

        def all_ended() -> bool:
            return all(lifecycle_of(p, wire.EVENT_RUN_END, run_id) for p, run_id in runs)

        await wait_until(all_ended, RUN_SECONDS * 4, f"{CONCURRENT_RUNS} run ends")
        await asyncio.sleep(1)  # a duplicate start or end would arrive by now
    finally:
        for http in https:
            await http.aclose()
    for p, run_id in runs:
        assert len(lifecycle_of(p, wire.EVENT_RUN_START, run_id)) == 1, run_id
        ends = lifecycle_of(p, wire.EVENT_RUN_END, run_id)
        assert len(ends) == 1 and headers(ends[0])[wire.HEADER_RUN_REASON] == "complete", run_id
        row = await wait_run_closed(team, run_id, 10)
        assert (row.status, row.assistant_rows) == ("complete", 1)
        assert row.text == streamed_text(p, run_id)
    workers = {run_row(team, run_id).worker_id for _, run_id in runs}
    assert len(workers) == 2, f"both workers should have answered: {workers}"


async def test_sigkill_of_a_worker_mid_answer_is_reaped_with_its_text(team, people):
    make, peer_for = people
    alice = await make("alice")
    conversation = await new_conversation(alice)
    peer = await peer_for(alice, conversation)
    run_id, _ = await start_run(alice, peer, conversation, "tell me everything")
    await wait_until(lambda: len(streamed_text(peer, run_id)) > 40, RUN_SECONDS, "some answer text")
    holder = run_row(team, run_id).worker_id
    (victim,) = [w for w in team.workers if holder.endswith(f":{w.pid}")]
    victim.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    budget = REAP_AFTER_SECONDS + 10
    await wait_until(lambda: lifecycle_of(peer, wire.EVENT_RUN_END, run_id), budget, "the reaper's run end")
    end = headers(lifecycle_of(peer, wire.EVENT_RUN_END, run_id)[0])
    assert end[wire.HEADER_RUN_REASON] == "error" and end[wire.HEADER_ERROR_CODE] == "50003"
    row = await wait_run_closed(team, run_id, max(1.0, budget - (time.monotonic() - killed_at)))
    assert row.status == "error" and row.error_code == 50003
    assert row.text and row.text == streamed_text(peer, run_id)
    team.workers.remove(victim)
    team.add_worker()


async def test_redis_restart_mid_answer_ends_everything_and_recovers(team, people):
    make, peer_for = people
    alice = await make("alice")
    conversation = await new_conversation(alice)
    peer = await peer_for(alice, conversation)
    in_flight = [(await start_run(alice, peer, conversation, f"long one {i}"))[0] for i in range(2)]
    await wait_until(lambda: all(streamed_text(peer, r) for r in in_flight), RUN_SECONDS, "both answers")

    team.redis.stop()
    event_id, _ = await peer.send_input("while redis is down")
    refused = await invoke(alice, event_id, conversation)
    assert refused.status_code == 503 and refused.json()["error"]["statusCode"] == 503
    statuses = []
    for worker in team.workers:
        statuses.append(await asyncio.to_thread(worker.wait, 30))  # never hangs
    assert all(status != 0 for status in statuses), statuses
    for run_id in in_flight:
        await wait_until(lambda r=run_id: lifecycle_of(peer, wire.EVENT_RUN_END, r), 15, "in-flight run end")
        row = await wait_run_closed(team, run_id, 15)
        assert row.status == "error" and row.text and row.text == streamed_text(peer, run_id)
    open_runs = team.database.query("select count(*) from chat_run where status = 'active'")[0][0]
    assert open_runs == 0

    team.redis.start()
    team.workers.clear()
    team.add_worker()
    team.add_worker()
    event_id, _ = await peer.send_input("after the restart")
    for _ in range(50):
        response = await invoke(alice, event_id, conversation)
        if response.status_code == 200:
            break
        assert response.status_code == 503
        await asyncio.sleep(0.2)
    assert response.status_code == 200, response.text
    run_id = response.json()["runId"]
    await wait_until(lambda: lifecycle_of(peer, wire.EVENT_RUN_END, run_id), RUN_SECONDS, "the new run's end")
    assert (await wait_run_closed(team, run_id, 10)).status == "complete"
