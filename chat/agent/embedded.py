"""The agent inside a web process (`AGENT_IN_PROCESS`): started by the first connection.

Daphne has no startup hook for applications, so the ASGI app is wrapped: the first connection
of any kind (a page, a token request, a health probe) tells the runtime which port this server
listens on (where its embedded broker is) and, with the in-process agent on, starts the worker
and its reaper on the server's event loop. SIGTERM then runs the runtime's bounded shutdown
before Daphne stops, so no run is left `active` and Daphne exits 0.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from chat.agent import runtime

log = logging.getLogger(__name__)


class StartAgentWorker:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._started = False

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if not self._started:
            self._started = True
            self._start(scope)
        await self.app(scope, receive, send)

    def _start(self, scope: dict) -> None:
        agent = runtime.current()
        if scope.get("server") and agent.served_port is None:
            agent.served_port = scope["server"][1]
        if not settings.AGENT_IN_PROCESS:
            return
        agent.start_in_process_worker()
        _shutdown_with_the_server(agent)
        log.info("agent worker started in this process")


def _shutdown_with_the_server(agent: runtime.AgentRuntime) -> None:
    """SIGTERM/SIGINT end the agent's runs first: they publish their ends through this process's broker,
    which goes down right after (`project.graceful_stop`)."""
    from project.graceful_stop import AGENT_ORDER, before_stop

    before_stop(AGENT_ORDER, "agent", agent.shutdown)
