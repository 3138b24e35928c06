"""The single writer of one WebSocket: every outbound frame, in order, plus idle heartbeats.

Deliveries arrive from other connections' coroutines; queueing them here means a publisher never
waits on a slow subscriber, and one task owns the socket so frames cannot interleave. When nothing
has been sent for maxIdleInterval the writer sends a HEARTBEAT: ably-python only counts protocol
frames as activity (Q-P4) and ably-js asks for them (Q-J3).

A write that fails leaves the socket unusable, so the writer then asks the connection to close
(`on_write_failure`): a socket that stays open but never sends again, not even a heartbeat, would
look alive to the client until its own idle timer ran out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from broker.realtime.codec import FrameCodec
from broker.wire import F_ACTION, Action

log = logging.getLogger(__name__)

_CLOSE = object()


class SharedFrame:
    """A frame many sockets send unchanged (one delivery, many subscribers): encoded once per format."""

    __slots__ = ("_encoded", "frame")

    def __init__(self, frame: dict) -> None:
        self.frame = frame
        self._encoded: dict[bool, str | bytes] = {}

    def encode(self, codec: FrameCodec) -> str | bytes:
        raw = self._encoded.get(codec.binary)
        if raw is None:
            raw = self._encoded[codec.binary] = codec.encode(self.frame)
        return raw


class Outbox:
    def __init__(
        self,
        codec: FrameCodec,
        write: Callable[[str | bytes], Awaitable[None]],
        *,
        heartbeat_ms: int,
        max_backlog: int,
        on_overflow: Callable[[], None],
        on_write_failure: Callable[[], None],
    ) -> None:
        self._codec = codec
        self._write = write
        self._heartbeat_s = heartbeat_ms / 1000 if heartbeat_ms > 0 else None
        self._max_backlog = max_backlog
        self._on_overflow = on_overflow
        self._on_write_failure = on_write_failure
        self._queue: asyncio.Queue = asyncio.Queue()
        self._overflowed = False
        self._task: asyncio.Task | None = None
        self.drained = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def put(self, frame: dict | SharedFrame) -> None:
        if self._overflowed:
            return
        if self._queue.qsize() >= self._max_backlog:
            # The client is not reading. Drop the transport: it resumes and replays from storage.
            self._overflowed = True
            log.warning("outbound backlog over %d frames; dropping the transport", self._max_backlog)
            self._on_overflow()
            return
        self._queue.put_nowait(frame)

    def finish(self) -> None:
        """Send what is queued, then stop (used before closing the socket)."""
        self._queue.put_nowait(_CLOSE)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _next(self) -> object:
        if self._heartbeat_s is None:
            return await self._queue.get()
        try:
            return await asyncio.wait_for(self._queue.get(), timeout=self._heartbeat_s)
        except TimeoutError:
            return {F_ACTION: Action.HEARTBEAT}

    async def _run(self) -> None:
        try:
            while True:
                frame = await self._next()
                if frame is _CLOSE:
                    break
                try:
                    if isinstance(frame, SharedFrame):
                        raw = frame.encode(self._codec)
                    else:
                        raw = self._codec.encode(frame)  # type: ignore[arg-type]
                except Exception:
                    log.exception("could not encode an outbound frame; skipped")
                    continue
                await self._write(raw)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("socket write failed (%s); closing the connection", type(exc).__name__)
            self.drained.set()
            self._on_write_failure()
        finally:
            self.drained.set()
