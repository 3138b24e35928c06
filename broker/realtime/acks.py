"""ACK and NACK frames leave a connection in msgSerial order.

Publishes are acknowledged once their channel's batch is stored, and batches on different channels
finish in any order. ably-js takes an ACK for msgSerial n as the outcome of every pending message up
to n, so an early ACK for a later message would settle earlier ones that may yet fail: replies wait
here for the ones before them. Consecutive ACKs that are ready together leave as one frame
(`count` > 1 with one result each), which both SDKs read: a batch that stored appends of several
streams from one agent connection costs that connection one frame.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from broker.wire import F_ACTION, F_COUNT, F_MSG_SERIAL, F_RES, Action


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
                while self._waiting and self._waiting[0].done():
                    merged = _merged(frame, self._waiting[0].result())
                    if merged is None:
                        break
                    frame = merged
                    self._waiting.popleft()
                self._send(frame)
        finally:
            self._task = None

    async def flushed(self) -> None:
        """Wait until every reply queued so far has been handed to the socket."""
        while self._waiting:
            await asyncio.wait([asyncio.shield(self._waiting[-1])])
            await asyncio.sleep(0)

    def stop(self) -> None:
        """The socket is gone: a resumed transport answers retransmissions from the connection state."""
        if self._task is not None:
            self._task.cancel()
        self._waiting.clear()


def _merged(first: dict, second: dict) -> dict | None:
    """One ACK covering both, if they are ACKs with results for consecutive msgSerials."""
    if first.get(F_ACTION) != Action.ACK or second.get(F_ACTION) != Action.ACK:
        return None
    if F_RES not in first or F_RES not in second:
        return None
    if second[F_MSG_SERIAL] != first[F_MSG_SERIAL] + first[F_COUNT]:
        return None
    return {
        F_ACTION: Action.ACK,
        F_MSG_SERIAL: first[F_MSG_SERIAL],
        F_COUNT: first[F_COUNT] + second[F_COUNT],
        F_RES: [*first[F_RES], *second[F_RES]],
    }
