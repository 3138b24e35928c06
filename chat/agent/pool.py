"""One Ably connection per worker process, one AgentSession per conversation channel.

Concurrent runs in one conversation share the session (one subscription routes all their
cancels); the session detaches when its last run is done. Closing the pool ends every run
still open (`ai-run-end` cancelled), which is what a worker shutdown must do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from chat.transport.clients import AblyClients
from chat.transport.session import AgentSession


class SessionPool:
    def __init__(self, make_clients: Callable[[], AblyClients]) -> None:
        self._make_clients = make_clients
        self._clients: AblyClients | None = None
        self._sessions: dict[str, AgentSession] = {}
        self._users: dict[str, int] = {}
        self._lock = asyncio.Lock()

    @property
    def clients(self) -> AblyClients:
        if self._clients is None:
            self._clients = self._make_clients()
        return self._clients

    async def acquire(self, channel_name: str) -> AgentSession:
        async with self._lock:
            session = self._sessions.get(channel_name)
            if session is None:
                session = AgentSession(self.clients.realtime, channel_name, history_client=self.clients.rest)
                await session.connect()
                self._sessions[channel_name] = session
            self._users[channel_name] = self._users.get(channel_name, 0) + 1
            return session

    async def release(self, channel_name: str) -> None:
        async with self._lock:
            remaining = self._users.get(channel_name, 0) - 1
            if remaining > 0:
                self._users[channel_name] = remaining
                return
            self._users.pop(channel_name, None)
            session = self._sessions.pop(channel_name, None)
        if session is not None:
            await session.detach()

    async def close(self) -> None:
        """End open runs as cancelled, detach everything and close the connection."""
        sessions, self._sessions = list(self._sessions.values()), {}
        self._users.clear()
        for session in sessions:
            await session.end()
        if self._clients is not None:
            clients, self._clients = self._clients, None
            await clients.close()
