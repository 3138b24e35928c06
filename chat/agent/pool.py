"""One Ably connection per worker process, one AgentSession per conversation channel.

Concurrent runs in one conversation share the session (one subscription routes all their
cancels); the session detaches when its last run is done. Attaching one channel never waits for
another channel's attach: only the bookkeeping is under the lock. Closing the pool ends every run
still open (`ai-run-end` cancelled), which is what a worker shutdown must do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from chat.transport.clients import AblyClients
from chat.transport.session import AgentSession


class SessionPool:
    def __init__(self, make_clients: Callable[[], AblyClients], append_window_ms: float = 0) -> None:
        self._make_clients = make_clients
        self._append_window_ms = append_window_ms
        self._clients: AblyClients | None = None
        self._sessions: dict[str, asyncio.Future[AgentSession]] = {}
        self._users: dict[str, int] = {}
        self._lock = asyncio.Lock()

    @property
    def clients(self) -> AblyClients:
        if self._clients is None:
            self._clients = self._make_clients()
        return self._clients

    async def acquire(self, channel_name: str) -> AgentSession:
        async with self._lock:
            self._users[channel_name] = self._users.get(channel_name, 0) + 1
            connecting = self._sessions.get(channel_name)
            first = connecting is None
            if first:
                connecting = self._sessions[channel_name] = asyncio.get_running_loop().create_future()
        if first:
            session = AgentSession(
                self.clients.realtime,
                channel_name,
                history_client=self.clients.rest,
                append_window_ms=self._append_window_ms,
            )
            try:
                await session.connect()
            except BaseException as exc:
                connecting.set_exception(exc)
                async with self._lock:
                    self._forget(channel_name, connecting)
                raise
            connecting.set_result(session)
        try:
            return await asyncio.shield(connecting)
        except BaseException:
            if not first:
                async with self._lock:
                    self._forget(channel_name, connecting)
            raise

    def _forget(self, channel_name: str, connecting: asyncio.Future) -> None:
        """A failed acquire gives its use back; the failed session is dropped for the next caller."""
        remaining = self._users.get(channel_name, 0) - 1
        if remaining > 0:
            self._users[channel_name] = remaining
        else:
            self._users.pop(channel_name, None)
        if self._sessions.get(channel_name) is connecting:
            del self._sessions[channel_name]

    async def release(self, channel_name: str) -> None:
        async with self._lock:
            remaining = self._users.get(channel_name, 0) - 1
            if remaining > 0:
                self._users[channel_name] = remaining
                return
            self._users.pop(channel_name, None)
            connecting = self._sessions.pop(channel_name, None)
        if connecting is not None and connecting.done() and not connecting.exception():
            await connecting.result().detach()

    async def close(self) -> None:
        """End open runs as cancelled, detach everything and close the connection."""
        connecting, self._sessions = list(self._sessions.values()), {}
        self._users.clear()
        for future in connecting:
            if future.done() and not future.exception():
                await future.result().end()
        if self._clients is not None:
            clients, self._clients = self._clients, None
            await clients.close()
