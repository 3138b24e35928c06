"""Ends runs nobody is running any more: their worker died, or no worker ever claimed them.

Without this a crashed run stays `active` forever and every client shows it streaming. The
reaper runs in every agent runtime from the moment it starts. For each stale run it first
takes the run over in the database (one conditional update; a second reaper, or a worker that
beat in the meantime, wins nothing), then publishes the missing `ai-run-end` (`error`), then
records the end keeping the streamed text: the channel's own copy of the answer (what
subscribers received), or failing that the text the worker's last heartbeat stored.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.conf import settings

from chat.identity import client_id_for
from chat.models import Run
from chat.runs import records
from chat.runs.errors import (
    ERROR_NEVER_CLAIMED,
    ERROR_WORKER_LOST,
    NEVER_CLAIMED_MESSAGE,
    WORKER_LOST_MESSAGE,
)
from chat.runs.retry import drop_broken_connections
from chat.transport import wire
from chat.transport.channel_writer import ChannelWriter
from chat.transport.envelope import codec_headers, header
from chat.transport.errors import TransportError
from chat.transport.lifecycle import RunIdentity, publish_lifecycle, run_end_headers

if TYPE_CHECKING:
    from chat.agent.runtime import AgentRuntime

log = logging.getLogger(__name__)

HISTORY_PAGE_SIZE = 100
HISTORY_MAX_PAGES = 5


async def reap_once(agent: AgentRuntime) -> list[str]:
    """End every stale run this reaper wins; returns their run ids."""
    stale = await sync_to_async(records.runs_to_reap)(
        timedelta(seconds=settings.AGENT_REAP_AFTER_SECONDS),
        timedelta(seconds=settings.AGENT_CLAIM_TIMEOUT_SECONDS),
    )
    reaped = []
    for run in stale:
        if not await sync_to_async(records.take_over)(run, f"reaper@{agent.worker_id}"):
            continue
        if await _end(agent, run):
            reaped.append(run.run_id)
    return reaped


async def _end(agent: AgentRuntime, run: Run) -> bool:
    if run.claimed_at is None:
        error = TransportError(NEVER_CLAIMED_MESSAGE, ERROR_NEVER_CLAIMED)
    else:
        error = TransportError(WORKER_LOST_MESSAGE, ERROR_WORKER_LOST)
    identity = RunIdentity(
        run.run_id, run.invocation_id, client_id_for(run.owner), run.input_codec_message_id
    )
    channel = agent.pool.clients.realtime.channels.get(run.conversation.channel_name)
    try:
        await publish_lifecycle(
            ChannelWriter(channel), wire.EVENT_RUN_END, identity, run_end_headers(wire.REASON_ERROR, error)
        )
    except TransportError:
        # The take-over refreshed the heartbeat: the run is retried after AGENT_REAP_AFTER_SECONDS.
        log.exception("reaper: could not publish ai-run-end for %s; will retry", run.run_id)
        return False
    text = await _streamed_text(agent, run)
    end = records.RunEnd(wire.REASON_ERROR, text=text, error_code=error.code, error_message=error.message)
    await sync_to_async(records.record_end)(run.run_id, end)
    log.warning("reaper ended run %s: %s (%d characters kept)", run.run_id, error.message, len(text or ""))
    return True


async def _streamed_text(agent: AgentRuntime, run: Run) -> str | None:
    """The run's answer as the channel holds it, else the last heartbeat's snapshot (None: keep)."""
    try:
        from_channel = await _text_from_history(
            agent.pool.clients.rest.channels.get(run.conversation.channel_name), run.run_id
        )
    except Exception:
        log.warning(
            "reaper: history of run %s unreadable; keeping the stored snapshot", run.run_id, exc_info=True
        )
        from_channel = None
    stored = await sync_to_async(records.stored_answer_text)(run.run_id)
    if from_channel is not None and len(from_channel) >= len(stored):
        return from_channel
    return None


async def _text_from_history(channel: Any, run_id: str) -> str | None:
    """Concatenate the run's streamed text outputs from recent history (one entry per message)."""
    texts: list[str] = []
    page = await channel.history(direction="backwards", limit=HISTORY_PAGE_SIZE)
    for _ in range(HISTORY_MAX_PAGES):
        for message in page.items:
            if not _is_text_output_of(message, run_id):
                continue
            texts.append(message.data if isinstance(message.data, str) else "")
        if not page.has_next():
            break
        page = await page.next()
    if not texts:
        return None
    texts.reverse()  # history is newest first
    return "".join(texts)


def _is_text_output_of(message: Any, run_id: str) -> bool:
    extras = message.extras
    return (
        message.name == wire.EVENT_OUTPUT
        and header(extras, wire.HEADER_RUN_ID) == run_id
        and header(extras, wire.HEADER_STREAM) == wire.TRUE
        and codec_headers(extras).get(wire.CODEC_KIND) == "text"
    )


async def reap_forever(agent: AgentRuntime) -> None:
    while True:
        try:
            await reap_once(agent)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reaper sweep failed")
            await drop_broken_connections()
        await asyncio.sleep(settings.AGENT_REAP_INTERVAL_SECONDS)
