"""The `runworker agent` process: Channels' worker loop with the agent runtime's lifecycle.

Compared with Channels' own worker it (1) starts the runtime, and with it the reaper, before the
first job; (2) on SIGTERM/SIGINT ends the runs in flight and exits 0; (3) when the job queue
fails (Redis gone) ends the runs in flight `error` with their text and exits non-zero, so a
supervisor restarts it; (4) never hangs on the way out: after the bounded shutdown, tasks that
ignore cancellation are abandoned rather than awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from channels.worker import Worker

from chat.agent import runtime

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_QUEUE_LOST = 3
ABANDON_AFTER_SECONDS = 3.0
QUEUE_LOST_MESSAGE = "The agent worker lost its job queue; the answer is incomplete."


class AgentWorker(Worker):
    def run(self) -> int:  # type: ignore[override]
        """Run until stopped; returns the process exit status."""
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return loop.run_until_complete(self._main())
        finally:
            _abandon_leftovers(loop)

    async def _main(self) -> int:
        agent = runtime.current()
        agent.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        serving = asyncio.ensure_future(self.arun())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not serving.done():
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await serving
            log.info("agent worker stopping (signal)")
            await agent.shutdown()
            return EXIT_OK
        failure = serving.exception() if not serving.cancelled() else None
        log.error("agent worker lost its job queue: %r; exiting", failure)
        await agent.shutdown(QUEUE_LOST_MESSAGE)
        return EXIT_QUEUE_LOST


def _abandon_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left (SDK internals), wait briefly, then close the loop regardless."""
    leftovers = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in leftovers:
        task.cancel()
    if leftovers:
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.wait(leftovers, timeout=ABANDON_AFTER_SECONDS))
    with contextlib.suppress(Exception):
        loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
