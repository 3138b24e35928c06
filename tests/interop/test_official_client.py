"""The official JavaScript client, `@ably/ai-transport` 0.8.0 with its Vercel codec, drives our agent.

Each scenario runs in Node against a live server (embedded broker, web views, in-process agent,
demo model): the client authenticates through `/ably/token` as a logged-in user, `view.send`s a
user message and POSTs the run's invocation to `/agent/invoke`, as the page does. The tests
assert on what the official client observed, and compare it with what the agent stored.
"""

from __future__ import annotations

import pytest

from tests.agent.conftest import new_conversation
from tests.interop.conftest import run_client_scenario, run_record

pytestmark = pytest.mark.live

PROMPT = "What is a durable stream?"
MIN_CHARS_BEFORE_STOP = 40
CLOSING_WORDS = "That is all the demo model knows."  # from the last paragraph of every demo answer


async def _scenario(server, user, scenario: str, prompt: str = PROMPT) -> list[dict]:
    """Run `scenario` in a new conversation of `user`; all the lines it printed."""
    conversation = await new_conversation(user)
    return run_client_scenario(
        server, user, conversation, scenario, prompt=prompt, minChars=MIN_CHARS_BEFORE_STOP
    )


def _lines(lines: list[dict], event: str = "result") -> list[dict]:
    return [line for line in lines if line["event"] == event]


def _stored_reply(record: dict, prompt: str = PROMPT) -> tuple[str, str]:
    """(status, text) of the assistant message the agent stored, after checking the stored prompt."""
    (user_role, user_status, user_text), (role, status, text) = record["messages"]
    assert (user_role, user_status, user_text) == ("user", "complete", prompt)
    assert role == "assistant"
    return status, text


def _no_step_left_open(result: dict) -> bool:
    return all(step["status"] != "active" for step in result["run"]["steps"])


async def test_send_streams_a_reply_the_vercel_codec_rebuilds(interop_server, alice):
    [result] = _lines(await _scenario(interop_server, alice, "complete"))

    run_id = result["invoked"]["runId"]
    assert result["startedRunId"] == run_id  # run.started resolved with the id /agent/invoke minted
    assert result["run"]["invocationId"] == result["invoked"]["invocationId"]
    assert result["clientId"] == alice.client_id == result["run"]["clientId"]
    assert result["statuses"] == ["active", "complete"]
    assert [(e["type"], e["reason"]) for e in result["runEvents"]] == [("start", None), ("end", "complete")]
    assert result["handleStatus"] == "complete" and result["errors"] == []
    assert result["run"]["steps"] == [{"status": "complete", "attemptCount": 1}]
    assert [m["role"] for m in result["runMessages"]] == ["user", "assistant"]
    reply = result["reply"]
    assert reply["count"] == 1 and reply["partTypes"] == ["step-start", "text"]

    record = run_record(interop_server, run_id)
    assert (record["status"], record["end_reason"]) == ("complete", "complete")
    assert _stored_reply(record) == ("complete", reply["text"])
    assert PROMPT in reply["text"] and CLOSING_WORDS in reply["text"]


async def test_a_second_turn_follows_the_first_on_one_branch(interop_server, alice):
    lines = await _scenario(interop_server, alice, "two_turns")
    first, second = _lines(lines)
    [seen] = _lines(lines, "conversation")

    for turn, result in enumerate((first, second), start=1):
        assert result["runOfInput"] == result["runId"] == result["invoked"]["runId"]
        assert result["statuses"] == ["active", "complete"] and result["errors"] == []
        record = run_record(interop_server, result["runId"])
        assert _stored_reply(record, f"{PROMPT} (turn {turn})") == ("complete", result["reply"]["text"])
    assert [m["role"] for m in seen["messages"]] == ["user", "assistant", "user", "assistant"]
    assert seen["messages"][1]["text"] == first["reply"]["text"]
    assert seen["messages"][3]["text"] == second["reply"]["text"]
    assert "message 2 of our conversation" in second["reply"]["text"]  # the agent saw the first turn
    assert seen["runs"] == [
        {"runId": first["runId"], "status": "complete"},
        {"runId": second["runId"], "status": "complete"},
    ]


