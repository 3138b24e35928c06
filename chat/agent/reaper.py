"""Ends runs whose worker stopped heartbeating (crashed, killed, lost its host).

Without this a crashed run stays `active` forever and every client shows it streaming
(the §c.8.3 "stuck UI"). The reaper publishes the missing `ai-run-end` (reason `error`) and
records it, so clients and the database agree the run is over.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings

from chat.agent import records
from chat.agent.pool import SessionPool
from chat.identity import client_id_for
from chat.transport import wire
from chat.transport.channel_writer import ChannelWriter
from chat.transport.errors import TransportError
from chat.transport.lifecycle import RunIdentity, publish_lifecycle, run_end_headers

log = logging.getLogger(__name__)

ERROR_WORKER_LOST = 50003
WORKER_LOST_MESSAGE = "The agent worker stopped while answering; the answer is incomplete."


async def reap_once(pool: SessionPool) -> list[str]:
    """End every stale run; returns their run ids."""
    stale = await sync_to_async(records.stale_runs)(timedelta(seconds=settings.AGENT_REAP_AFTER_SECONDS))
    reaped = []
    for run in stale:
        error = TransportError(WORKER_LOST_MESSAGE, ERROR_WORKER_LOST)
        identity = RunIdentity(
            run.run_id, run.invocation_id, client_id_for(run.owner), run.input_codec_message_id
        )
        channel = pool.clients.realtime.channels.get(run.conversation.channel_name)
        try:
            await publish_lifecycle(
                ChannelWriter(channel),
                wire.EVENT_RUN_END,
                identity,
                run_end_headers(wire.REASON_ERROR, error),
            )
        except TransportError:
            log.exception("reaper: could not publish ai-run-end for %s; will retry", run.run_id)
            continue
        await sync_to_async(records.record_end)(
            run.run_id, wire.REASON_ERROR, error_code=error.code, error_message=error.message
        )
        reaped.append(run.run_id)
        log.warning("reaper ended run %s (worker lost)", run.run_id)
    return reaped


async def reap_forever(pool: SessionPool) -> None:
    while True:
        await asyncio.sleep(settings.AGENT_REAP_INTERVAL_SECONDS)
        try:
            await reap_once(pool)
        except Exception:
            log.exception("reaper sweep failed")
