"""ably-js (Node) against the broker's REST API, and what ably-python then reads from the same channel."""

from __future__ import annotations

import uuid

import pytest

from tests.support.ably_clients import rest_client
from tests.support.node_scripts import run_scenario

pytestmark = pytest.mark.live


def _events(lines: list[dict]) -> dict[str, dict]:
    return {line["event"]: line for line in lines}


@pytest.mark.parametrize("token_auth", [False, True], ids=["basic", "token"])
async def test_js_rest_publishes_mutates_and_pages_and_realtime_sees_it(live_broker, token_auth):
    channel_name = f"js:{uuid.uuid4().hex}:with space+plus/slash"
    lines = run_scenario(
        "rest_interop.mjs",
        {
            "port": live_broker.port,
            "key": live_broker.api_key,
            "channel": channel_name,
            "tokenAuth": token_auth,
        },
    )
    events = _events(lines)
    assert "error" not in events, events.get("error")
    first, second = events["published"]["serials"]
    assert first < second < events["appended"]["versionSerial"]
    latest = events["latest"]
    assert latest["data"] == "one+more" and latest["action"] == "message.update"
    assert latest["clientId"] == "js-rest" and latest["version"]["metadata"] == {"phase": "done"}
    assert events["history"]["pages"] == [["two"], ["one+more"]]
    assert events["versions"]["actions"] == ["message.create"]
    seen = events["subscriber"]["seen"]
    assert [(m["action"], m["data"]) for m in seen] == [
        ("message.create", "one"),
        ("message.create", "two"),
        ("message.append", "+more"),
    ]

    async with rest_client(live_broker) as python_side:
        history = await python_side.channels.get(channel_name).history(direction="forwards")
    assert [(m.data, m.client_id) for m in history.items] == [("one+more", "js-rest"), ("two", "js-rest")]
