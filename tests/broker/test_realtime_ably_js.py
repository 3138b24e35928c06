"""ably-js 2.28 realtime (Node, JSON text frames) against the live broker, one scenario script per test.

The scripts under tests/broker/js/ drive the unmodified SDK and print what it reports as JSON lines.
"""

from __future__ import annotations

import pytest

from tests.broker.realtime_helpers import fresh_channel
from tests.support.node_scripts import run_scenario

pytestmark = pytest.mark.live


def scenario(server, script: str, **extra) -> list[dict]:
    config = {"port": server.port, "key": server.api_key, "channel": fresh_channel("js"), **extra}
    return run_scenario(script, config)


def only(lines: list[dict], event: str) -> dict:
    [line] = [line for line in lines if line["event"] == event]
    return line


def test_attach_subscribe_publish_ack_and_echo(live_broker):
    lines = scenario(live_broker, "realtime_pubsub.mjs")
    connected = only(lines, "connected")
    assert connected["clientId"] == "alice"
    assert connected["key"].startswith(connected["connectionId"] + "!")
    attached = only(lines, "attached")
    assert attached["state"] == "attached" and attached["attachSerial"]
    assert set(attached["modes"]) == {"publish", "subscribe", "presence", "presence_subscribe"}
    acks = [line["serials"] for line in lines if line["event"] == "ack"]
    assert [len(serials) for serials in acks] == [1, 2, 1]
    received = only(lines, "received")
    names = lambda who: [m["name"] for m in received[who]]  # noqa: E731
    assert names("subscriber") == ["greeting", "quiet-1", "quiet-2", "marker"]
    assert names("quiet") == ["greeting", "marker"], "an echo=false connection got its own messages"
    assert names("publisher") == ["greeting", "quiet-1", "quiet-2", "marker"]
    greeting, quiet_1, _, _ = received["subscriber"]
    assert greeting["serial"] == acks[0][0] and greeting["action"] == "message.create"
    assert greeting["clientId"] == "alice" and greeting["connectionId"] == connected["connectionId"]
    assert quiet_1["data"] == {"n": 1} and quiet_1["serial"] == acks[1][0]


def test_update_append_delete_before_and_after_the_create(live_broker):
    lines = scenario(live_broker, "realtime_mutations.mjs")
    serial = only(lines, "created")["serial"]
    versions = only(lines, "acks")["versions"]
    assert len(set(versions)) == 5 and all(v > serial for v in versions)
    received = only(lines, "received")
    seen = lambda who: [(m["action"], m["data"]) for m in received[who]]  # noqa: E731
    assert seen("early") == [
        ("message.create", "Hello"),
        ("message.append", ", wor"),
        ("message.append", "ld"),
        ("message.append", "!"),
        ("message.update", "Edited"),
        ("message.delete", "Edited"),
    ]
    assert seen("late") == [
        ("message.update", "Hello, world!"),
        ("message.update", "Edited"),
        ("message.delete", "Edited"),
    ]
    assert seen("full") == [
        ("message.create", "Hello"),
        ("message.update", "Hello, wor"),
        ("message.update", "Hello, world"),
        ("message.update", "Hello, world!"),
        ("message.update", "Edited"),
        ("message.delete", "Edited"),
    ]
    for who in ("early", "late", "full"):
        assert {m["serial"] for m in received[who]} == {serial}
        assert [m["versionSerial"] for m in received[who]][-3:] == versions[-3:]
    assert received["early"][3]["extras"] == {"headers": {"status": "complete"}}


def test_resume_after_a_dropped_socket_loses_and_doubles_nothing(live_broker):
    result = only(scenario(live_broker, "realtime_resume.mjs"), "result")
    assert result["after"] == result["before"]
    assert [s["state"] for s in result["states"]] == ["disconnected", "connecting", "connected"]
    expected = ["m1", "m2", "m3", "own", "m4"]
    assert [m["name"] for m in result["subscriber"]] == expected
    assert [m["name"] for m in result["observer"]] == expected
    own = next(m for m in result["observer"] if m["name"] == "own")
    assert result["ownSerial"] == own["serial"], "the retransmitted publish was stored again"
    assert result["channelEvents"][-1] == {"current": "attached", "resumed": True}


def test_recover_with_a_recovery_key_keeps_the_connection(live_broker):
    result = only(scenario(live_broker, "realtime_recover.mjs"), "result")
    assert result["secondId"] == result["firstId"]
    assert result["recovered"] == ["while-away", "after"]
    assert {"current": "attached", "resumed": True} in result["changes"]


def test_token_renewal_and_expiry(live_broker):
    result = only(scenario(live_broker, "realtime_token.mjs", ttl=4000), "result")
    assert result["renewals"] >= 3 and result["sameConnection"]
    drops = [s for s in result["renewingStates"] if s["state"] == "disconnected"]
    assert drops and all(s["code"] == 40142 for s in drops)
    assert "failed" not in [s["state"] for s in result["renewingStates"]]
    literal = [s for s in result["literalStates"] if s["state"] in ("disconnected", "failed")]
    # A token literal keeps its connection until the token expires, then fails: it cannot renew.
    assert [(s["state"], s["code"]) for s in literal] == [("disconnected", 40142), ("failed", 40171)]
    assert literal[0]["after"] >= 4000 - 500
    assert result["received"] == ["still here"]
    first_drop = next(s for s in result["expiringStates"] if s["state"] == "disconnected")
    assert first_drop["code"] == 40142 and first_drop["statusCode"] == 401


def test_errors_as_ably_js_reports_them(live_broker):
    lines = scenario(live_broker, "realtime_errors.mjs")
    cases = {line["name"]: line for line in lines if line["event"] == "case"}
    assert {name: case.get("code") for name, case in cases.items()} == {
        "attach-denied": 40160,
        "publish-denied": 40160,
        "append-denied": 40160,
        "append-unknown-serial": 40400,
        "too-large": 40009,
        "still-usable": None,
    }
    assert cases["still-usable"]["ok"] and cases["still-usable"]["value"] == 1
    states = {line["name"]: line for line in lines if line["event"] == "state"}
    assert states["attach-denied"]["channel"] == "failed"
    assert states["end"]["connection"] == states["end"]["owner"] == "connected"


def test_presence_enter_sync_update_leave(live_broker):
    result = only(scenario(live_broker, "realtime_presence.mjs"), "result")
    assert result["synced"] == [{"clientId": "ann", "data": {"status": "here"}, "action": "present"}]
    assert [(e["action"], e["clientId"]) for e in result["events"]] == [("update", "ann"), ("leave", "ann")]
    assert result["after"] == []
