"""The REST surface beyond publish and history, as the SDKs use it, and Ably's JSON 404s."""

from __future__ import annotations

import httpx
import pytest

from tests.broker.realtime_helpers import fresh_channel, realtime, state_change
from tests.support.ably_clients import basic_auth, rest_client
from tests.support.node_scripts import run_scenario

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def js_lines(live_broker) -> dict[str, dict]:
    lines = run_scenario(
        "conformance_rest.mjs", {"port": live_broker.port, "key": live_broker.api_key, "channel": "rest"}
    )
    return {line["event"]: line for line in lines}


def test_batch_publish_reports_each_channel(js_lines):
    batch = js_lines["batch"]
    first, second = batch["results"]
    assert (first["successCount"], first["failureCount"]) == (2, 0)
    assert all(r["serials"] == 1 and r["messageId"] for r in first["results"])
    assert (second["successCount"], second["failureCount"]) == (1, 1)
    assert [(r["serials"], r["code"]) for r in second["results"]] == [(2, None), (None, 40010)]
    assert batch["a"] == ["one", "two", "three"] and batch["b"] == ["one"]


def test_revoked_tokens_disconnect_with_40141_and_the_client_renews(js_lines):
    revoke = js_lines["revoke"]
    assert (revoke["successCount"], revoke["failureCount"]) == (1, 1)
    assert revoke["targets"][0] == {"target": "clientId:revokee", "ok": True, "appliesAt": True}
    assert revoke["states"][0]["state"] == "disconnected" and revoke["states"][0]["code"] == 40141
    assert revoke["states"][-1]["state"] == "connected"
    assert revoke["tokens"] == 2 and revoke["sameConnection"]


async def test_a_revoked_token_is_refused_on_rest(live_broker):
    async with rest_client(live_broker) as issuer:
        details = await issuer.auth.request_token({"client_id": "gone"})
    async with httpx.AsyncClient() as http:
        revoked = await http.post(
            live_broker.url(f"/keys/{live_broker.key_name}/revokeTokens"),
            json={"targets": ["clientId:gone"]},
            headers=basic_auth(live_broker.api_key),
        )
        with_token = await http.get(
            live_broker.url("/channels/x/messages"), headers={"Authorization": f"Bearer {details.token}"}
        )
    assert revoked.status_code == 200 and revoked.json()["successCount"] == 1
    assert with_token.status_code == 401 and with_token.json()["error"]["code"] == 40141


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_channel_status_counts_occupancy(live_broker, binary):
    channel_name = fresh_channel("status")
    client = realtime(live_broker, binary=binary, client_id="occupant")
    try:
        await state_change(client.connection, "connected", "connection")
        channel = client.channels.get(channel_name)
        await channel.attach()
        await channel.presence.enter("here")
        async with rest_client(live_broker, use_binary_protocol=binary) as rest:
            details = await rest.channels.get(channel_name).status()
            idle = await rest.channels.get(fresh_channel("status")).status()
    finally:
        await client.close()
    assert details.channel_id == channel_name and details.status.is_active
    metrics = details.status.occupancy.metrics
    assert (metrics.connections, metrics.publishers, metrics.subscribers) == (1, 1, 1)
    assert (metrics.presence_connections, metrics.presence_members, metrics.presence_subscribers) == (1, 1, 1)
    assert not idle.status.is_active and idle.status.occupancy.metrics.connections == 0


async def test_posted_stats_fixtures_come_back_by_unit(live_broker):
    async with httpx.AsyncClient() as http:
        app = (await http.post(live_broker.url("/apps"), json={"keys": [{}]})).json()
        key = app["keys"][0]["keyStr"]
        fixtures = [
            {
                "intervalId": "2024-02-03:15:03",
                "entries": {"messages.all.all.count": 50, "messages.all.data": 5000},
            },
            {
                "intervalId": "2024-02-03:15:04",
                "entries": {"messages.all.all.count": 60, "messages.all.data": 6000},
            },
            {
                "intervalId": "2024-02-03:16:05",
                "entries": {"messages.all.all.count": 70, "messages.all.data": 7000},
            },
        ]
        posted = await http.post(live_broker.url("/stats"), json=fixtures, headers=basic_auth(key))
    assert posted.status_code == 201
    async with rest_client(live_broker, key=key) as rest:
        minutes = await rest.stats(limit=2)
        older = await minutes.next()
        hours = await rest.stats(unit="hour", direction="forwards")
        months = await rest.stats(unit="month")
    assert [s.interval_id for s in minutes.items] == ["2024-02-03:16:05", "2024-02-03:15:04"]
    assert [s.interval_id for s in older.items] == ["2024-02-03:15:03"] and not older.has_next()
    assert [(s.interval_id, s.entries["messages.all.all.count"]) for s in hours.items] == [
        ("2024-02-03:15", 110),
        ("2024-02-03:16", 70),
    ]
    assert [(s.unit, s.entries["messages.all.data"]) for s in months.items] == [("month", 18000)]


async def test_stats_is_an_honest_empty_page(live_broker):
    async with rest_client(live_broker) as rest:
        stats = await rest.stats()
    assert stats.items == [] and not stats.has_next()


@pytest.mark.parametrize("path", ["/time", "/channels/x/messages", "/stats", "/channels/x/presence"])
async def test_head_works_wherever_get_does(live_broker, path):
    async with httpx.AsyncClient() as http:
        get = await http.get(live_broker.url(path), headers=basic_auth(live_broker.api_key))
        head = await http.head(live_broker.url(path), headers=basic_auth(live_broker.api_key))
    assert get.status_code == head.status_code == 200
    assert head.content == b"" and head.headers["Content-Type"] == get.headers["Content-Type"]


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/channels/x/nonsense", {}),
        ("/channels/x/presence/nonsense", {}),
        ("/keys/a.b/nonsense", {}),
        ("/stats/x", {}),
        ("/push/deviceRegistrations", {}),
        ("/no-such-thing", {"X-Ably-Version": "5"}),
    ],
)
async def test_unknown_broker_paths_are_ably_json_40400(live_broker, path, headers):
    async with httpx.AsyncClient() as http:
        response = await http.get(live_broker.url(path), headers=headers)
    assert response.status_code == 404
    assert response.headers["X-Ably-ErrorCode"] == "40400"
    assert response.json()["error"]["code"] == 40400


@pytest.mark.parametrize("path", ["/no-such-page", "/c/not-a-uuid/"])
async def test_unknown_site_paths_stay_the_sites_html_404(live_broker, path):
    async with httpx.AsyncClient() as http:
        response = await http.get(live_broker.url(path))
    assert response.status_code == 404
    assert "X-Ably-ErrorCode" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")


async def test_an_sdk_request_to_an_unknown_path_reads_as_ably_40400(live_broker):
    async with rest_client(live_broker) as rest:
        response = await rest.request("GET", "/no-such-endpoint", version="5")
    assert (response.status_code, response.success, response.error_code) == (404, False, "40400")


def test_encrypted_messages_are_opaque_to_the_broker(js_lines):
    cipher = js_lines["cipher"]
    assert cipher["decrypted"] == ["for your eyes only"]
    assert cipher["storedEncoding"].startswith("utf-8/cipher+aes-256-cbc")
    assert cipher["storedData"] != "for your eyes only"
