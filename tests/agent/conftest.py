"""Fixtures for agent-worker tests: a live server with the demo model, and browser-like peers.

A peer authenticates exactly as the browser does: it asks `/ably/token` (as a logged-in
user) for a TokenRequest and has the broker exchange it, so its clientId is verified.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from ably import AblyRealtime, AblyRest

from chat.transport.clients import AblyClients
from tests.support.live_server import HOST, LiveServer, run_live_server
from tests.support.server_db import server_db
from tests.support.web_sessions import WebUser, make_web_user
from tests.transport.conftest import Peer

__all__ = ["server_db"]

DEMO_RATE = "40"  # demo tokens per second: slow enough to Stop mid-answer


@pytest.fixture(scope="module")
def agent_server() -> Iterator[LiveServer]:
    with run_live_server({"DEMO_TOKENS_PER_SECOND": DEMO_RATE, "AGENT_HEARTBEAT_SECONDS": "0.5"}) as server:
        yield server


def browser_clients(server: LiveServer, user: WebUser, conversation_id: str) -> AblyClients:
    async def auth_callback(_params: dict) -> dict:
        token_request = (await user.http.get("/ably/token", params={"conversation": conversation_id})).json()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as broker:
            response = await broker.post(f"/keys/{token_request['keyName']}/requestToken", json=token_request)
        response.raise_for_status()
        return response.json()

    realtime = AblyRealtime(auth_callback=auth_callback, endpoint=f"{HOST}:{server.port}", tls=False)
    rest = AblyRest(auth_callback=auth_callback, endpoint=HOST, port=server.port, tls=False)
    return AblyClients(realtime=realtime, rest=rest)


@pytest.fixture
async def web(agent_server) -> AsyncIterator:
    """Factory: `await web("alice")` -> WebUser; clients are closed afterwards."""
    users: list[WebUser] = []

    async def make(username: str | None = None, staff: bool = False, superuser: bool = False) -> WebUser:
        user = make_web_user(agent_server, username or f"u{uuid.uuid4().hex[:8]}", staff, superuser)
        users.append(user)
        return user

    yield make
    for user in users:
        await user.http.aclose()


@pytest.fixture
async def peer_for(agent_server) -> AsyncIterator:
    """Factory: `await peer_for(user, conversation_id)` -> attached Peer with the user's browser token."""
    made: list[AblyClients] = []

    async def make(user: WebUser, conversation_id: str) -> Peer:
        clients = browser_clients(agent_server, user, conversation_id)
        made.append(clients)
        peer = Peer(clients, f"ai:{conversation_id}", user.client_id)
        await peer.attach()
        return peer

    yield make
    for clients in made:
        await clients.close()


async def new_conversation(user: WebUser) -> str:
    response = await user.http.post("/c/new")
    assert response.status_code == 302, response.text
    return response.headers["location"].rstrip("/").split("/")[-1]


async def invoke(user: WebUser, event_id: str, conversation_id: str) -> httpx.Response:
    return await user.http.post(
        "/agent/invoke", json={"inputEventId": event_id, "sessionName": f"ai:{conversation_id}"}
    )