async def test_an_agent_error_reaches_the_client_with_its_code_and_message(interop_server, alice):
    prompt = "please fail [demo-error after=3]"
    [result] = _lines(await _scenario(interop_server, alice, "complete", prompt))

    assert result["statuses"] == ["active", "error"] and result["handleStatus"] == "error"
    record = run_record(interop_server, result["runId"])
    assert record["status"] == "error"
    expected = {"code": record["error_code"], "message": record["error_message"]}
    error = result["run"]["error"]
    assert {"code": error["code"], "message": error["message"]} == expected
    assert error["statusCode"] == record["error_code"] // 100  # how the SDK derives it from the code
    assert [{"code": e["code"], "message": e["message"]} for e in result["errors"]] == [expected]
    # The partial answer is kept (stored as `cancelled`, the product's status for an unfinished reply).
    assert _stored_reply(record, prompt) == ("cancelled", result["reply"]["text"])
    assert len(result["reply"]["text"].split()) == 3


@pytest.mark.parametrize("scenario", ["cancel_before_invoke", "cancel_before_run_id"])
async def test_run_handle_cancel_before_the_run_id_is_known(interop_server, alice, scenario):
    [result] = _lines(await _scenario(interop_server, alice, scenario))

    assert result["runIdBeforeStart"] == ""  # the cancel was keyed on the input, not on a run id
    assert result["runId"] == result["invoked"]["runId"]
    assert result["statuses"] == ["active", "cancelled"]
    assert result["handleStatus"] == "cancelled" and result["errors"] == []
    assert _no_step_left_open(result), result["run"]["steps"]

    record = run_record(interop_server, result["runId"])
    assert (record["status"], record["end_reason"]) == ("cancelled", "cancelled")
    status, text = _stored_reply(record)
    assert status == "cancelled"
    assert text == (result["reply"] or {}).get("text", "")
    assert CLOSING_WORDS not in text
    if scenario == "cancel_before_invoke":
        # Cancelled before the agent ran at all: it announces the run and ends it, publishing no output.
        assert result["reply"] is None and result["run"]["steps"] == [] and text == ""


@pytest.mark.parametrize("scenario", ["cancel_mid_stream", "session_cancel"])
async def test_cancel_mid_stream_keeps_the_partial_reply(interop_server, alice, scenario):
    [result] = _lines(await _scenario(interop_server, alice, scenario))

    assert result["runId"] == result["invoked"]["runId"]
    assert result["statuses"] == ["active", "cancelled"]
    assert [(e["type"], e["reason"]) for e in result["runEvents"]] == [("start", None), ("end", "cancelled")]
    assert result["handleStatus"] == "cancelled" and result["errors"] == []
    assert result["run"]["steps"] == [{"status": "cancelled", "attemptCount": 1}]
    text = result["reply"]["text"]
    assert len(result["textAtCancel"]) > MIN_CHARS_BEFORE_STOP and text.startswith(result["textAtCancel"])
    assert CLOSING_WORDS not in text

    record = run_record(interop_server, result["runId"])
    assert (record["status"], record["end_reason"]) == ("cancelled", "cancelled")
    assert _stored_reply(record) == ("cancelled", text)


async def test_a_session_joining_mid_stream_hydrates_and_sees_the_same_reply(interop_server, alice):
    first, second = _lines(await _scenario(interop_server, alice, "late_join"))

    joined = second["atJoin"]
    assert joined["revealedRoles"] == ["user", "assistant"]
    assert joined["status"] == "active"
    assert joined["text"] and CLOSING_WORDS not in joined["text"]  # it joined a reply still streaming
    assert second["reply"]["text"].startswith(joined["text"])
    assert second["reply"]["count"] == 1 and second["errors"] == []
    assert second["statuses"][-1] == "complete" and second["run"]["status"] == "complete"
    assert second["run"]["invocationId"] == first["invoked"]["invocationId"]
    assert second["reply"]["text"] == first["reply"]["text"]

    record = run_record(interop_server, first["runId"])
    assert _stored_reply(record) == ("complete", first["reply"]["text"])
