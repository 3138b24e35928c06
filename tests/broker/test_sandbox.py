"""Ably's sandbox app API: fresh apps and keys for SDK test suites, off unless enabled."""

from __future__ import annotations

import uuid

import httpx
import pytest
from ably import AblyException

from tests.support.ably_clients import basic_auth, rest_client
from tests.support.live_server import run_live_server

pytestmark = pytest.mark.live

TEST_APP_SETUP = {
    "keys": [{}, {"capability": '{"sandbox:*":["publish","subscribe","history"]}'}],
    "namespaces": [{"id": "persisted", "persisted": True}],
    "channels": [],
}


async def _create_app(server, body: dict) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(server.url("/apps"), json=body)


async def test_a_sandbox_app_comes_with_working_keys(live_broker):
    created = await _create_app(live_broker, TEST_APP_SETUP)
    app = created.json()
    full_key, limited_key = app["keys"]
    assert created.status_code == 201
    assert full_key["keyStr"] == f"{full_key['keyName']}:{full_key['keySecret']}"
    assert full_key["keyName"].startswith(f"{app['appId']}.")
    channel_name = f"sandbox:{uuid.uuid4().hex}"
    async with rest_client(live_broker, key=limited_key["keyStr"]) as rest:
        await rest.channels.get(channel_name).publish("n", "from a sandbox key")
        history = await rest.channels.get(channel_name).history()
        with pytest.raises(AblyException) as outside:
            await rest.channels.get("elsewhere").publish("n", "x")
    assert [m.data for m in history.items] == ["from a sandbox key"]
    assert outside.value.code == 40160


async def test_the_app_has_the_public_sandbox_shape(live_broker):
    spec = {**TEST_APP_SETUP, "namespaces": [{"id": "persisted", "persisted": True}, {"id": "pushenabled"}]}
    app = (await _create_app(live_broker, spec)).json()
    assert app["id"] == app["appId"] and app["accountId"] and app["status"] == "enabled"
    assert [ns["id"] for ns in app["namespaces"]] == ["persisted", "pushenabled"]
    assert app["namespaces"][0]["persisted"] is True and app["namespaces"][1]["persisted"] is False
    assert all({"created", "modified", "pushEnabled"} <= ns.keys() for ns in app["namespaces"])
    assert app["channels"] == []
    for key in app["keys"]:
        assert {
            "id",
            "value",
            "keyName",
            "keySecret",
            "keyStr",
            "capability",
            "expires",
            "privileged",
            "revocableTokens",
            "status",
            "created",
            "modified",
        } <= key.keys()
        assert key["keyName"] == f"{app['appId']}.{key['id']}" and key["value"] == key["keySecret"]
    assert app["keys"][1]["capability"] == TEST_APP_SETUP["keys"][1]["capability"]


async def test_deleting_an_app_with_basic_auth_as_sdk_harnesses_do(live_broker):
    app = (await _create_app(live_broker, {"keys": [{}]})).json()
    other = (await _create_app(live_broker, {"keys": [{}]})).json()
    key = app["keys"][0]["keyStr"]
    async with httpx.AsyncClient() as http:
        foreign = await http.delete(
            live_broker.url(f"/apps/{app['appId']}"), headers=basic_auth(other["keys"][0]["keyStr"])
        )
        deleted = await http.delete(live_broker.url(f"/apps/{app['appId']}"), headers=basic_auth(key))
    assert foreign.status_code == 403
    assert deleted.status_code == 204
    async with rest_client(live_broker, key=key) as rest:
        with pytest.raises(AblyException) as revoked:
            await rest.auth.request_token()
    assert revoked.value.code == 40101


async def test_deleting_an_app_revokes_its_keys(live_broker):
    app = (await _create_app(live_broker, {"keys": [{}]})).json()
    key = app["keys"][0]["keyStr"]
    async with httpx.AsyncClient() as http:
        wrong_key = await http.delete(
            live_broker.url(f"/apps/{app['appId']}"), params={"key": live_broker.api_key}
        )
        deleted = await http.delete(live_broker.url(f"/apps/{app['appId']}"), params={"key": key})
    async with rest_client(live_broker, key=key) as rest:
        with pytest.raises(AblyException) as revoked:
            await rest.auth.request_token()
    assert wrong_key.status_code == 403
    assert deleted.status_code == 204
    assert revoked.value.code == 40101


@pytest.mark.parametrize(
    "body",
    [{"keys": []}, {"keys": [{"capability": "not json"}]}, {"keys": "all"}, ["keys"]],
)
async def test_bad_app_specs_are_refused(live_broker, body):
    response = await _create_app(live_broker, body)
    assert response.status_code == 400
    assert response.headers["X-Ably-ErrorCode"] in ("40000", "40001")


async def test_the_sandbox_is_off_unless_enabled():
    with run_live_server(extra_env={"BROKER_SANDBOX": "false"}) as server:
        response = await _create_app(server, TEST_APP_SETUP)
    assert response.status_code == 404
    assert response.headers["X-Ably-ErrorCode"] == "40400"
