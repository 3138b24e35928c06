"""Streamed and discrete `ai-output` messages for one assistant message (§c.4 encoder core).

A stream is one Ably message grown by appends. Appends are pipelined: each is started at
once and only awaited when the stream closes, so a slow acknowledgement never throttles the
model. Every append repeats the full headers, because an append replaces `extras`. If any
append failed, one update with the full accumulated text repairs the message.

Appends are coalesced over a short window (`append_window_ms`): the first delta on a quiet stream
goes out at once, later ones within the window travel together when it closes. A fast model then
costs one append per window instead of one per token (on Ably every append is a billed message).
The closing append carries whatever is still held, so ending or stopping a stream never waits for a
window and the text subscribers end with is exactly `text`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from chat.transport import wire
from chat.transport.channel_writer import ChannelWriter
from chat.transport.envelope import build_extras
from chat.transport.errors import TransportError

log = logging.getLogger(__name__)


@dataclass
class _Stream:
    stream_id: str
    serial: str
    transport: dict[str, str]
    codec: dict[str, str]
    accumulated: str = ""
    completed: bool = False
    cancelled: bool = False
    pending: list[asyncio.Task] = field(default_factory=list)
    held: str = ""
    window: asyncio.TimerHandle | None = None


class StreamEncoder:
    """Writes the outputs of one assistant message (one `codec-message-id`)."""

    def __init__(self, writer: ChannelWriter, headers: dict[str, str], append_window_ms: float = 0) -> None:
        self._writer = writer
        self._headers = headers
        self._window_s = max(append_window_ms, 0) / 1000
        self._streams: dict[str, _Stream] = {}

    @property
    def text(self) -> str:
        """Text published so far on `text` streams, in stream order (what a reader saw)."""
        return "".join(
            s.accumulated for s in self._streams.values() if s.codec.get(wire.CODEC_KIND) == "text"
        )

    def add_headers(self, headers: dict[str, str]) -> None:
        """Headers for every later output (the step headers, once the step has started)."""
        self._headers.update(headers)

    def has_open_stream(self, stream_id: str) -> bool:
        stream = self._streams.get(stream_id)
        return stream is not None and not (stream.completed or stream.cancelled)

    async def start_stream(self, stream_id: str, codec: dict[str, str], data: str = "") -> None:
        transport = {
            **self._headers,
            wire.HEADER_STREAM: wire.TRUE,
            wire.HEADER_STATUS: wire.STATUS_STREAMING,
            wire.HEADER_STREAM_ID: stream_id,
        }
        serial = await self._writer.publish(wire.EVENT_OUTPUT, data, build_extras(transport, codec))
        self._streams[stream_id] = _Stream(stream_id, serial, transport, dict(codec), accumulated=data)

    def append(self, stream_id: str, delta: str) -> None:
        """Queue one delta without waiting for its acknowledgement (coalesced within the window)."""
        stream = self._open(stream_id)
        stream.accumulated += delta
        if not self._window_s:
            self._send_append(stream, delta)
            return
        stream.held += delta
        if stream.window is None:
            self._release_held(stream)

    def _release_held(self, stream: _Stream) -> None:
        """Send what is held, then hold later deltas for one window."""
        stream.window = None
        if not stream.held or stream.completed or stream.cancelled:
            return
        delta, stream.held = stream.held, ""
        self._send_append(stream, delta)
        stream.window = asyncio.get_running_loop().call_later(self._window_s, self._release_held, stream)

    def _send_append(self, stream: _Stream, delta: str) -> None:
        extras = build_extras(stream.transport, stream.codec)
        task = asyncio.ensure_future(self._writer.append(stream.serial, delta, extras, wire.PHASE_STREAMING))
        stream.pending.append(task)

    def _take_held(self, stream: _Stream) -> str:
        if stream.window is not None:
            stream.window.cancel()
            stream.window = None
        held, stream.held = stream.held, ""
        return held

    async def close_stream(self, stream_id: str, codec_overrides: dict[str, str] | None = None) -> None:
        stream = self._open(stream_id)
        stream.completed = True
        await self._terminate(stream, wire.STATUS_COMPLETE, wire.PHASE_DONE, codec_overrides)

    async def cancel_streams(self) -> None:
        """Close every open stream with status `cancelled`; completed streams are left alone."""
        for stream in list(self._streams.values()):
            if stream.completed or stream.cancelled:
                continue
            stream.cancelled = True
            await self._terminate(stream, wire.STATUS_CANCELLED, wire.PHASE_CANCELLED, None)

    async def publish_discrete(self, codec: dict[str, str], data: Any = "", ephemeral: bool = False) -> str:
        transport = {**self._headers, wire.HEADER_STREAM: wire.FALSE}
        extras = build_extras(transport, codec)
        if ephemeral:
            extras["ephemeral"] = True
        return await self._writer.publish(wire.EVENT_OUTPUT, data, extras)

    async def _terminate(
        self, stream: _Stream, status: str, phase: str, codec_overrides: dict[str, str] | None
    ) -> None:
        transport = {**stream.transport, wire.HEADER_STATUS: status}
        codec = {**stream.codec, **(codec_overrides or {})}
        closing = asyncio.ensure_future(
            self._writer.append(stream.serial, self._take_held(stream), build_extras(transport, codec), phase)
        )
        stream.pending.append(closing)
        await self._flush(stream, status, phase)

    async def _flush(self, stream: _Stream, status: str, phase: str) -> None:
        pending, stream.pending = stream.pending, []
        results = await asyncio.gather(*pending, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if not failures:
            return
        log.warning(
            "%d append(s) failed on stream %s; repairing with one update", len(failures), stream.serial
        )
        transport = {**stream.transport, wire.HEADER_STATUS: status}
        try:
            await self._writer.update(
                stream.serial, stream.accumulated, build_extras(transport, stream.codec), phase
            )
        except Exception as exc:
            raise TransportError(
                f"could not repair stream {stream.stream_id} after failed appends: {exc}",
                wire.ERROR_ENCODER_RECOVERY_FAILED,
            ) from exc

    def _open(self, stream_id: str) -> _Stream:
        stream = self._streams.get(stream_id)
        if stream is None or stream.completed or stream.cancelled:
            raise TransportError(f"no open stream {stream_id!r}", wire.ERROR_INVALID_ARGUMENT, 400)
        return stream
