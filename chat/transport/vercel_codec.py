"""Vercel AI SDK `UIMessageChunk`s to `ai-output` messages (§c.6), so the official Vercel
codec of @ably/ai-transport decodes what our agent writes.

Codec-tier headers are `kind` plus the chunk's declared fields, all as strings (booleans
"true"/"false", objects as JSON), exactly as the JavaScript codec writes them.
"""

from __future__ import annotations

import json
from typing import Any

from chat.transport import wire
from chat.transport.errors import TransportError
from chat.transport.stream_encoder import StreamEncoder

# Streamed groups: chunk type -> (group kind, role in the group, id field, delta field).
_STREAM_CHUNKS = {
    "text-start": ("text", "start", "id", None),
    "text-delta": ("text", "delta", "id", "delta"),
    "text-end": ("text", "end", "id", None),
    "reasoning-start": ("reasoning", "start", "id", None),
    "reasoning-delta": ("reasoning", "delta", "id", "delta"),
    "reasoning-end": ("reasoning", "end", "id", None),
    "tool-input-start": ("tool-input", "start", "toolCallId", None),
    "tool-input-delta": ("tool-input", "delta", "toolCallId", "inputTextDelta"),
}
_STREAM_FIELDS = {
    "text": ("id", "providerMetadata"),
    "reasoning": ("id", "providerMetadata"),
    "tool-input": ("toolCallId", "toolName", "dynamic", "title", "providerExecuted", "providerMetadata"),
}
# Discrete chunks: type -> (codec fields, how the wire data is built from the chunk).
_DISCRETE_CHUNKS: dict[str, tuple[tuple[str, ...], Any]] = {
    "start": (("messageId", "messageMetadata"), lambda c: ""),
    "start-step": ((), lambda c: ""),
    "finish-step": ((), lambda c: ""),
    "finish": (("finishReason", "messageMetadata"), lambda c: ""),
    "message-metadata": (("messageMetadata",), lambda c: ""),
    "error": ((), lambda c: c.get("errorText", "")),
    "abort": ((), lambda c: c.get("reason") or ""),
    "file": (("mediaType", "providerMetadata"), lambda c: c.get("url", "")),
    "source-url": (("sourceId", "title", "providerMetadata"), lambda c: c.get("url", "")),
    "source-document": (("sourceId", "mediaType", "title", "filename", "providerMetadata"), lambda c: ""),
    "tool-input-error": (
        ("toolCallId", "toolName", "dynamic", "title", "providerExecuted", "providerMetadata"),
        lambda c: {"errorText": c.get("errorText"), "input": c.get("input")},
    ),
    "tool-output-available": (
        ("toolCallId", "dynamic", "providerExecuted", "preliminary"),
        lambda c: {"output": c.get("output")},
    ),
    "tool-output-error": (
        ("toolCallId", "dynamic", "providerExecuted"),
        lambda c: {"errorText": c.get("errorText")},
    ),
    "tool-approval-request": (("toolCallId", "approvalId"), lambda c: ""),
    "tool-output-denied": (("toolCallId",), lambda c: ""),
}


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return wire.TRUE if value else wire.FALSE
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def codec_headers(kind: str, chunk: dict, fields: tuple[str, ...]) -> dict[str, str]:
    headers = {wire.CODEC_KIND: kind}
    for name in fields:
        if chunk.get(name) is not None:
            headers[name] = _header_value(chunk[name])
    return headers


class VercelChunkWriter:
    """Feeds UIMessageChunks for one assistant message into a StreamEncoder."""

    def __init__(self, encoder: StreamEncoder, message_id: str) -> None:
        self.encoder = encoder
        self.message_id = message_id

    async def write(self, chunk: dict) -> None:
        chunk_type = chunk.get("type", "")
        if chunk_type in _STREAM_CHUNKS:
            await self._write_stream_chunk(chunk_type, chunk)
        elif chunk_type == "tool-input-available":
            await self._write_tool_input_available(chunk)
        elif chunk_type in _DISCRETE_CHUNKS:
            fields, data = _DISCRETE_CHUNKS[chunk_type]
            if chunk_type == "start" and not chunk.get("messageId"):
                chunk = {**chunk, "messageId": self.message_id}
            await self.encoder.publish_discrete(codec_headers(chunk_type, chunk, fields), data(chunk))
        elif chunk_type.startswith("data-"):
            headers = codec_headers(chunk_type, chunk, ("id", "transient"))
            await self.encoder.publish_discrete(
                headers, chunk.get("data"), ephemeral=bool(chunk.get("transient"))
            )
        else:
            raise TransportError(
                f"unsupported UIMessageChunk type {chunk_type!r}", wire.ERROR_INVALID_ARGUMENT, 400
            )

    async def _write_stream_chunk(self, chunk_type: str, chunk: dict) -> None:
        kind, role, id_field, delta_field = _STREAM_CHUNKS[chunk_type]
        stream_id = str(chunk.get(id_field, ""))
        if role == "start":
            await self.encoder.start_stream(stream_id, codec_headers(kind, chunk, _STREAM_FIELDS[kind]))
        elif role == "delta":
            self.encoder.append(stream_id, str(chunk.get(delta_field, "")))
        else:
            overrides = codec_headers(kind, chunk, ("providerMetadata",))
            await self.encoder.close_stream(stream_id, overrides)

    async def _write_tool_input_available(self, chunk: dict) -> None:
        stream_id = str(chunk.get("toolCallId", ""))
        if self.encoder.has_open_stream(stream_id):
            overrides = codec_headers("tool-input", chunk, ("toolCallId", "toolName", "providerMetadata"))
            await self.encoder.close_stream(stream_id, overrides)
            return
        headers = codec_headers("tool-input", chunk, _STREAM_FIELDS["tool-input"])
        await self.encoder.publish_discrete(headers, chunk.get("input"))
