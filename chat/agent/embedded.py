"""Starts the in-process agent worker with the server (embedded setup).

Daphne has no startup hook for applications, so the ASGI app is wrapped: the first
connection of any kind (a page, a token request, a health probe) starts the worker on the
server's event loop. Its reaper then also ends runs a previous process left open. The same
first connection tells which port this server listens on, which is where the agent reaches
the embedded broker unless `EMBEDDED_BROKER_PORT` says otherwise.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

_served_port: int | None = None


def served_port() -> int | None:
    """The port of the first connection this process served (None before any)."""
    return _served_port


class StartAgentWorker:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._started = False

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        global _served_port
        if _served_port is None and scope.get("server"):
            _served_port = scope["server"][1]
        if not self._started and settings.AGENT_IN_PROCESS:
            self._started = True
            from chat.agent.worker import ensure_embedded_worker

            ensure_embedded_worker(start_reaper=True)
        await self.app(scope, receive, send)
