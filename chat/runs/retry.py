"""Bounded retries of database writes that must not be lost (a run's end above all).

A locked SQLite file, a PostgreSQL failover or a dropped connection are hiccups: the write is
retried with exponential backoff for at most `AGENT_DB_RETRY_SECONDS`, sleeping on the event
loop (never in the shared sync thread, where a sleep would stall every other query). Between
attempts a broken connection is closed so the next attempt reconnects.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections

log = logging.getLogger(__name__)

T = TypeVar("T")
FIRST_DELAY_SECONDS = 0.05
MAX_DELAY_SECONDS = 2.0
RETRYABLE = (OperationalError, InterfaceError)


async def retry_db(call: Callable[[], Awaitable[T]], what: str, budget: float | None = None) -> T:
    """Await `call()` until it succeeds; re-raise its last error once the budget is spent."""
    budget = settings.AGENT_DB_RETRY_SECONDS if budget is None else budget
    deadline = time.monotonic() + budget
    delay = FIRST_DELAY_SECONDS
    attempt = 1
    while True:
        try:
            return await call()
        except RETRYABLE as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.error("%s failed after %d attempt(s): %s", what, attempt, exc)
                raise
            log.warning("%s failed (attempt %d, %s); retrying", what, attempt, exc)
            await drop_broken_connections()
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_DELAY_SECONDS)
            attempt += 1


async def drop_broken_connections() -> None:
    """Close this thread's connection if an error left it unusable, so the next query reconnects."""
    try:
        await sync_to_async(close_old_connections)()
    except DatabaseError:
        log.debug("closing a broken connection failed", exc_info=True)
