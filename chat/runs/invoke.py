"""Accepting an invocation in a web process and queueing it for a worker.

The run row is written before the job is queued, so a worker can always claim it. If the
queue (Redis) refuses the job, the run is ended `error` at once and the caller gets
`RunsUnavailable`: no run is left `active` for a job nobody will ever receive. If the
database is what failed, there is no row to clean up.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from asgiref.sync import sync_to_async
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.db import DatabaseError

from chat.identity import client_id_for
from chat.runs import records
from chat.runs.errors import ERROR_NEVER_CLAIMED, RunsUnavailable
from chat.runs.jobs import AGENT_CHANNEL, InvocationJob
from chat.runs.retry import retry_db
from chat.runs.sessions import conversation_for_session
from chat.transport import wire
from chat.transport.run import Invocation

log = logging.getLogger(__name__)

QUEUE_TIMEOUT_SECONDS = 5.0
NOT_QUEUED_MESSAGE = "The agent's job queue is unavailable; the question was not queued."
# What the job queue's client raises when it cannot reach its server (redis-py's errors are
# OSError subclasses or redis.RedisError; neither may be importable without Redis installed).
_QUEUE_ERRORS: tuple[type[BaseException], ...] = (ChannelFull, OSError, TimeoutError)
try:
    from redis.exceptions import RedisError

    _QUEUE_ERRORS = (*_QUEUE_ERRORS, RedisError)
except ImportError:  # pragma: no cover - redis is pinned in requirements.txt
    pass


async def invoke(user, invocation: Invocation) -> InvocationJob:
    """Mint the run's identity, record it, and queue it; raises RunsUnavailable (503) on outages."""
    try:
        conversation = await sync_to_async(conversation_for_session)(user, invocation.session_name)
        job = InvocationJob(
            run_id=str(uuid.uuid4()),
            invocation_id=str(uuid.uuid4()),
            input_event_id=invocation.input_event_id,
            session_name=invocation.session_name,
            conversation_id=str(conversation.pk),
            owner_client_id=client_id_for(user),
        )
        await sync_to_async(records.create_run)(conversation, user, job.run_id, job.invocation_id)
    except DatabaseError as exc:
        log.error("invoke: database unavailable: %s", exc)
        raise RunsUnavailable("The database is unavailable.") from exc
    try:
        async with asyncio.timeout(QUEUE_TIMEOUT_SECONDS):
            await get_channel_layer().send(AGENT_CHANNEL, job.to_message())
    except _QUEUE_ERRORS as exc:
        log.error("invoke: could not queue run %s: %s", job.run_id, exc)
        await _fail_unqueued(job.run_id)
        raise RunsUnavailable("The agent's job queue is unavailable.") from exc
    return job


async def _fail_unqueued(run_id: str) -> None:
    end = records.RunEnd(wire.REASON_ERROR, error_code=ERROR_NEVER_CLAIMED, error_message=NOT_QUEUED_MESSAGE)
    try:
        await retry_db(lambda: sync_to_async(records.record_end)(run_id, end), f"failing run {run_id}", 2.0)
    except DatabaseError:
        log.exception("run %s left open; the reaper will end it as never claimed", run_id)
