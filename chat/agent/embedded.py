"""The agent inside a web process (`AGENT_IN_PROCESS`): started by the first connection.

Daphne has no startup hook for applications, so the ASGI app is wrapped: the first connection
of any kind (a page, a token request, a health probe) tells the runtime which port this server
listens on (where its embedded broker is) and, with the in-process agent on, starts the worker
and its reaper on the server's event loop. SIGTERM then runs the runtime's bounded shutdown
before Daphne stops, so no run is left `active` and Daphne exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import signal
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
    """Under Daphne (Twisted's asyncio reactor): SIGTERM/SIGINT end the agent's runs, then stop Daphne.

    The agent goes first because its runs publish their ends through this process's own broker,
    whose connections Daphne cancels as soon as the reactor begins to stop. A "before shutdown"
    trigger covers any other way the reactor stops.
    """
    try:
        from twisted.internet import defer, reactor
    except ImportError:  # pragma: no cover - Daphne always brings Twisted
        return
    if not getattr(reactor, "running", False):
        return
    loop = asyncio.get_running_loop()

    async def shutdown_then_stop() -> None:
        await agent.shutdown()
        if reactor.running:
            reactor.stop()

    stopping: list[asyncio.Task] = []

    def on_signal() -> None:
        if not stopping:
            log.info("stopping: ending the agent's runs first")
            stopping.append(asyncio.ensure_future(shutdown_then_stop()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)

    def before_shutdown() -> defer.Deferred:
        return defer.Deferred.fromFuture(asyncio.ensure_future(agent.shutdown()))

    reactor.addSystemEventTrigger("before", "shutdown", before_shutdown)
