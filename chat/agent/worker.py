"""The agent worker: a Channels consumer on the `agent` channel.

In the embedded setup it runs inside the Daphne process, started on the first invocation;
with Redis, `python manage.py runworker agent` processes take the same messages and scale
out. Each invocation runs as its own task, so one worker streams many runs at once.
"""

from __future__ import annotations

import asyncio
import logging

from channels.consumer import AsyncConsumer
from channels.layers import get_channel_layer
from channels.routing import ChannelNameRouter
from channels.worker import Worker
from django.conf import settings

from chat.agent.embedded import served_port
from chat.agent.jobs import AGENT_CHANNEL, InvocationJob
from chat.agent.pool import SessionPool
from chat.agent.providers.config import build_provider
from chat.agent.reaper import reap_forever
from chat.agent.runner import run_invocation
from chat.transport.clients import AblyTarget, build_clients

log = logging.getLogger(__name__)


def agent_ably_target() -> AblyTarget:
    """Ably itself, a standalone broker, or this process's own embedded broker."""
    if settings.ABLY_ENDPOINT:
        return AblyTarget(settings.ABLY_ENDPOINT, settings.ABLY_PORT, settings.ABLY_TLS)
    port = settings.EMBEDDED_BROKER_PORT or served_port() or 8000
    return AblyTarget(settings.EMBEDDED_BROKER_HOST, port, tls=False)


class AgentRuntime:
    """Per-process state shared by every invocation: the Ably connection and the model client."""

    def __init__(self) -> None:
        self.pool = SessionPool(
            lambda: build_clients(settings.ABLY_API_KEY, agent_ably_target()),
            append_window_ms=settings.AGENT_APPEND_WINDOW_MS,
        )
        self.provider = build_provider()
        self.tasks: set[asyncio.Task] = set()
        self._reaper: asyncio.Task | None = None

    def start_reaper(self) -> None:
        if self._reaper is None:
            self._reaper = asyncio.ensure_future(reap_forever(self.pool))

    def spawn(self, job: InvocationJob) -> None:
        task = asyncio.ensure_future(run_invocation(job, self.pool, self.provider))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def shutdown(self) -> None:
        """Stop every run (each publishes its `ai-run-end`), then close connections."""
        if self._reaper is not None:
            self._reaper.cancel()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.pool.close()
        await self.provider.aclose()


_runtime: AgentRuntime | None = None


def runtime() -> AgentRuntime:
    global _runtime
    if _runtime is None:
        _runtime = AgentRuntime()
    return _runtime


class AgentConsumer(AsyncConsumer):
    async def agent_invoke(self, message: dict) -> None:
        current = runtime()
        current.start_reaper()
        current.spawn(InvocationJob.from_message(message))


_embedded_worker: asyncio.Task | None = None


def ensure_embedded_worker(start_reaper: bool = False) -> None:
    """Start the in-process worker on this event loop once (embedded setup)."""
    global _embedded_worker
    if start_reaper:
        runtime().start_reaper()
    if not settings.AGENT_IN_PROCESS or (_embedded_worker is not None and not _embedded_worker.done()):
        return
    application = ChannelNameRouter({AGENT_CHANNEL: AgentConsumer.as_asgi()})
    worker = Worker(application=application, channels=[AGENT_CHANNEL], channel_layer=get_channel_layer())
    _embedded_worker = asyncio.ensure_future(worker.arun())
    log.info("agent worker started in this process")
