"""Auth, token and channel-name behaviours as Ably answers them, checked with both official SDKs."""

from __future__ import annotations

import json

import httpx
import pytest
from ably import AblyException, AblyRest

from tests.broker.realtime_helpers import RawPeer
from tests.support.ably_clients import basic_auth, rest_client
from tests.support.live_server import HOST
from tests.support.node_scripts import run_scenario

pytestmark = pytest.mark.live

LIMITED_KEY_CAPABILITY = {
    "channel2": ["publish", "subscribe"],
    "channel5": ["presence"],
    "channel6": ["*"],
}


async def _sandbox_key(server, capability: dict) -> str:
    async with httpx.AsyncClient() as http:
        created = await http.post(
            server.url("/apps"), json={"keys": [{"capability": json.dumps(capability)}]}
        )
    return created.json()["keys"][0]["keyStr"]


@pytest.fixture(scope="module")
def js_cases(live_broker) -> dict[str, dict]:
    lines = run_scenario(
        "conformance_auth.mjs", {"port": live_broker.port, "key": live_broker.api_key, "channel": "conf"}
    )
    return {line["name"]: line for line in lines if line["event"] == "case"}


@pytest.mark.parametrize(
    ("requested", "granted"),
    [
        (
            {"channel2": ["presence", "subscribe"], "channel5": ["presence", "publish"]},
            {"channel2": ["subscribe"], "channel5": ["presence"]},
        ),
        ({"channel6": ["publish", "subscribe"]}, {"channel6": ["publish", "subscribe"]}),
        ({"*": ["*"]}, LIMITED_KEY_CAPABILITY),
    ],
    ids=["narrowed", "within-wildcard-ops", "wildcard-expanded"],
)
async def test_token_capability_is_the_intersection_with_the_key(live_broker, requested, granted):
    key = await _sandbox_key(live_broker, LIMITED_KEY_CAPABILITY)
    async with rest_client(live_broker, key=key) as rest:
        details = await rest.auth.request_token({"capability": requested})
    assert {resource: sorted(ops) for resource, ops in dict(details.capability).items()} == granted


async def test_a_capability_with_nothing_in_common_is_denied(live_broker):
    key = await _sandbox_key(live_broker, LIMITED_KEY_CAPABILITY)
    async with rest_client(live_broker, key=key) as rest:
        with pytest.raises(AblyException) as denied:
            await rest.auth.request_token({"capability": {"channel0": ["publish"]}})
    assert (denied.value.code, denied.value.status_code) == (40160, 401)


@pytest.mark.parametrize(
    "capability",
    [{"channel0": ["publish_"]}, {"channel0": ["*", "publish"]}, {"channel0": []}],
    ids=["unknown-op", "wildcard-plus-op", "no-ops"],
)
async def test_invalid_capabilities_are_40000(live_broker, capability):
    async with rest_client(live_broker) as rest:
        with pytest.raises(AblyException) as invalid:
            await rest.auth.request_token({"capability": capability})
    assert (invalid.value.code, invalid.value.status_code) == (40000, 400)


async def test_a_nonce_is_replayed_only_with_the_same_timestamp(live_broker):
    async with rest_client(live_broker) as signer:
        base = await signer.auth.create_token_request({"nonce": "n" * 16})
        first = base.to_dict()
        later = await signer.auth.create_token_request({"nonce": "n" * 16, "timestamp": base.timestamp + 1})
    url = live_broker.url(f"/keys/{live_broker.key_name}/requestToken")
    async with httpx.AsyncClient() as http:
        accepted = await http.post(url, json=first)
        same_nonce_new_time = await http.post(url, json=later.to_dict())
        replayed = await http.post(url, json=first)
    assert accepted.status_code == same_nonce_new_time.status_code == 200
    assert replayed.headers["X-Ably-ErrorCode"] == "40105"


@pytest.mark.parametrize(
    "header",
    [basic_auth("nokeyname:secret"), basic_auth("nokey"), {"Authorization": "Basic !!!"}],
    ids=["no-app-id", "no-secret", "not-base64"],
)
async def test_a_malformed_key_on_rest_is_40101(live_broker, header):
    async with httpx.AsyncClient() as http:
        response = await http.get(live_broker.url("/channels/x/messages"), headers=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 40101


async def test_an_unknown_token_is_40101_on_rest_without_a_renewal_loop(live_broker):
    rest = AblyRest(token="someapp.notissued", endpoint=HOST, port=live_broker.port, tls=False)
    try:
        with pytest.raises(AblyException) as refused:
            await rest.channels.get("x").history()
    finally:
        await rest.close()
    assert (refused.value.code, refused.value.status_code) == (40101, 401)


def test_a_malformed_key_fails_the_ably_js_connection_with_40101(js_cases):
    assert js_cases["malformed-key"]["state"] == "failed"
    assert js_cases["malformed-key"]["code"] == 40101


def test_an_auth_callback_returning_garbage_fails_once(js_cases):
    case = js_cases["garbage-token"]
    assert (case["state"], case["code"], case["calls"]) == ("failed", 40101, 1)


def test_a_wildcard_client_id_token_reads_back_as_wildcard(js_cases):
    case = js_cases["wildcard-client-id"]
    assert case["tokenClientId"] == "*" and case["authClientId"] == "*" and case["published"]


@pytest.mark.parametrize("name", [":hell", "::", ""])
def test_invalid_channel_names_fail_only_that_channel(js_cases, name):
    case = js_cases[f"channel-name:{name}"]
    assert (case["ok"], case["code"], case["channel"], case["connection"]) == (
        False,
        40010,
        "failed",
        "connected",
    )
    assert js_cases["channel-name-after"]["ok"]


def test_rest_publish_on_behalf_of_a_connection(js_cases):
    case = js_cases["connection-key"]
    assert case["connectionId"] == case["expectedConnectionId"]
    assert case["clientId"] == "listener"
    assert (case["badKey"]["ok"], case["badKey"]["code"]) == (False, 40006)


async def test_a_client_sync_does_not_end_the_connection(live_broker):
    peer = await RawPeer.connect(live_broker)
    try:
        connected = await peer.recv()
        await peer.send({"action": 16, "channel": "anything", "presence": []})
        await peer.send({"action": 0, "id": "still-there"})
        heartbeat, skipped = await peer.recv_until(lambda frame: frame.get("action") == 0 and frame.get("id"))
    finally:
        await peer.close()
    assert connected["action"] == 4 and heartbeat["id"] == "still-there"
    assert all(frame.get("action") != 9 for frame in skipped)


@pytest.mark.parametrize("recover", ["random_key", "abc!", "!x", "a!b!c"])
async def test_a_malformed_recovery_key_is_80018_on_a_fresh_connection(live_broker, recover):
    peer = await RawPeer.connect(live_broker, f"recover={recover}")
    try:
        connected = await peer.recv()
    finally:
        await peer.close()
    assert connected["action"] == 4 and connected["connectionId"]
    assert connected["error"]["code"] == 80018
