"""Browser-like users and peers against a `Topology`, and the database rows behind their runs.

A user logs in on one web process and gets browser tokens there; their Ably peer connects to
a broker process, the way the browser does behind the reverse proxy.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
from ably import AblyRealtime, AblyRest

from chat.transport.clients import AblyClients
from tests.support.live_server import HOST
from tests.support.topology import Process, Topology
from tests.support.web_sessions import WebUser, make_user_with
from tests.transport.conftest import Peer

RUN_ROW_SQL = """
select r.status, r.error_code, r.error_message, r.worker_id, r.claimed_at is not null,
       coalesce((select string_agg(m.text, '' order by m.id) from chat_message m
                 where m.run_id = r.id and m.role = 'assistant'), ''),
       (select count(*) from chat_message m where m.run_id = r.id and m.role = 'assistant')
from chat_run r where r.run_id = %s
"""


@dataclass(frozen=True)
class RunRow:
    status: str
    error_code: int | None
    error_message: str
    worker_id: str
    claimed: bool
    text: str
    assistant_rows: int


def team_user(topology: Topology, username: str, web: Process | None = None, staff: bool = False) -> WebUser:
    web = web or topology.webs[0]
    return make_user_with(topology.manage, web.base_url, username, staff=staff, superuser=staff)


def http_on(user: WebUser, web: Process) -> httpx.AsyncClient:
    """The same logged-in browser session, talking to another web process."""
    return httpx.AsyncClient(
        base_url=web.base_url,
        cookies=dict(user.http.cookies),
        headers={"X-CSRFToken": user.http.headers["X-CSRFToken"], "Referer": web.base_url + "/"},
        timeout=10,
    )


def browser_clients(broker: Process, user: WebUser, conversation_id: str) -> AblyClients:
    async def auth_callback(_params: dict) -> dict:
        token_request = (await user.http.get("/ably/token", params={"conversation": conversation_id})).json()
        async with httpx.AsyncClient(base_url=broker.base_url, timeout=10) as exchange:
            response = await exchange.post(
                f"/keys/{token_request['keyName']}/requestToken", json=token_request
            )
        response.raise_for_status()
        return response.json()

    realtime = AblyRealtime(auth_callback=auth_callback, endpoint=f"{HOST}:{broker.port}", tls=False)
    rest = AblyRest(auth_callback=auth_callback, endpoint=HOST, port=broker.port, tls=False)
    return AblyClients(realtime=realtime, rest=rest)


async def browser_peer(topology: Topology, user: WebUser, conversation_id: str) -> Peer:
    peer = Peer(
        browser_clients(topology.broker, user, conversation_id), f"ai:{conversation_id}", user.client_id
    )
    await peer.attach()
    return peer


def run_row(topology: Topology, run_id: str) -> RunRow | None:
    rows = topology.database.query(RUN_ROW_SQL, (run_id,))
    return RunRow(*rows[0]) if rows else None


async def wait_run_closed(topology: Topology, run_id: str, timeout: float) -> RunRow:
    """Poll the database until the run is no longer open; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        row = run_row(topology, run_id)
        if row is not None and row.status not in ("active", "suspended"):
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {row.status if row else 'missing'} after {timeout}s")
        await asyncio.sleep(0.2)
