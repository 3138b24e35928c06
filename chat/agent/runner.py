"""Runs one invocation end to end: locate, authorise, stream the model, persist, always end.

Every exit path publishes exactly one `ai-run-end` and records the same outcome in the
database: completion, cancel, provider error, unexpected exception, or worker shutdown
(the pool ends open runs). If the process dies instead, the reaper ends the run.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings

from chat.agent import records
from chat.agent.chunks import ui_message_chunks
from chat.agent.jobs import InvocationJob
from chat.agent.pool import SessionPool
from chat.agent.prompt import build_turns
from chat.agent.providers import LLMProvider, Usage
from chat.transport import wire
from chat.transport.errors import TransportError
from chat.transport.run import AgentRun, CancelRequest, Invocation, RunHooks

log = logging.getLogger(__name__)

ERROR_NOT_INPUT_OWNER = 40300


@dataclass
class _Tally:
    usage: Usage | None = None


def may_cancel(owner_client_id: str):
    """`on_cancel`: the run's owner or an active staff user, judged by the broker-verified clientId."""

    async def decide(request: CancelRequest) -> bool:
        if request.client_id and request.client_id == owner_client_id:
            return True
        return await sync_to_async(records.client_is_staff)(request.client_id)

    return decide


async def run_invocation(job: InvocationJob, pool: SessionPool, provider: LLMProvider) -> None:
    session = await pool.acquire(job.session_name)
    run = session.create_run(
        Invocation(job.input_event_id, job.session_name),
        run_id=job.run_id,
        invocation_id=job.invocation_id,
        hooks=RunHooks(on_cancel=may_cancel(job.owner_client_id)),
    )
    heartbeat = asyncio.ensure_future(_heartbeat(job.run_id))
    tally = _Tally()
    try:
        await _execute(run, job, provider, tally)
    except asyncio.CancelledError:
        await _finish(run, wire.REASON_CANCELLED, None, None, tally)
        raise
    except TransportError as exc:
        await _finish(run, wire.REASON_ERROR, None, exc, tally)
    except Exception as exc:
        log.exception("run %s failed", job.run_id)
        await _finish(
            run, wire.REASON_ERROR, None, TransportError(f"agent failure: {exc}", wire.ERROR_INTERNAL), tally
        )
    finally:
        heartbeat.cancel()
        await pool.release(job.session_name)


async def _execute(run: AgentRun, job: InvocationJob, provider: LLMProvider, tally: _Tally) -> None:
    located = await run.start(locate_timeout=settings.AGENT_LOCATE_TIMEOUT_SECONDS)
    if located.client_id != job.owner_client_id:
        # The invocation names an input someone else published: run nothing for it.
        error = TransportError("the input was not published by the invoking user", ERROR_NOT_INPUT_OWNER, 403)
        await _finish(run, wire.REASON_ERROR, None, error, tally)
        return
    answer_id = str(uuid.uuid4())
    await sync_to_async(records.record_input)(
        job.run_id, located.codec_message_id, located.text, answer_id, f"{provider.name}/{provider.model}"
    )
    turns = await sync_to_async(build_turns)(job.conversation_id, job.run_id, located.text)

    def keep_usage(usage: Usage) -> None:
        tally.usage = usage

    chunks = ui_message_chunks(provider.stream(turns), keep_usage)
    outcome = await run.pipe(chunks, codec_message_id=answer_id)
    await _finish(run, outcome.reason, outcome.text, outcome.error, tally)


async def _finish(
    run: AgentRun, reason: str, text: str | None, error: TransportError | None, tally: _Tally
) -> None:
    """Publish the run end (once) and record it; the database is written even if publishing fails."""
    try:
        await run.end(reason, error)
    except TransportError:
        log.exception("run %s: could not publish ai-run-end", run.run_id)
    usage = tally.usage
    await sync_to_async(records.record_end)(
        run.run_id,
        reason,
        text=text,
        error_code=error.code if error else None,
        error_message=error.message if error else "",
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
    )


async def _heartbeat(run_id: str) -> None:
    while True:
        await asyncio.sleep(settings.AGENT_HEARTBEAT_SECONDS)
        try:
            await sync_to_async(records.beat)([run_id])
        except Exception:
            log.exception("heartbeat for run %s failed", run_id)
