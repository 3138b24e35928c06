"""The agent worker through the real product flow: browser token, ai-input, POST /agent/invoke.

The live server runs Daphne with the embedded broker, the in-process worker and the demo
model; peers authenticate the way the browser does. Database state is read back through the
server's own database with `manage.py shell`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
from contextlib import closing

import pytest

from chat.transport import wire
from chat.transport.clients import build_clients
from tests.agent.conftest import browser_clients, invoke, new_conversation
from tests.support.live_server import run_live_server
from tests.support.web_sessions import make_web_user, manage
from tests.transport.conftest import Peer, headers, streamed_text, target_of

pytestmark = pytest.mark.live

_RUN_STATE = """
import json
from chat.models import Run
run = Run.objects.get(run_id={run_id!r})
print(json.dumps({{
    "pk": run.pk, "status": run.status, "end_reason": run.end_reason, "error_code": run.error_code,
    "error_message": run.error_message, "model": run.model_name,
    "messages": [[m.role, m.status, m.text] for m in run.messages.order_by("created_at", "id")],
}}))
"""


def run_pk(server, run_id: str) -> int:
    """The run's primary key, read straight from the server's SQLite file (no subprocess)."""
    with closing(sqlite3.connect(server.data_dir / "db.sqlite3")) as db:
        return db.execute("select id from chat_run where run_id = ?", (run_id,)).fetchone()[0]


def run_state(server, run_id: str) -> dict:
    return json.loads(
        manage(server, "shell", "-c", _RUN_STATE.format(run_id=run_id)).strip().splitlines()[-1]
    )


async def start_run(user, peer, conversation_id: str, text: str) -> tuple[str, str]:
    event_id, codec_id = await peer.send_input(text)
    response = await invoke(user, event_id, conversation_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"runId", "invocationId"}
    return body["runId"], codec_id


async def test_answer_streams_completes_and_is_stored(agent_server, web, peer_for):
    alice = await web()
    conversation = await new_conversation(alice)
    peer = await peer_for(alice, conversation)
    run_id, _ = await start_run(alice, peer, conversation, "What is a durable stream?")
    end = await peer.wait_run_end(run_id)

    assert headers(end)[wire.HEADER_RUN_REASON] == "complete"
    assert headers(end)[wire.HEADER_RUN_CLIENT_ID] == alice.client_id
    state = run_state(agent_server, run_id)
    assert state["status"] == "complete" and state["model"].startswith("demo/")
    assert state["messages"][0] == ["user", "complete", "What is a durable stream?"]
    role, status, text = state["messages"][1]
    assert (role, status) == ("assistant", "complete")
    assert text == streamed_text(peer, run_id)
    assert "durable stream" in text


async def test_stop_keeps_exactly_the_published_text(agent_server, web, peer_for):
    alice = await web()
    conversation = await new_conversation(alice)
    peer = await peer_for(alice, conversation)
    run_id, codec_id = await start_run(alice, peer, conversation, "Explain streams at length")
    await peer.wait_for(lambda: len(streamed_text(peer, run_id)) > 20, "some answer text")
    await peer.cancel(input_codec_message_id=codec_id)
    end = await peer.wait_run_end(run_id)

    assert headers(end)[wire.HEADER_RUN_REASON] == "cancelled"
    state = run_state(agent_server, run_id)
    assert (state["status"], state["end_reason"]) == ("cancelled", "cancelled")
    role, status, text = state["messages"][1]
    assert (role, status) == ("assistant", "cancelled")
    assert text == streamed_text(peer, run_id)


async def test_staff_may_stop_someone_elses_run(agent_server, web, peer_for):
    alice, sam = await web(), await web(staff=True)
    conversation = await new_conversation(alice)
    alice_peer = await peer_for(alice, conversation)
    staff_peer = await peer_for(sam, conversation)
    run_id, _ = await start_run(alice, alice_peer, conversation, "hello")
    await alice_peer.wait_for(lambda: bool(streamed_text(alice_peer, run_id)), "the first token")
    await staff_peer.cancel(run_id=run_id)
    assert headers(await alice_peer.wait_run_end(run_id))[wire.HEADER_RUN_REASON] == "cancelled"


async def test_admin_stop_selected_runs_cancels_as_the_staff_user(agent_server, web, peer_for):
    alice, root = await web(), await web(superuser=True)
    conversation = await new_conversation(alice)
    peer = await peer_for(alice, conversation)
    run_id, _ = await start_run(alice, peer, conversation, "hello")
    await peer.wait_for(lambda: bool(streamed_text(peer, run_id)), "the first token")
    pk = run_pk(agent_server, run_id)  # fast: the answer must still be streaming when Stop lands
    response = await root.http.post(
        "/admin/chat/run/", data={"action": "stop_selected_runs", "_selected_action": str(pk)}
    )
    assert response.status_code == 302, response.text
    end = await peer.wait_run_end(run_id)
    assert headers(end)[wire.HEADER_RUN_REASON] == "cancelled"
    cancels = [m for m in peer.named(wire.EVENT_CANCEL) if headers(m).get(wire.HEADER_RUN_ID) == run_id]
    assert [m.client_id for m in cancels] == [root.client_id]


async def test_another_users_cancel_is_refused_and_the_run_completes(agent_server, web, peer_for):
    alice, bob = await web(), await web()
    conversation = await new_conversation(alice)
    peer = await peer_for(alice, conversation)
    # Bob cannot get a token for Alice's channel (404); give him one anyway, signed with the key,
    # to show the agent itself refuses his cancel by his verified clientId.
    assert (await bob.http.get("/ably/token", params={"conversation": conversation})).status_code == 404
    bob_clients = build_clients(
        agent_server.api_key,
        target_of(agent_server),
        client_id=bob.client_id,
        capability={"ai:*": ["publish"]},
    )
    intruder = Peer(bob_clients, f"ai:{conversation}", bob.client_id)
    try:
        run_id, codec_id = await start_run(alice, peer, conversation, "hello")
        await peer.wait_for(lambda: bool(streamed_text(peer, run_id)), "the first token")
        await intruder.cancel(input_codec_message_id=codec_id)
        await intruder.cancel(run_id=run_id)
        end = await peer.wait_run_end(run_id)
    finally:
        await bob_clients.close()
    assert headers(end)[wire.HEADER_RUN_REASON] == "complete"


async def test_invoking_someone_elses_input_runs_nothing(agent_server, web, peer_for):
    alice, sam = await web(), await web(staff=True)
    conversation = await new_conversation(alice)
    peer = await peer_for(alice, conversation)
    event_id, _ = await peer.send_input("alice's question")
    response = await invoke(sam, event_id, conversation)  # staff may open it, but did not write it
    run_id = response.json()["runId"]
    end = headers(await peer.wait_run_end(run_id))
    assert end[wire.HEADER_RUN_REASON] == "error" and end[wire.HEADER_ERROR_CODE] == "40300"
    assert not [m for m in peer.named(wire.EVENT_OUTPUT) if headers(m)[wire.HEADER_RUN_ID] == run_id]


async def test_provider_error_ends_the_run_with_its_code_and_message(agent_server, web, peer_for):
    alice = await web()
    conversation = await new_conversation(alice)
    peer = await peer_for(alice, conversation)
    run_id, _ = await start_run(alice, peer, conversation, "please fail [demo-error after=3]")
    end = headers(await peer.wait_run_end(run_id))
    assert end[wire.HEADER_RUN_REASON] == "error"
    assert end[wire.HEADER_ERROR_CODE].isdigit() and end[wire.HEADER_ERROR_MESSAGE]
    state = run_state(agent_server, run_id)
    assert state["status"] == "error"
    assert str(state["error_code"]) == end[wire.HEADER_ERROR_CODE]
    assert state["error_message"] == end[wire.HEADER_ERROR_MESSAGE]


async def test_invoke_rejects_bad_requests(agent_server, web):
    alice, bob = await web(), await web()
    conversation = await new_conversation(alice)
    assert (await alice.http.post("/agent/invoke", content=b"{not json")).status_code == 400
    assert (await alice.http.post("/agent/invoke", json={"inputEventId": "x"})).status_code == 400
    assert (await alice.http.post("/agent/invoke", json=["x"])).status_code == 400
    assert (await invoke(bob, "e1", conversation)).status_code == 404
    assert (
        await alice.http.post("/agent/invoke", json={"inputEventId": "e", "sessionName": "x:y"})
    ).status_code == 404
    assert (await alice.http.get("/agent/invoke")).status_code == 405
    alice.http.cookies.delete("sessionid")
    assert (await invoke(alice, "e1", conversation)).status_code == 401


async def test_concurrent_runs_in_one_conversation_stop_independently(agent_server, web, peer_for):
    alice = await web()
    conversation = await new_conversation(alice)
    peer = await peer_for(alice, conversation)
    first, first_codec = await start_run(alice, peer, conversation, "first question")
    second, _ = await start_run(alice, peer, conversation, "second question")
    await peer.wait_for(lambda: bool(streamed_text(peer, first)), "first run's tokens")
    await peer.cancel(input_codec_message_id=first_codec)
    first_end, second_end = await asyncio.gather(peer.wait_run_end(first), peer.wait_run_end(second))
    assert headers(first_end)[wire.HEADER_RUN_REASON] == "cancelled"
    assert headers(second_end)[wire.HEADER_RUN_REASON] == "complete"


async def test_reaper_ends_the_run_of_a_killed_worker():
    """The in-process agent: a restarted server's reaper, running from its start, ends the run."""
    slow = {"DEMO_TOKENS_PER_SECOND": "5", "AGENT_HEARTBEAT_SECONDS": "0.5"}
    with run_live_server(slow) as first:
        alice = make_web_user(first, "alice")
        try:
            conversation = await new_conversation(alice)
            run_id, codec_id, streamed = await _start_on(first, alice, conversation)
            os.kill(first.pid, signal.SIGKILL)
            reap = {"AGENT_REAP_AFTER_SECONDS": "1", "AGENT_REAP_INTERVAL_SECONDS": "0.5"}
            with run_live_server(reap, reuse=first) as second:
                alice.http.base_url = second.base_url
                state = await _wait_closed(second, run_id)
                clients = browser_clients(second, alice, conversation)
                try:
                    page = await clients.rest.channels.get(f"ai:{conversation}").history(limit=100)
                finally:
                    await clients.close()
        finally:
            await alice.http.aclose()
    ends = [
        m for m in page.items if m.name == wire.EVENT_RUN_END and headers(m)[wire.HEADER_RUN_ID] == run_id
    ]
    assert len(ends) == 1
    end = headers(ends[0])
    assert end[wire.HEADER_RUN_REASON] == "error"
    assert end[wire.HEADER_INPUT_CODEC_MESSAGE_ID] == codec_id
    assert state["status"] == "error" and state["error_code"] == int(end[wire.HEADER_ERROR_CODE])
    kept = state["messages"][1][2]
    assert kept.startswith(streamed) and len(kept) >= len(streamed) > 0


async def _wait_closed(server, run_id: str, seconds: float = 20) -> dict:
    for _ in range(int(seconds * 2)):
        state = run_state(server, run_id)
        if state["status"] != "active":
            return state
        await asyncio.sleep(0.5)
    raise AssertionError(f"run {run_id} still active after {seconds}s")


async def _start_on(server, user, conversation):
    clients = browser_clients(server, user, conversation)
    peer = Peer(clients, f"ai:{conversation}", user.client_id)
    try:
        await peer.attach()
        run_id, codec_id = await start_run(user, peer, conversation, "a slow answer please")
        await peer.wait_for(lambda: bool(streamed_text(peer, run_id)), "the first token")
        streamed = streamed_text(peer, run_id)
    finally:
        await clients.close()
    return run_id, codec_id, streamed
