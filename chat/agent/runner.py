"""Runs one invocation end to end: claim, locate, authorise, stream the model, persist, always end.

The run is claimed in the database first; a second delivery of the same job finds it claimed
and does nothing. Every exit path then publishes one `ai-run-end` and records the same outcome,
with the text that was streamed: completion, Stop, provider error, unexpected exception, or
the runtime shutting down (runs are aborted and end `error`, text kept). While it streams, the
heartbeat stores the text so far, so if the process dies the reaper ends the run with it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError

from chat.agent.chunks import ui_message_chunks
from chat.agent.prompt import build_turns
from chat.agent.providers import Usage
from chat.runs import records
from chat.runs.ending import record_end_durably
from chat.runs.errors import ERROR_NOT_INPUT_OWNER, ERROR_SHUTTING_DOWN
from chat.runs.jobs import InvocationJob
from chat.runs.retry import drop_broken_connections, retry_db
from chat.transport import wire
from chat.transport.errors import TransportError
from chat.transport.run import AgentRun, CancelRequest, Invocation, RunHooks

if TYPE_CHECKING:
    from chat.agent.runtime import AgentRuntime

log = logging.getLogger(__name__)

PUBLISH_END_TIMEOUT_SECONDS = 10.0


@dataclass
class _Progress:
    """What the run produced so far: streamed text (None before the answer starts) and usage."""

    text: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True)
class _Ending:
    reason: str
    text: str | None
    error: TransportError | None = None


def may_cancel(owner_client_id: str):
    """`on_cancel`: the run's owner or an active staff user, judged by the broker-verified clientId."""

    async def decide(request: CancelRequest) -> bool:
        if request.client_id and request.client_id == owner_client_id:
            return True
        return await sync_to_async(records.client_is_staff)(request.client_id)

    return decide


async def run_invocation(job: InvocationJob, agent: AgentRuntime) -> None:
    claim = sync_to_async(records.claim_run)
    if not await retry_db(lambda: claim(job.run_id, agent.worker_id), f"claiming run {job.run_id}"):
        log.info("run %s already claimed or ended; duplicate delivery ignored", job.run_id)
        return
    try:
        session = await agent.pool.acquire(job.session_name)
    except Exception as exc:
        log.exception("run %s: could not attach to %s", job.run_id, job.session_name)
        end = records.RunEnd(
            wire.REASON_ERROR, error_code=wire.ERROR_SESSION_SUBSCRIPTION, error_message=str(exc)
        )
        await retry_db(
            lambda: sync_to_async(records.record_end)(job.run_id, end), f"failing run {job.run_id}"
        )
        return
    try:
        await _run_claimed(job, agent, session)
    finally:
        await agent.pool.release(job.session_name)


async def _run_claimed(job: InvocationJob, agent: AgentRuntime, session) -> None:
    run = session.create_run(
        Invocation(job.input_event_id, job.session_name),
        run_id=job.run_id,
        invocation_id=job.invocation_id,
        hooks=RunHooks(on_cancel=may_cancel(job.owner_client_id)),
    )
    progress = _Progress()
    helpers = [
        asyncio.ensure_future(_heartbeat(job.run_id, progress)),
        asyncio.ensure_future(_abort_on_shutdown(run, agent)),
    ]
    cancelled = False
    try:
        ending = await _execute(run, job, agent, progress)
    except asyncio.CancelledError:
        cancelled = True
        ending = _Ending(wire.REASON_ERROR, progress.text, _shutdown_error(agent))
    except TransportError as exc:
        ending = _Ending(wire.REASON_ERROR, progress.text, exc)
    except Exception as exc:
        log.exception("run %s failed", job.run_id)
        error = TransportError(f"agent failure: {exc}", wire.ERROR_INTERNAL)
        ending = _Ending(wire.REASON_ERROR, progress.text, error)
    finally:
        for helper in helpers:
            helper.cancel()
    await _finish(run, ending, progress)
    if cancelled:
        raise asyncio.CancelledError


