"""`AgentRuntime`: everything one process needs to run the agent, owned by one object.

A process has one runtime (`current()`): in a `runworker agent` process, or inside a web
process when `AGENT_IN_PROCESS` is on. It holds the Ably connection pool and the model client,
the port this process serves on (where its embedded broker is), the in-process Channels worker,
the reaper (running from the moment the runtime starts, not from the first job) and the run
tasks. `shutdown` ends every run in flight within a bounded time, keeping its streamed text.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from channels.layers import get_channel_layer
from channels.routing import ChannelNameRouter
from channels.worker import Worker
from django.conf import settings

from chat.ably_endpoint import server_target
from chat.agent.pool import SessionPool
from chat.agent.providers.config import build_provider
from chat.agent.providers.protocol import LLMProvider
from chat.agent.reaper import reap_forever
from chat.agent.runner import run_invocation
from chat.runs.errors import SHUTTING_DOWN_MESSAGE
from chat.runs.jobs import AGENT_CHANNEL, InvocationJob
from chat.transport.clients import build_clients

log = logging.getLogger(__name__)

WORKER_RESTART_SECONDS = 2.0


class AgentRuntime:
    def __init__(self) -> None:
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.served_port: int | None = None
        self.tasks: set[asyncio.Task] = set()
        self.stop_message = SHUTTING_DOWN_MESSAGE
        self._stopping: asyncio.Event | None = None
        self._pool: SessionPool | None = None
        self._provider: LLMProvider | None = None
        self._reaper: asyncio.Task | None = None
        self._worker: asyncio.Task | None = None
        self._shutdown: asyncio.Task | None = None

    @property
    def pool(self) -> SessionPool:
        if self._pool is None:
            target = server_target(self.served_port)
            self._pool = SessionPool(
                lambda: build_clients(settings.ABLY_API_KEY, target),
                append_window_ms=settings.AGENT_APPEND_WINDOW_MS,
            )
        return self._pool

    @property
    def provider(self) -> LLMProvider:
        if self._provider is None:
            self._provider = build_provider()
        return self._provider

    @property
    def stopping(self) -> asyncio.Event:
        """Set once shutdown begins: runs in flight abort and end `error` with their text."""
        if self._stopping is None:
            self._stopping = asyncio.Event()
        return self._stopping

    def start(self) -> None:
        """Check where Ably is (fail now, not on the first job) and start the reaper, once."""
        server_target(self.served_port)
        if self._reaper is None:
            self._reaper = asyncio.ensure_future(reap_forever(self))
            log.info(
                "agent runtime %s started (reaper every %gs)",
                self.worker_id,
                settings.AGENT_REAP_INTERVAL_SECONDS,
            )

    def start_in_process_worker(self) -> None:
        """The embedded setup: take jobs from the channel layer on this (Daphne's) event loop."""
        self.start()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.ensure_future(self._consume_forever())

    async def _consume_forever(self) -> None:
        from chat.agent.consumer import AgentConsumer  # the consumer looks the runtime up: import late

        application = ChannelNameRouter({AGENT_CHANNEL: AgentConsumer.as_asgi()})
        while not self.stopping.is_set():
            worker = Worker(
                application=application, channels=[AGENT_CHANNEL], channel_layer=get_channel_layer()
            )
            try:
                await worker.arun()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("in-process agent worker lost its job queue; restarting")
                await asyncio.sleep(WORKER_RESTART_SECONDS)

    def spawn(self, job: InvocationJob) -> None:
        if self.stopping.is_set():
            log.warning(
                "run %s not started: shutting down (another worker or the reaper takes it)", job.run_id
            )
            return
        task = asyncio.ensure_future(run_invocation(job, self))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def shutdown(self, message: str = SHUTTING_DOWN_MESSAGE) -> None:
        """End runs in flight (`error` with `message`, text kept), then close; bounded in time.

        Runs are aborted, not cancelled, so each closes its streams and records its text; runs
        still going after `AGENT_SHUTDOWN_GRACE_SECONDS` are cancelled (and end as best they can).
        A second call waits for the first.
        """
        if self._shutdown is None:
            self._shutdown = asyncio.ensure_future(self._shut_down(message))
        await asyncio.shield(self._shutdown)

    async def _shut_down(self, message: str) -> None:
        self.stop_message = message
        self.stopping.set()
        for task in (self._worker, self._reaper):
            if task is not None:
                task.cancel()
        grace = settings.AGENT_SHUTDOWN_GRACE_SECONDS
        if self.tasks:
            log.info("ending %d run(s) in flight: %s", len(self.tasks), message)
            _, late = await asyncio.wait(set(self.tasks), timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=grace)
        await _bounded(self._close_clients(), grace, "closing the agent's connections")

    async def _close_clients(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        if self._provider is not None:
            await self._provider.aclose()


async def _bounded(work, seconds: float, what: str) -> None:
    try:
        async with asyncio.timeout(seconds):
            await work
    except TimeoutError:
        log.warning("%s took longer than %gs; giving up", what, seconds)
    except Exception:
        log.exception("%s failed", what)


_current: AgentRuntime | None = None


def current() -> AgentRuntime:
    """This process's runtime (made on first use)."""
    global _current
    if _current is None:
        _current = AgentRuntime()
    return _current
