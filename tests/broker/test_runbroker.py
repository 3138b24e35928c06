"""`manage.py runbroker`: the broker alone, serving both SDKs while the web app points at it."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.ably_clients import rest_client
from tests.support.live_server import run_live_server
from tests.support.node_scripts import run_scenario

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def standalone_broker():
    # ABLY_ENDPOINT set: the project itself would mount no broker; runbroker serves it regardless.
    with run_live_server(extra_env={"ABLY_ENDPOINT": "127.0.0.1"}, standalone=True) as server:
        yield server


async def test_it_serves_rest_and_realtime_to_both_sdks(standalone_broker):
    channel_name = f"standalone:{uuid.uuid4().hex}"
    lines = run_scenario(
        "rest_interop.mjs",
        {"port": standalone_broker.port, "key": standalone_broker.api_key, "channel": channel_name},
    )
    events = {line["event"]: line for line in lines}
    assert "error" not in events, events.get("error")
    assert [m["data"] for m in events["subscriber"]["seen"]] == ["one", "two", "+more"]
    async with rest_client(standalone_broker) as rest:
        history = await rest.channels.get(channel_name).history()
    assert [m.data for m in history.items] == ["two", "one+more"]


async def test_it_serves_nothing_but_the_broker(standalone_broker):
    async with httpx.AsyncClient() as http:
        login = await http.get(standalone_broker.url("/accounts/login/"))
        admin = await http.get(standalone_broker.url("/admin/"))
    assert login.status_code == 404 and admin.status_code == 404


async def test_every_unknown_path_is_ably_json_40400(standalone_broker):
    async with httpx.AsyncClient() as http:
        response = await http.get(standalone_broker.url("/no-such-thing"))
    assert response.status_code == 404 and response.json()["error"]["code"] == 40400
