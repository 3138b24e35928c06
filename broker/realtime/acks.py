"""ACK and NACK frames leave a connection in msgSerial order.

Publishes are acknowledged once their channel's batch is stored, and batches on different channels
finish in any order. ably-js takes an ACK for msgSerial n as the outcome of every pending message up
to n, so an early ACK for a later message would settle earlier ones that may yet fail: replies wait
here for the ones before them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable


class AckQueue:
    def __init__(self, send: Callable[[dict], None]) -> None:
        self._send = send
        self._waiting: deque[asyncio.Future] = deque()
        self._task: asyncio.Task | None = None

    def push(self, reply: asyncio.Future) -> None:
        """Send `reply` (a future of the ACK/NACK frame) once it and every earlier one are ready."""
        if not self._waiting and reply.done():
            self._send(reply.result())
            return
        self._waiting.append(reply)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._waiting:
                frame = await asyncio.shield(self._waiting[0])
                self._waiting.popleft()
                self._send(frame)
        finally:
            self._task = None

    def stop(self) -> None:
        """The socket is gone: a resumed transport answers retransmissions from the connection state."""
        if self._task is not None:
            self._task.cancel()
        self._waiting.clear()