async def _execute(run: AgentRun, job: InvocationJob, agent: AgentRuntime, progress: _Progress) -> _Ending:
    located = await run.start(locate_timeout=settings.AGENT_LOCATE_TIMEOUT_SECONDS)
    if located.client_id != job.owner_client_id:
        # The invocation names an input someone else published: run nothing for it.
        error = TransportError("the input was not published by the invoking user", ERROR_NOT_INPUT_OWNER, 403)
        return _Ending(wire.REASON_ERROR, None, error)
    provider = agent.provider
    answer_id = str(uuid.uuid4())
    record_input = sync_to_async(records.record_input)
    model = f"{provider.name}/{provider.model}"
    await retry_db(
        lambda: record_input(job.run_id, located.codec_message_id, located.text, answer_id, model),
        f"recording the input of run {job.run_id}",
    )
    turns = await sync_to_async(build_turns)(job.conversation_id, job.run_id, located.text)

    def keep_usage(usage: Usage) -> None:
        progress.usage = usage

    progress.text = ""
    chunks = _tracking_text(ui_message_chunks(provider.stream(turns), keep_usage), progress)
    outcome = await run.pipe(chunks, codec_message_id=answer_id)
    if outcome.reason == wire.REASON_CANCELLED and agent.stopping.is_set() and run.cancelled_by is None:
        return _Ending(wire.REASON_ERROR, outcome.text, _shutdown_error(agent))
    return _Ending(outcome.reason, outcome.text, outcome.error)


async def _tracking_text(chunks: AsyncIterator[dict], progress: _Progress) -> AsyncIterator[dict]:
    """Pass chunks on, keeping the text handed to the encoder (what the heartbeat snapshots)."""
    async for chunk in chunks:
        if chunk.get("type") == "text-delta":
            progress.text = (progress.text or "") + chunk.get("delta", "")
        yield chunk


async def _finish(run: AgentRun, ending: _Ending, progress: _Progress) -> None:
    """Publish the run end (once), then record it; the record is retried and never drops text.

    Recording happens exactly once per run, whatever publishing did. If the database stays
    unreachable past the retry budget, the row keeps its last snapshot and stays open: the
    reaper ends it later, from another process if need be, with that text.
    """
    interrupted = False
    try:
        async with asyncio.timeout(PUBLISH_END_TIMEOUT_SECONDS):
            await run.end(ending.reason, ending.error)
    except (TransportError, TimeoutError):
        log.exception("run %s: could not publish ai-run-end", run.run_id)
    except asyncio.CancelledError:
        interrupted = True  # still record the end below, then let the cancellation through
        log.warning("run %s: publishing ai-run-end was interrupted", run.run_id)
    usage = progress.usage
    end = records.RunEnd(
        reason=ending.reason,
        text=ending.text,
        error_code=ending.error.code if ending.error else None,
        error_message=ending.error.message if ending.error else "",
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
    )
    recording = asyncio.ensure_future(record_end_durably(run.run_id, end))
    try:
        await asyncio.shield(recording)
    except asyncio.CancelledError:
        await recording
        raise
    if interrupted:
        raise asyncio.CancelledError


def _shutdown_error(agent: AgentRuntime) -> TransportError:
    return TransportError(agent.stop_message, ERROR_SHUTTING_DOWN)


async def _abort_on_shutdown(run: AgentRun, agent: AgentRuntime) -> None:
    await agent.stopping.wait()
    run.abort()


async def _heartbeat(run_id: str, progress: _Progress) -> None:
    beat = sync_to_async(records.beat)
    while True:
        await asyncio.sleep(settings.AGENT_HEARTBEAT_SECONDS)
        try:
            await beat({run_id: progress.text})
        except DatabaseError:
            log.exception("heartbeat for run %s failed", run_id)
            await drop_broken_connections()
