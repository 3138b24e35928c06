"""One agent run: locate the trigger, announce it, stream the answer, end it exactly once.

Cancellation is cooperative but prompt: `pipe` races the output stream against the run's
abort signal, and on abort cancels the task that is pulling from the model, which closes
the upstream request (the provider's async generator is closed in the middle of its await).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chat.transport import wire
from chat.transport.envelope import build_extras
from chat.transport.errors import TransportError
from chat.transport.lifecycle import RunIdentity, publish_lifecycle, run_end_headers
from chat.transport.locator import LocatedInput
from chat.transport.stream_encoder import StreamEncoder
from chat.transport.vercel_codec import VercelChunkWriter

if TYPE_CHECKING:
    from chat.transport.session import AgentSession

log = logging.getLogger(__name__)

ChunkWriter = Callable[[dict], Awaitable[None]]


@dataclass(frozen=True)
class Invocation:
    """The HTTP invocation body (§c.7): which input event, on which session channel."""

    input_event_id: str
    session_name: str

    @classmethod
    def from_json(cls, data: dict) -> Invocation:
        event_id, session = data.get("inputEventId"), data.get("sessionName")
        if not isinstance(event_id, str) or not event_id or not isinstance(session, str) or not session:
            raise TransportError(
                "invocation needs non-empty inputEventId and sessionName", wire.ERROR_INVALID_ARGUMENT, 400
            )
        return cls(event_id, session)


@dataclass(frozen=True)
class CancelRequest:
    """A cancel aimed at a run; `message.client_id` was verified by the broker."""

    message: Any
    run_id: str

    @property
    def client_id(self) -> str | None:
        return self.message.client_id


@dataclass
class RunHooks:
    on_cancel: Callable[[CancelRequest], Awaitable[bool] | bool] | None = None
    on_cancelled: Callable[[ChunkWriter], Awaitable[None]] | None = None
    on_error: Callable[[TransportError], Any] | None = None


@dataclass(frozen=True)
class PipeOutcome:
    reason: str  # complete | cancelled | error
    text: str
    codec_message_id: str
    error: TransportError | None = None


@dataclass
class _Step:
    step_id: str
    start_serial: str


@dataclass
class AgentRun:
    session: AgentSession
    invocation: Invocation
    run_id: str
    invocation_id: str
    hooks: RunHooks = field(default_factory=RunHooks)
    abort_signal: asyncio.Event = field(default_factory=asyncio.Event)
    status: str = "pending"
    located: LocatedInput | None = None
    cancelled_by: str | None = None
    _step: _Step | None = None
    _ended: bool = False

    @property
    def input_codec_message_id(self) -> str:
        return self.located.codec_message_id if self.located else ""

    @property
    def owner_client_id(self) -> str:
        return (self.located.client_id or "") if self.located else ""

    async def start(self, locate_timeout: float = 10.0) -> LocatedInput:
        """Find the trigger, pick up cancels that were waiting for it, publish `ai-run-start`.

        A run cancelled before this point still announces itself, so every client sees it
        start and then end `cancelled` (its `pipe` returns at once).
        """
        self.located = await self.session.locate(self.invocation.input_event_id, locate_timeout)
        waiting = self.session.router.bind_input(self, self.located.codec_message_id)
        for cancel in [*self.located.earlier_cancels, *([waiting] if waiting is not None else [])]:
            await self.request_cancel(cancel)
        await self._publish_lifecycle(
            wire.EVENT_RUN_START, {wire.HEADER_PARENT: self.located.codec_message_id}
        )
        self.status = "active"
        return self.located

    async def request_cancel(self, message: Any) -> bool:
        """Ask `on_cancel`; abort once if allowed. Refusals and hook failures leave the run running."""
        if self._ended:
            return False
        request = CancelRequest(message, self.run_id)
        try:
            allowed = True
            if self.hooks.on_cancel is not None:
                verdict = self.hooks.on_cancel(request)
                allowed = bool(await verdict if inspect.isawaitable(verdict) else verdict)
        except Exception as exc:
            log.exception("on_cancel failed for run %s", self.run_id)
            await self._report(TransportError(f"cancel handler failed: {exc}", wire.ERROR_CANCEL_LISTENER))
            return False
        if not allowed:
            log.info("run %s: cancel from %r refused", self.run_id, request.client_id)
            return False
        if not self.abort_signal.is_set():
            self.cancelled_by = request.client_id
            self.abort_signal.set()
        return True

    def abort(self) -> None:
        self.abort_signal.set()

    async def pipe(self, chunks: AsyncIterator[dict], codec_message_id: str | None = None) -> PipeOutcome:
        """Stream UIMessageChunks as one assistant message; returns how it ended (does not end the run)."""
        codec_message_id = codec_message_id or str(uuid.uuid4())
        encoder = StreamEncoder(
            self.session.writer, self._output_headers(codec_message_id), self.session.append_window_ms
        )
        chunk_writer = VercelChunkWriter(encoder, codec_message_id)

        async def write(chunk: dict) -> None:
            await self._ensure_step(encoder)
            await chunk_writer.write(chunk)

        try:
            failure = await self._write_until_aborted(chunks, write)
        finally:
            await _close_quietly(chunks)
        if failure is not None:
            return await self._fail(encoder, codec_message_id, failure)

        if self.abort_signal.is_set():
            if self.hooks.on_cancelled is not None:
                try:
                    await self.hooks.on_cancelled(write)
                except Exception:
                    log.exception("on_cancelled failed for run %s", self.run_id)
            await encoder.cancel_streams()
            await self._end_step(wire.STEP_CANCELLED)
            return PipeOutcome(wire.REASON_CANCELLED, encoder.text, codec_message_id)
        await self._end_step(wire.STEP_COMPLETE)
        return PipeOutcome(wire.REASON_COMPLETE, encoder.text, codec_message_id)

    async def _write_until_aborted(self, chunks: AsyncIterator[dict], write: ChunkWriter) -> Exception | None:
        """Write chunks until they run out or the run is aborted; returns the error that stopped them.

        An abort interrupts the wait for the model, never a write under way: a stream create or a
        step start cut off before its serial came back could never be closed or ended. A run
        aborted before its first output publishes none, not even a step (as the JS SDK's pipe).
        """
        if self.abort_signal.is_set():
            return None
        in_flight: list[asyncio.Future] = []

        async def consume() -> None:
            async for chunk in chunks:
                in_flight[:] = [asyncio.ensure_future(write(chunk))]
                await asyncio.shield(in_flight[0])

        consumer = asyncio.ensure_future(consume())
        aborted = asyncio.ensure_future(self.abort_signal.wait())
        try:
            await asyncio.wait({consumer, aborted}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            aborted.cancel()
        if not consumer.done():
            consumer.cancel()
        try:
            await consumer
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            return exc
        try:
            for write_task in in_flight:
                await write_task
        except Exception as exc:
            return exc
        return None

    async def end(self, reason: str, error: TransportError | None = None) -> bool:
        """Publish `ai-run-end` once; later calls do nothing. Returns whether this call ended it."""
        if self._ended:
            return False
        self._ended = True
        self.session.router.unregister(self)
        if self._step is not None:
            await self._end_step(wire.STEP_CANCELLED if reason == wire.REASON_CANCELLED else wire.STEP_FAILED)
        self.status = reason
        await self._publish_lifecycle(wire.EVENT_RUN_END, run_end_headers(reason, error))
        return True

    @property
    def ended(self) -> bool:
        return self._ended

    async def _fail(self, encoder: StreamEncoder, codec_message_id: str, exc: Exception) -> PipeOutcome:
        error = _as_transport_error(exc)
        log.warning("run %s: output stream failed: %s", self.run_id, error)
        try:
            await encoder.cancel_streams()
        except Exception:
            log.exception("run %s: could not close streams after failure", self.run_id)
        await self._end_step(wire.STEP_FAILED)
        return PipeOutcome(wire.REASON_ERROR, encoder.text, codec_message_id, error)

    @property
    def identity(self) -> RunIdentity:
        return RunIdentity(self.run_id, self.invocation_id, self.owner_client_id, self.input_codec_message_id)

    def _output_headers(self, codec_message_id: str) -> dict[str, str]:
        return {
            wire.HEADER_ROLE: wire.ROLE_ASSISTANT,
            **self.identity.headers(),
            wire.HEADER_CODEC_MESSAGE_ID: codec_message_id,
            wire.HEADER_PARENT: self.input_codec_message_id,
        }

    async def _ensure_step(self, encoder: StreamEncoder) -> None:
        """The implicit step opens at the first output; its start serial goes on every output."""
        if self._step is not None:
            return
        step_id = str(uuid.uuid4())
        headers = {
            **self.identity.headers(),
            wire.HEADER_STEP_ID: step_id,
            wire.HEADER_STEP_CLIENT_ID: self.owner_client_id,
        }
        serial = await self.session.writer.publish(wire.EVENT_STEP_START, None, build_extras(headers))
        self._step = _Step(step_id, serial)
        encoder.add_headers(
            {
                wire.HEADER_STEP_ID: step_id,
                wire.HEADER_STEP_CLIENT_ID: self.owner_client_id,
                wire.HEADER_STEP_START_SERIAL: serial,
            }
        )

    async def _end_step(self, reason: str) -> None:
        step, self._step = self._step, None
        if step is None:
            return
        headers = {
            **self.identity.headers(),
            wire.HEADER_STEP_ID: step.step_id,
            wire.HEADER_STEP_START_SERIAL: step.start_serial,
            wire.HEADER_STEP_REASON: reason,
            wire.HEADER_STEP_CLIENT_ID: self.owner_client_id,
        }
        await self.session.writer.publish(wire.EVENT_STEP_END, None, build_extras(headers))

    async def _publish_lifecycle(self, name: str, extra: dict[str, str]) -> None:
        await publish_lifecycle(self.session.writer, name, self.identity, extra)

    async def _report(self, error: TransportError) -> None:
        if self.hooks.on_error is None:
            return
        result = self.hooks.on_error(error)
        if inspect.isawaitable(result):
            await result


def _as_transport_error(exc: Exception) -> TransportError:
    """Keep a provider's own code and message; anything else is a 104008 stream error."""
    if isinstance(exc, TransportError):
        return exc
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(code, int):
        return TransportError(message, code)
    return TransportError(message, wire.ERROR_STREAM)


async def _close_quietly(chunks: AsyncIterator[dict]) -> None:
    closer = getattr(chunks, "aclose", None)
    if closer is None:
        return
    try:
        await closer()
    except Exception:
        log.debug("closing the output iterator raised", exc_info=True)
