"""The bounded queue between one socket's reader and the task that handles its frames.

The consumer reads frames as fast as they arrive (so Daphne's own, unbounded, per-socket queue
never fills with a flood) and hands them here; one task per connection takes them out in order,
which keeps a connection's publishes, appends and their ACK/NACKs in msgSerial order. Each
connection has at most one frame in progress, so the shared database thread serves connections in
turn instead of one connection's backlog at a time. What is queued is bounded in frames and in
bytes; a client that outruns it is sending far beyond its rate limit and is disconnected (42921).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Inbound:
    """One parsed frame waiting to be handled. `admitted` is the rate limiter's verdict on arrival."""

    frame: dict
    action: int
    is_json: bool
    admitted: bool
    size: int


class IntakeFull(Exception):
    """The connection has more unhandled frames (or bytes) queued than allowed."""


class Intake:
    def __init__(self, *, max_frames: int, max_bytes: int) -> None:
        self._max_frames = max_frames
        self._max_bytes = max_bytes
        self._items: deque[Inbound] = deque()
        self._bytes = 0
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Inbound) -> None:
        if len(self._items) >= self._max_frames or self._bytes + item.size > self._max_bytes:
            raise IntakeFull
        self._items.append(item)
        self._bytes += item.size
        self._ready.set()

    async def get(self) -> Inbound:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        item = self._items.popleft()
        self._bytes -= item.size
        return item

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0
