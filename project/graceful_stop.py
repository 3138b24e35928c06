"""One orderly way down for a Daphne process: SIGTERM/SIGINT run the stop hooks in order, then stop.

Several parts of a process must finish before Daphne cancels its connections: the in-process agent
ends its runs (publishing their ends through this process's broker), then the broker stores and
ACKs what it accepted and tells its clients to move. Each registers a hook with an order; the first
signal runs them one after another and then stops the reactor. A stop that begins another way
(Twisted's own shutdown) still runs the hooks, as a "before shutdown" trigger, if they have not run.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

AGENT_ORDER = 10
BROKER_ORDER = 20
StopHook = Callable[[], Awaitable[None]]

_hooks: list[tuple[int, str, StopHook]] = []
_stopping: asyncio.Task | None = None
_installed = False


def before_stop(order: int, name: str, hook: StopHook) -> None:
    """Run `hook` on the way down, after every hook of a lower order. Call from the running loop."""
    if any(existing == name for _, existing, _ in _hooks):
        return
    _hooks.append((order, name, hook))
    _hooks.sort(key=lambda entry: entry[0])
    _install()


async def _run_hooks() -> None:
    for _, name, hook in list(_hooks):
        try:
            await hook()
        except Exception:
            log.exception("stop hook %s failed", name)


def _start() -> asyncio.Task:
    global _stopping
    if _stopping is None:
        _stopping = asyncio.ensure_future(_run_hooks())
    return _stopping


def _install() -> None:
    global _installed
    if _installed:
        return
    try:
        from twisted.internet import defer, reactor
    except ImportError:  # pragma: no cover - Daphne always brings Twisted
        return
    if not getattr(reactor, "running", False):
        return
    _installed = True
    loop = asyncio.get_running_loop()

    async def stop_after_hooks() -> None:
        await _start()
        if reactor.running:
            reactor.stop()

    stopping: list[asyncio.Task] = []

    def on_signal() -> None:
        if not stopping:
            log.info("stopping: running %d stop hook(s) first", len(_hooks))
            stopping.append(asyncio.ensure_future(stop_after_hooks()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    reactor.addSystemEventTrigger("before", "shutdown", lambda: defer.Deferred.fromFuture(_start()))
