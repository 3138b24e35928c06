"""The agent's side of one AI Transport session (one conversation channel).

It subscribes before anything else so no input or cancel published after attach is missed,
routes cancels to runs, and guarantees every run it owns ends: `end()` publishes
`ai-run-end` (cancelled) for runs still open, e.g. when the worker shuts down.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from chat.transport import wire
from chat.transport.cancel_router import CancelRouter
from chat.transport.channel_writer import ChannelWriter
from chat.transport.errors import TransportError
from chat.transport.locator import InputLocator, LocatedInput
from chat.transport.run import AgentRun, Invocation, RunHooks

log = logging.getLogger(__name__)


class AgentSession:
    def __init__(
        self,
        realtime: Any,
        channel_name: str,
        history_client: Any | None = None,
        append_window_ms: float = 0,
    ) -> None:
        """`history_client` reads history when the realtime client cannot (ably-python's port quirk);
        `append_window_ms` is how long streamed deltas are coalesced into one append (0 = every delta)."""
        self.channel_name = channel_name
        self.append_window_ms = append_window_ms
        self._realtime = realtime
        self._history_client = history_client or realtime
        self.router = CancelRouter()
        self._locator = InputLocator()
        self._tasks: set[asyncio.Task] = set()
        self._channel: Any = None
        self.writer: ChannelWriter | None = None
        self._history_channel: Any = None

    async def connect(self) -> None:
        if self._channel is not None:
            return
        channel = self._realtime.channels.get(self.channel_name)
        try:
            await channel.subscribe(self._on_message)
        except Exception as exc:
            raise TransportError(
                f"could not attach to {self.channel_name}: {exc}", wire.ERROR_SESSION_SUBSCRIPTION
            ) from exc
        self._channel = channel
        self.writer = ChannelWriter(channel)
        self._history_channel = self._history_client.channels.get(self.channel_name)

    def create_run(
        self,
        invocation: Invocation,
        run_id: str | None = None,
        invocation_id: str | None = None,
        hooks: RunHooks | None = None,
    ) -> AgentRun:
        """A run registered for cancel routing at once (no I/O yet)."""
        if self._channel is None:
            raise TransportError("connect() the session first", wire.ERROR_INVALID_ARGUMENT, 400)
        if run_id == "" or invocation_id == "":
            raise TransportError("run and invocation ids must not be empty", wire.ERROR_INVALID_ARGUMENT, 400)
        run = AgentRun(
            session=self,
            invocation=invocation,
            run_id=run_id or str(uuid.uuid4()),
            invocation_id=invocation_id or str(uuid.uuid4()),
            hooks=hooks or RunHooks(),
        )
        self.router.register(run)
        return run

    async def locate(self, event_id: str, timeout: float) -> LocatedInput:
        return await self._locator.locate(event_id, self._history_channel, timeout)

    async def end(self) -> None:
        """End every open run as cancelled, then detach."""
        for run in self.router.open_runs():
            run.abort()
            try:
                await run.end(wire.REASON_CANCELLED)
            except TransportError:
                log.exception("could not end run %s while ending the session", run.run_id)
        await self.detach()

    async def detach(self) -> None:
        """Stop listening; publishes nothing (runs left open can be adopted or reaped)."""
        for run in self.router.open_runs():
            run.abort()
        if self._channel is None:
            return
        channel, self._channel = self._channel, None
        channel.unsubscribe(self._on_message)
        try:
            await channel.detach()
        except Exception:
            log.debug("detach of %s failed", self.channel_name, exc_info=True)

    def _on_message(self, message: Any) -> None:
        self._locator.observe(message)
        if message.name == wire.EVENT_CANCEL:
            task = asyncio.ensure_future(self.router.route(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
