"""The REST edge: content types, the browser envelope, CORS, bad bodies and service endpoints."""

from __future__ import annotations

import base64
import json

import httpx
import msgpack
import pytest

from tests.support.ably_clients import basic_auth, fresh_channel, rest_client

pytestmark = pytest.mark.live

ORIGIN = "http://app.example.test"


async def _request(server, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {**basic_auth(server.api_key), **kwargs.pop("headers", {})}
    async with httpx.AsyncClient() as http:
        return await http.request(method, server.url(path), headers=headers, **kwargs)


async def test_time_and_connectivity_check(live_broker):
    async with httpx.AsyncClient() as http:
        time_response = await http.get(live_broker.url("/time"))
        up = await http.get(live_broker.url("/is-the-internet-up.txt"))
    assert time_response.headers["Content-Type"] == "application/json"
    assert isinstance(time_response.json()[0], int)
    assert up.text == "yes\n" and up.headers["Content-Type"].startswith("text/plain")


async def test_msgpack_is_answered_in_msgpack_with_binary_data_native(live_broker):
    channel = fresh_channel("req")
    body = msgpack.packb([{"name": "bin", "data": b"\x00\xfe"}], use_bin_type=True)
    headers = {"Content-Type": "application/x-msgpack", "Accept": "application/x-msgpack"}
    published = await _request(
        live_broker, "POST", f"/channels/{channel}/messages", content=body, headers=headers
    )
    history = await _request(live_broker, "GET", f"/channels/{channel}/messages", headers=headers)
    assert published.status_code == 201
    assert history.headers["Content-Type"] == "application/x-msgpack"
    assert [m["data"] for m in msgpack.unpackb(history.content)] == [b"\x00\xfe"]


async def test_json_clients_get_binary_data_as_base64(live_broker):
    channel = fresh_channel("req")
    await _request(
        live_broker, "POST", f"/channels/{channel}/messages", json={"data": "AP4=", "encoding": "base64"}
    )
    history = await _request(live_broker, "GET", f"/channels/{channel}/messages")
    (message,) = history.json()
    assert (message["data"], message["encoding"]) == ("AP4=", "base64")


async def test_the_publish_response_names_channel_message_id_and_serials(live_broker):
    channel = fresh_channel("req")
    response = await _request(
        live_broker, "POST", f"/channels/{channel}/messages", json=[{"data": "a"}, {"data": "b"}]
    )
    body = response.json()
    assert response.status_code == 201 and body["channel"] == channel
    assert len(body["serials"]) == 2 and body["serials"][0] < body["serials"][1]
    history = await _request(
        live_broker, "GET", f"/channels/{channel}/messages", params={"direction": "forwards"}
    )
    assert [m["id"] for m in history.json()] == [f"{body['messageId']}:0", f"{body['messageId']}:1"]


async def test_the_browser_envelope_carries_status_headers_and_links(live_broker):
    channel = fresh_channel("req")
    for data in ("a", "b"):
        await _request(live_broker, "POST", f"/channels/{channel}/messages", json=[{"data": data}])
    page = await _request(
        live_broker, "GET", f"/channels/{channel}/messages", params={"envelope": "json", "limit": 1}
    )
    denied = await _request(
        live_broker,
        "GET",
        f"/channels/{channel}/messages",
        params={"envelope": "json"},
        headers={"Authorization": "Bearer " + base64.b64encode(b"test.unknown").decode()},
    )
    envelope = page.json()
    assert envelope["statusCode"] == 200 and [m["data"] for m in envelope["response"]] == ["b"]
    assert 'rel="next"' in envelope["headers"]["link"] and "envelope" not in envelope["headers"]["link"]
    error_envelope = denied.json()
    assert error_envelope["statusCode"] == 401
    assert error_envelope["headers"]["x-ably-errorcode"] == "40101"
    assert error_envelope["response"]["error"]["code"] == 40101


async def test_cors_preflight_and_responses_name_the_origin(live_broker):
    async with httpx.AsyncClient() as http:
        preflight = await http.options(
            live_broker.url(f"/channels/{fresh_channel('req')}/messages"),
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-ably-version",
            },
        )
    error = await _request(
        live_broker, "GET", "/channels/x/messages", params={"limit": "0"}, headers={"Origin": ORIGIN}
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "authorization,content-type,x-ably-version"
    assert error.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Ably-ErrorCode" in error.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(
    ("content", "content_type", "code"),
    [
        (b"{not json", "application/json", 40001),
        (b"", "application/json", 40001),
        (b"\xc1", "application/x-msgpack", 40001),
        (b'[{"data": {"an": "object"}}]', "application/json", 40013),
        (b'[{"data": "!!", "encoding": "base64"}]', "application/json", 40013),
        (b'[{"name": 5}]', "application/json", 40000),
        (b"[]", "application/json", 40000),
        (b'["not a message"]', "application/json", 40001),
        (b'[{"data": "x", "action": 5}]', "application/json", 40003),
    ],
)
async def test_bad_publish_bodies_get_clear_errors_and_store_nothing(
    live_broker, content, content_type, code
):
    channel = fresh_channel("req")
    response = await _request(
        live_broker,
        "POST",
        f"/channels/{channel}/messages",
        content=content,
        headers={"Content-Type": content_type},
    )
    history = await _request(live_broker, "GET", f"/channels/{channel}/messages")
    assert response.status_code == 400
    assert response.headers["X-Ably-ErrorCode"] == str(code)
    assert response.json()["error"]["message"]
    assert history.json() == []


@pytest.mark.parametrize("size", [70_000, 3_000_000], ids=["over-message-limit", "over-request-limit"])
async def test_an_oversized_publish_is_refused_with_413(live_broker, size):
    channel = fresh_channel("req")
    response = await _request(
        live_broker, "POST", f"/channels/{channel}/messages", json=[{"data": "x" * size}]
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == 40009


async def test_an_unsupported_method_is_refused(live_broker):
    response = await _request(live_broker, "DELETE", f"/channels/{fresh_channel('req')}/messages")
    assert response.status_code == 405 and response.headers["X-Ably-ErrorCode"] == "40500"


async def test_error_header_survives_hostile_text(live_broker):
    response = await _request(live_broker, "GET", "/channels/x/messages/bad%0Aserial%E2%9C%93")
    assert response.status_code == 404
    assert "\n" not in response.headers["X-Ably-ErrorMessage"]
    assert json.loads(response.text)["error"]["code"] == 40400


@pytest.mark.parametrize("name", ["with space", "a+b", "slash/inside", "percent%20sign", "ünïcode:ch"])
@pytest.mark.parametrize("binary", [True, False], ids=["msgpack", "json"])
async def test_channel_names_are_decoded_exactly_as_the_sdk_encoded_them(live_broker, name, binary):
    channel_name = f"{fresh_channel('req')}:{name}"
    async with rest_client(live_broker, use_binary_protocol=binary) as rest:
        await rest.channels.get(channel_name).publish("n", name)
        history = await rest.channels.get(channel_name).history()
    assert [m.data for m in history.items] == [name]


@pytest.mark.parametrize("path", ["/push/deviceRegistrations", "/channels/x/zzz", "/stats/x", "/keys/x"])
async def test_unsupported_ably_paths_get_an_ably_error_not_a_page(live_broker, path):
    response = await _request(live_broker, "GET", path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == 40400
