"""The write path of every channel this process publishes to: batching, append rollup, durability.

Realtime and REST publishers hand their checked writes to the channel's `ChannelLog` and get a
future for the outcome. The log stores whatever is pending (`broker.store.batch`)
on the process's writer thread, then hands the stored events to the fan-out and only then
resolves the futures, so an ACK always means "durable and delivered in order". While one group is
being written, new writes of every channel queue up and go together in the next transaction
(group commit), so the cost per token falls as load rises instead of a transaction per append.

Append rollup (Ably's `appendRollupWindow`) is applied here, before anything gets a serial: the
first append to a quiet channel is flushed at once; appends arriving within the publisher's window
after a flush that carried appends wait for the window to close and are folded into one event.
Any other write (a new message, an update, a cancel) flushes at once and nothing folds across it,
so a Stop is never held behind a window.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import DatabaseError, connection

from broker import conf
from broker.errors import AblyError, ErrorCode
from broker.fanout import Delivery, hub
from broker.store.batch import BatchResult, ChannelState, MutationOp, Op, Outcome, write_batches
from broker.wire import MessageAction

log = logging.getLogger(__name__)

# A flush that keeps failing (database down) is retried with backoff for this long, then NACKed.
WRITE_RETRY_SECONDS = 30.0
_RETRY_FIRST_DELAY_S = 0.05
_RETRY_MAX_DELAY_S = 2.0
_MAX_BATCH = 500


@dataclass
class _Pending:
    op: Op
    future: asyncio.Future
    window_ms: int

    @property
    def holdable(self) -> bool:
        """An append whose publisher asked for rollup: it may wait for the window and fold."""
        return (
            self.window_ms > 0 and isinstance(self.op, MutationOp) and self.op.action == MessageAction.APPEND
        )


def storage_unavailable() -> AblyError:
    return AblyError(ErrorCode.INTERNAL, 500, "Message storage is unavailable; the message was not stored")


class ChannelLog:
    """Pending writes of one channel, flushed one batch at a time, in submission order."""

    def __init__(self, name: str, registry: ChannelLogs) -> None:
        self.name = name
        self._registry = registry
        self._state = ChannelState(name)
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task | None = None
        self._hold_until = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def submit(self, op: Op, *, window_ms: int = 0) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        pending = _Pending(op, loop.create_future(), window_ms)
        if isinstance(op, MutationOp):
            op.fold = pending.holdable
        self._pending.append(pending)
        self._wake()
        return pending.future

    def _wake(self) -> None:
        if self._flusher is not None:
            return  # the running flusher picks the new write up when its current batch is stored
        loop = asyncio.get_running_loop()
        if all(p.holdable for p in self._pending) and loop.time() < self._hold_until:
            if self._timer is None:
                self._timer = loop.call_at(self._hold_until, self._window_closed)
            return
        self._flusher = loop.create_task(self._flush_all())

    def _window_closed(self) -> None:
        self._timer = None
        if self._pending and self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_all())

    async def _flush_all(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                batch, self._pending = self._pending[:_MAX_BATCH], self._pending[_MAX_BATCH:]
                await self._flush(batch)
                windows = [p.window_ms for p in batch if p.holdable]
                if windows:
                    self._hold_until = loop.time() + min(windows) / 1000
                if (
                    self._pending
                    and all(p.holdable for p in self._pending)
                    and loop.time() < self._hold_until
                ):
                    self._timer = loop.call_at(self._hold_until, self._window_closed)
                    break
        finally:
            self._flusher = None
            if not self._pending and self._timer is None:
                self._registry.forget_if_idle(self)

    async def _flush(self, batch: list[_Pending]) -> None:
        ops = [p.op for p in batch]
        try:
            result = await self._registry.write(self._state, ops)
        except AblyError as error:
            for pending in batch:
                _resolve(pending.future, error)
            return
        except BaseException:
            # Cancelled (shutdown): nobody may wait forever for an outcome.
            for pending in [*batch, *self._pending]:
                _resolve(pending.future, storage_unavailable())
            raise
        if result.events:
            hub.dispatch(self.name, result.previous_serial, [Delivery.of(event) for event in result.events])
        for pending, outcome in zip(batch, result.outcomes, strict=True):
            _resolve(pending.future, outcome)

    @property
    def idle(self) -> bool:
        return not self._pending and self._flusher is None and self._timer is None


def _resolve(future: asyncio.Future, outcome: Outcome) -> None:
    if not future.done():
        future.set_result(outcome)


@dataclass
class _Job:
    state: ChannelState
    ops: list[Op]
    result: asyncio.Future


class ChannelLogs:
    """The process's channel logs and the one writer thread they share."""

    def __init__(self) -> None:
        self._logs: dict[str, ChannelLog] = {}
        self._executor: ThreadPoolExecutor | None = None
        # Idle logs are kept (most recently used last), so a stream's next token neither reloads its
        # message nor loses the rollup window its previous flush opened.
        self._idle: dict[str, ChannelLog] = {}
        self._jobs: list[_Job] = []
        self._writer: asyncio.Task | None = None

    def get(self, channel: str) -> ChannelLog:
        channel_log = self._logs.get(channel)
        if channel_log is None:
            channel_log = self._idle.pop(channel, None) or ChannelLog(channel, self)
            self._logs[channel] = channel_log
        return channel_log

    def forget_if_idle(self, channel_log: ChannelLog) -> None:
        if channel_log.idle and self._logs.get(channel_log.name) is channel_log:
            del self._logs[channel_log.name]
            self._idle[channel_log.name] = channel_log
            while len(self._idle) > conf.cached_channels():
                self._idle.pop(next(iter(self._idle)))

    async def drained(self) -> None:
        """Wait until every write accepted so far is stored (and its outcome known)."""
        while True:
            busy = [log for log in self._logs.values() if not log.idle or log._pending]
            if not busy and self._writer is None:
                return
            futures = [p.future for channel_log in busy for p in channel_log._pending]
            if self._writer is not None:
                futures.append(asyncio.shield(self._writer))
            if futures:
                await asyncio.wait(futures)
            else:
                await asyncio.sleep(0.01)

    def reset(self) -> None:
        """Forget every cached channel state (tests; after the database was changed underneath)."""
        self._idle.clear()
        for channel_log in self._logs.values():
            channel_log._state.reset()

    async def write(self, state: ChannelState, ops: list[Op]) -> BatchResult:
        """Store one channel's batch in the next group; AblyError 50000 once storage gives up."""
        loop = asyncio.get_running_loop()
        job = _Job(state, ops, loop.create_future())
        self._jobs.append(job)
        if self._writer is None:
            self._writer = loop.create_task(self._write_groups())
        return await job.result

    async def _write_groups(self) -> None:
        try:
            while self._jobs:
                jobs, self._jobs = self._jobs, []
                await self._write_group(jobs)
        finally:
            self._writer = None

    async def _write_group(self, jobs: list[_Job]) -> None:
        """One transaction for every job, retried with backoff while the database is unavailable."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="broker-writer")
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + WRITE_RETRY_SECONDS
        delay = _RETRY_FIRST_DELAY_S
        while True:
            try:
                results = await loop.run_in_executor(self._executor, _write_in_thread, jobs)
            except DatabaseError as exc:
                for job in jobs:
                    job.state.reset()
                if time.monotonic() + delay > deadline:
                    log.error("giving up storing writes on %d channel(s): %s", len(jobs), exc)
                    _fail(jobs, storage_unavailable())
                    return
                log.warning("storing writes failed (%s); retrying in %.2fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX_DELAY_S)
            except Exception:
                for job in jobs:
                    job.state.reset()
                log.exception("storing writes on %d channel(s) failed", len(jobs))
                _fail(jobs, storage_unavailable())
                return
            else:
                for job, result in zip(jobs, results, strict=True):
                    if not job.result.done():
                        job.result.set_result(result)
                return


def _fail(jobs: list[_Job], error: AblyError) -> None:
    for job in jobs:
        if not job.result.done():
            job.result.set_exception(error)


def _write_in_thread(jobs: list[_Job]) -> list[BatchResult]:
    try:
        return write_batches(
            [(job.state, job.ops) for job in jobs], idempotency_window_ms=conf.idempotency_window_ms()
        )
    except DatabaseError:
        # Drop a connection that may be broken, so the retry opens a fresh one.
        connection.close()
        raise


logs = ChannelLogs()
