"""The official client follows one answer exactly through late joins and forced transport drops.

While our agent streams one long demo answer, (a) five new ClientSessions join at different moments, hydrate
with `view.loadOlder()` and follow live; (b) one client's WebSocket is cut five times (no server hook: ably-js
resumes). Every client must end with, character for character, the text the agent stored for the run, and the
run must end `complete`. Both run for the broker's default append rollup window and a larger one, with the
agent's delta coalescing off and on: the window boundaries move, the text may not.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from chat.agent.prompt import SYSTEM_PROMPT
from chat.agent.providers import ChatTurn
from chat.agent.providers.demo import compose_answer
from tests.agent.conftest import new_conversation
from tests.interop.conftest import run_client_scenario
from tests.support.live_server import LiveServer, run_live_server
from tests.support.web_sessions import WebUser, make_web_user

pytestmark = pytest.mark.live

DEMO_RATE = "40"  # tokens per second: the answer below streams for several seconds
PROMPT = (
    "Please explain at length, with examples, how a durable stream keeps every reader exact while the answer "
    "is still being written: late joiners, dropped sockets, resumes and everything in between?"
)
ANSWER = compose_answer([ChatTurn("system", SYSTEM_PROMPT), ChatTurn("user", PROMPT)])
CLOSING_WORDS = "That is all the demo model knows."
# Five moments, spread over the first two thirds of the answer, so each one lands while it still streams.
MOMENTS = [len(ANSWER) * share // 100 for share in (8, 20, 32, 44, 56)]
IN_FLIGHT_CHARS = 15  # what the witness must see arrive while the follower's socket is paused

# (broker append rollup window, agent append window), in ms.
ENGINE_SETTINGS = [(40, 0), (40, 40), (200, 0), (200, 40)]


@pytest.fixture(
    scope="module", params=ENGINE_SETTINGS, ids=[f"rollup{r}-agent{a}" for r, a in ENGINE_SETTINGS]
)
def engine_server(request) -> Iterator[LiveServer]:
    rollup_ms, agent_ms = request.param
    env = {
        "DEMO_TOKENS_PER_SECOND": DEMO_RATE,
        "BROKER_APPEND_ROLLUP_WINDOW_MS": str(rollup_ms),
        "AGENT_APPEND_WINDOW_MS": str(agent_ms),
    }
    with run_live_server(env) as server:
        yield server


@pytest.fixture
async def user(engine_server) -> AsyncIterator[WebUser]:
    made = make_web_user(engine_server, f"u{uuid.uuid4().hex[:8]}")
    yield made
    await made.http.aclose()


async def _run_scenario(server: LiveServer, user: WebUser, scenario: str, **extra) -> list[dict]:
    conversation = await new_conversation(user)
    lines = run_client_scenario(server, user, conversation, scenario, prompt=PROMPT, **extra)
    return [line for line in lines if line["event"] == "result"]


async def _assert_everyone_has_the_stored_answer(server_db, server, results: list[dict]) -> None:
    [run_id] = {result["runId"] for result in results}
    stored = await server_db(server).ended_run(run_id)
    assert (stored.status, stored.end_reason) == ("complete", "complete")
    assert stored.prompt == PROMPT
    assert stored.answer == ("complete", ANSWER)  # nothing lost or doubled between the model and the database
    for result in results:
        who = result["role"]
        assert result["reply"] is not None, f"{who} never saw the answer"
        assert result["reply"]["text"] == stored.answer_text, f"{who}'s text differs from the stored answer"
        assert result["reply"]["count"] == 1, who
        assert result["run"]["status"] == "complete", who
        assert result["statuses"][-1] == "complete", (who, result["statuses"])
        assert result["errors"] == [], (who, result["errors"])


async def test_late_joiners_hydrate_and_follow_to_the_exact_stored_answer(engine_server, user, server_db):
    results = await _run_scenario(engine_server, user, "late_joiners", joinAtChars=MOMENTS)

    sender, *joiners = results
    assert sender["role"] == "sender" and len(joiners) == len(MOMENTS)
    for joiner in joiners:
        opened, joined = joiner["senderAtOpen"], joiner["atJoin"]
        # It opened mid-stream: the sender had seen part of the answer, and the joiner hydrated a live run.
        assert opened["status"] == "active" and len(opened["text"]) > joiner["chars"]
        assert CLOSING_WORDS not in opened["text"]
        assert joined["revealedRoles"] == ["user", "assistant"]
        assert joined["text"] and ANSWER.startswith(joined["text"])
    # Five different moments: each joiner found a different amount of the answer at the sender's side.
    assert len({len(joiner["senderAtOpen"]["text"]) for joiner in joiners}) == len(MOMENTS)
    await _assert_everyone_has_the_stored_answer(server_db, engine_server, results)


async def test_forced_drops_mid_stream_resume_to_the_exact_stored_answer(engine_server, user, server_db):
    results = await _run_scenario(
        engine_server, user, "drops", dropAtChars=MOMENTS, inFlightChars=IN_FLIGHT_CHARS
    )

    follower, witness = results
    assert (follower["role"], witness["role"]) == ("follower", "witness")
    drops = follower["drops"]
    assert [drop["chars"] for drop in drops] == MOMENTS
    for drop in drops:
        # Cut mid-stream, with answer text in flight, and resumed on the same connection (not a new one).
        assert drop["witnessAtDrop"]["status"] == "active", drop
        assert drop["witnessAtDrop"]["chars"] > drop["followerAtPause"], drop
        assert drop["connectionId"] == follower["connectionId"], drop
    disconnections = [state for state in follower["states"] if state["state"] == "disconnected"]
    assert len(disconnections) == len(MOMENTS), follower["states"]
    assert "failed" not in {state["state"] for state in follower["states"]}
    reattached = [event for event in follower["channelEvents"] if event["current"] == "attached"]
    assert reattached == [{"current": "attached", "resumed": True}] * len(MOMENTS)  # continuity kept
    await _assert_everyone_has_the_stored_answer(server_db, engine_server, results)
