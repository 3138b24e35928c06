"""Recording a run's end so that a database hiccup never loses it.

The end is written with bounded retries (`chat.runs.retry`). If the database stays away past
the budget, nothing is overwritten: the answer keeps the text its last heartbeat stored and the
run stays open, so a reaper (in any worker) ends it `error` with that text once it can write.
"""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async
from django.db import DatabaseError

from chat.runs import records
from chat.runs.retry import retry_db

log = logging.getLogger(__name__)


async def record_end_durably(run_id: str, end: records.RunEnd, budget: float | None = None) -> bool:
    """Record the end; False if the database could not take it within the budget."""
    record_end = sync_to_async(records.record_end)
    try:
        await retry_db(lambda: record_end(run_id, end), f"recording the end of run {run_id}", budget)
    except DatabaseError:
        log.exception("run %s: end not recorded; the reaper will end it with its stored text", run_id)
        return False
    return True
