"""Keys, TokenRequests, tokens, JWTs and client identities, as the official SDKs and raw HTTP see them."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
import pytest
from ably import AblyException

from tests.support.ably_clients import basic_auth, bearer_auth, fresh_channel, rest_client

pytestmark = pytest.mark.live


async def _signed_token_request(server, **params) -> dict:
    async with rest_client(server) as signer:
        token_request = await signer.auth.create_token_request(params or None)
    return token_request.to_dict()


def _jwt(server, claims: dict, *, secret: str | None = None) -> str:
    """An Ably JWT signed the way an app server signs one (HS256, kid = key name)."""
    key_name, key_secret = server.api_key.split(":", 1)
    return jwt.encode(claims, secret or key_secret, algorithm="HS256", headers={"kid": key_name})


async def _post_token_request(server, body: dict, headers: dict | None = None) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(
            server.url(f"/keys/{server.key_name}/requestToken"), json=body, headers=headers or {}
        )


def assert_ably_error(response: httpx.Response, code: int, status: int) -> None:
    assert response.status_code == status
    assert response.headers["X-Ably-ErrorCode"] == str(code)
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_sdk_token_auth_publishes_and_reads_history(live_broker, binary):
    channel_name = fresh_channel("auth")
    async with rest_client(live_broker, use_binary_protocol=binary) as rest:
        channel = rest.channels.get(channel_name)
        await channel.publish("greeting", "hello")
        history = await channel.history()
    assert [(m.name, m.data) for m in history.items] == [("greeting", "hello")]


async def test_token_details_carry_what_both_sdks_need(live_broker):
    capability = {fresh_channel("auth"): ["publish", "subscribe"]}
    async with rest_client(live_broker) as rest:
        details = await rest.auth.request_token(
            {"client_id": "alice", "capability": capability, "ttl": 60_000}
        )
    assert details.client_id == "alice"
    assert details.issued and details.expires - details.issued == 60_000
    assert ":" not in details.token and not details.token.startswith("{")
    assert {resource: set(ops) for resource, ops in dict(details.capability).items()} == {
        resource: set(ops) for resource, ops in capability.items()
    }


async def test_a_token_request_cannot_be_replayed(live_broker):
    token_request = await _signed_token_request(live_broker)
    first = await _post_token_request(live_broker, token_request)
    second = await _post_token_request(live_broker, token_request)
    assert first.status_code == 200 and first.json()["token"]
    assert_ably_error(second, 40105, 401)


async def test_a_tampered_token_request_is_refused(live_broker):
    token_request = await _signed_token_request(live_broker, client_id="alice")
    token_request["clientId"] = "mallory"
    assert_ably_error(await _post_token_request(live_broker, token_request), 40101, 401)


async def test_a_stale_token_request_is_refused(live_broker):
    async with rest_client(live_broker) as signer:
        stale = await signer.auth.create_token_request({"timestamp": int(time.time() * 1000) - 10 * 60_000})
    assert_ably_error(await _post_token_request(live_broker, stale.to_dict()), 40104, 401)


async def test_an_unsigned_token_request_needs_basic_auth_with_that_key(live_broker):
    params = {"keyName": live_broker.key_name, "clientId": "alice"}
    assert_ably_error(await _post_token_request(live_broker, params), 40101, 401)
    granted = await _post_token_request(live_broker, params, headers=basic_auth(live_broker.api_key))
    assert granted.status_code == 200 and granted.json()["clientId"] == "alice"


async def test_a_capability_outside_the_key_is_refused(live_broker):
    async with httpx.AsyncClient() as http:
        created = await http.post(
            live_broker.url("/apps"), json={"keys": [{"capability": '{"chat:*":["subscribe"]}'}]}
        )
    key = created.json()["keys"][0]
    async with rest_client(live_broker, key=key["keyStr"]) as rest:
        with pytest.raises(AblyException) as refused:
            await rest.auth.request_token({"capability": {"admin:*": ["subscribe"]}})
    assert refused.value.code == 40160


async def test_a_token_only_does_what_its_capability_allows(live_broker):
    readable = fresh_channel("readonly")
    async with rest_client(live_broker) as server_side:
        details = await server_side.auth.request_token({"capability": {readable: ["subscribe", "history"]}})
        await server_side.channels.get(readable).publish("seed", "x")
    async with rest_client(live_broker, token=details.token) as browser_like:
        history = await browser_like.channels.get(readable).history()
        assert [m.data for m in history.items] == ["x"]
        with pytest.raises(AblyException) as denied:
            await browser_like.channels.get(readable).publish("nope", "y")
        assert denied.value.code == 40160
        with pytest.raises(AblyException) as elsewhere:
            await browser_like.channels.get(fresh_channel("auth")).history()
        assert elsewhere.value.code == 40160


async def test_an_identified_token_stamps_its_client_id_and_cannot_claim_another(live_broker):
    channel_name = fresh_channel("auth")
    async with rest_client(live_broker, default_token_params={"client_id": "alice"}) as alice:
        channel = alice.channels.get(channel_name)
        await channel.publish("mine", "hello")
        async with httpx.AsyncClient() as http:
            token = alice.auth.token_details.token
            forged = await http.post(
                live_broker.url(f"/channels/{channel_name}/messages"),
                json=[{"name": "forged", "data": "x", "clientId": "mallory"}],
                headers=bearer_auth(token),
            )
        history = await channel.history()
    assert_ably_error(forged, 40012, 400)
    assert [(m.name, m.client_id) for m in history.items] == [("mine", "alice")]


async def test_a_key_caller_may_publish_as_anyone(live_broker):
    channel_name = fresh_channel("auth")
    async with httpx.AsyncClient() as http:
        published = await http.post(
            live_broker.url(f"/channels/{channel_name}/messages"),
            json=[{"name": "as-bob", "data": "x", "clientId": "bob"}],
            headers=basic_auth(live_broker.api_key),
        )
    assert published.status_code == 201
    async with rest_client(live_broker) as rest:
        history = await rest.channels.get(channel_name).history()
    assert [m.client_id for m in history.items] == ["bob"]


async def test_an_expired_token_makes_the_sdk_fetch_a_new_one_and_retry(live_broker):
    issued: list[str] = []

    async def auth_callback(_params):
        expired = not issued
        claims = {"iat": int(time.time()) - 120, "exp": int(time.time()) + (-60 if expired else 600)}
        issued.append("expired" if expired else "fresh")
        return _jwt(live_broker, claims)

    channel_name = fresh_channel("auth")
    async with rest_client(live_broker, auth_callback=auth_callback) as rest:
        await rest.channels.get(channel_name).publish("after-renewal", "ok")
        history = await rest.channels.get(channel_name).history()
    assert issued == ["expired", "fresh"]
    assert [m.name for m in history.items] == ["after-renewal"]


async def test_jwt_claims_limit_capability_and_identity(live_broker):
    channel_name = fresh_channel("auth")
    claims = {
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
        "x-ably-capability": json.dumps({channel_name: ["publish", "history"]}),
        "x-ably-clientId": "carol",
    }
    token = _jwt(live_broker, claims)

    async def auth_callback(_params):
        return token

    async with rest_client(live_broker, auth_callback=auth_callback) as rest:
        await rest.channels.get(channel_name).publish("jwt", "x")
        history = await rest.channels.get(channel_name).history()
        with pytest.raises(AblyException) as denied:
            await rest.channels.get(fresh_channel("auth")).publish("jwt", "x")
    assert [m.client_id for m in history.items] == ["carol"]
    assert denied.value.code == 40160


async def test_a_jwt_with_a_bad_signature_is_refused(live_broker):
    forged = _jwt(
        live_broker,
        {"iat": int(time.time()), "exp": int(time.time()) + 600},
        secret="not-the-secret-but-long-enough-for-hs256",
    )
    async with httpx.AsyncClient() as http:
        response = await http.get(
            live_broker.url(f"/channels/{fresh_channel('auth')}/messages"), headers=bearer_auth(forged)
        )
    assert_ably_error(response, 40144, 401)


@pytest.mark.parametrize(
    ("headers", "code", "status"),
    [
        ({}, 40101, 401),
        ({"Authorization": "Basic !!!"}, 40101, 401),
        ({"Authorization": "Basic " + base64.b64encode(b"nokey").decode()}, 40101, 401),
        ({"Authorization": "Bearer " + base64.b64encode(b"test.unknown").decode()}, 40101, 401),
        ({"Authorization": "Digest abc"}, 40005, 400),
    ],
)
async def test_bad_credentials_get_clear_errors(live_broker, headers, code, status):
    async with httpx.AsyncClient() as http:
        response = await http.get(
            live_broker.url(f"/channels/{fresh_channel('auth')}/messages"), headers=headers
        )
    assert_ably_error(response, code, status)


async def test_a_wrong_key_secret_is_refused(live_broker):
    wrong = f"{live_broker.key_name}:not-the-secret"
    async with httpx.AsyncClient() as http:
        response = await http.get(
            live_broker.url(f"/channels/{fresh_channel('auth')}/messages"), headers=basic_auth(wrong)
        )
    assert_ably_error(response, 40101, 401)


async def test_a_raw_bearer_token_is_accepted_too(live_broker):
    async with rest_client(live_broker) as rest:
        token = (await rest.auth.request_token()).token
    async with httpx.AsyncClient() as http:
        response = await http.get(
            live_broker.url(f"/channels/{fresh_channel('auth')}/messages"),
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200 and response.json() == []
