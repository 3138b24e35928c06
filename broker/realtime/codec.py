"""Frame codec: one ProtocolMessage per WebSocket frame, JSON text or msgpack binary (§3.2).

Inbound bytes data in JSON frames arrives base64-encoded with a `base64` encoding token; the codec
turns it back into bytes so the store only ever sees canonical data (bytes or str plus the
residual encoding). Outbound, the reverse happens for JSON connections; msgpack connections carry
bytes natively as `bin`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from typing import Any

import msgpack

from broker.errors import AblyError, ErrorCode
from broker.inbound_limits import check_value, encodable, is_utf8_text, parse_json, parse_msgpack
from broker.wire import (
    BASE64_ENCODING,
    F_DATA,
    F_ENCODING,
    F_MESSAGES,
    F_PRESENCE,
    FORMAT_MSGPACK,
)

log = logging.getLogger(__name__)

_PAYLOAD_LISTS = (F_MESSAGES, F_PRESENCE)


def _bad_frame(detail: str) -> AblyError:
    return AblyError(ErrorCode.INVALID_BODY, 400, f"Malformed protocol message: {detail}")


def _split_encoding(encoding: Any) -> tuple[str | None, str | None]:
    """('utf-8/base64') -> ('utf-8', 'base64'): the residual encoding and its last token.

    A non-text encoding is left for `broker.realtime.inbound` to refuse with its field name.
    """
    if not encoding or not isinstance(encoding, str):
        return None, None
    head, _, last = encoding.rpartition("/")
    return (head or None), last


def _decode_base64_payload(item: dict) -> None:
    residual, last = _split_encoding(item.get(F_ENCODING))
    if last != BASE64_ENCODING or not isinstance(item.get(F_DATA), str):
        return
    try:
        item[F_DATA] = base64.b64decode(item[F_DATA], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AblyError(ErrorCode.INVALID_DATA, 400, "Message data is not valid base64") from exc
    item[F_ENCODING] = residual


def _encode_base64_payload(item: dict) -> dict:
    data = item.get(F_DATA)
    if not isinstance(data, (bytes, bytearray)):
        return item
    encoding = item.get(F_ENCODING)
    return {
        **item,
        F_DATA: base64.b64encode(bytes(data)).decode("ascii"),
        F_ENCODING: f"{encoding}/{BASE64_ENCODING}" if encoding else BASE64_ENCODING,
    }


def _without_nulls(value: Any) -> Any:
    """Omit null fields: both SDKs accept either, and omitting keeps frames small (§3.2)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@dataclass(frozen=True)
class FrameCodec:
    """Encoder/decoder for one connection's negotiated format (`format=msgpack` or JSON)."""

    binary: bool

    @classmethod
    def for_format(cls, fmt: str | None) -> FrameCodec:
        return cls(binary=fmt == FORMAT_MSGPACK)

    def parse(self, *, text: str | None = None, data: bytes | None = None) -> dict:
        """Parse one inbound frame: a text frame is JSON, a binary one msgpack, whatever was negotiated.

        Only the parse: a frame that cannot be read at all is fatal (40001), so nothing else here.
        """
        if text is not None:
            frame = parse_json(text)
        elif data is not None:
            try:
                frame = parse_msgpack(data)
            except UnicodeDecodeError:
                raise _bad_frame("text is not valid UTF-8") from None
        else:
            raise _bad_frame("empty frame")
        if not isinstance(frame, dict):
            raise _bad_frame("a frame must be an object")
        return frame

    def check(self, frame: dict, *, is_json: bool) -> None:
        """Bound the parsed frame (`broker.inbound_limits`), then turn JSON base64 data into bytes.

        Separate from `parse` so that a readable ACK-required frame with a bad value inside can be
        NACKed (the connection carries on) rather than failing the connection.
        """
        check_value(frame)
        if is_json:
            for field in _PAYLOAD_LISTS:
                items = frame.get(field)
                if isinstance(items, list):
                    for item in items:
                        if isinstance(item, dict):
                            _decode_base64_payload(item)

    def decode(self, *, text: str | None = None, data: bytes | None = None) -> dict:
        """`parse` then `check`: the frame as the channel operations may use it."""
        frame = self.parse(text=text, data=data)
        self.check(frame, is_json=text is not None)
        return frame

    def encode(self, frame: dict) -> str | bytes:
        """Serialise an outbound ProtocolMessage for this connection; always writable to the socket.

        Inbound checks keep unencodable text out, but an outbound frame may still quote something a
        client sent (an error message, a channel name): rather than a frame the socket cannot write,
        such text goes out with U+FFFD in place of what cannot be encoded.
        """
        try:
            return self._encode(frame)
        except (UnicodeEncodeError, OverflowError, TypeError, ValueError) as exc:
            log.warning("outbound frame not encodable as is (%s); sent with replacements", type(exc).__name__)
            return self._encode(encodable(frame))

    def _encode(self, frame: dict) -> str | bytes:
        frame = _without_nulls(frame)
        if self.binary:
            return msgpack.packb(frame, use_bin_type=True)
        for field in _PAYLOAD_LISTS:
            items = frame.get(field)
            if isinstance(items, list):
                frame[field] = [_encode_base64_payload(item) for item in items]
        text = json.dumps(frame, separators=(",", ":"), ensure_ascii=False, default=_json_fallback)
        if not is_utf8_text(text):
            raise UnicodeEncodeError("utf-8", text, 0, len(text), "lone surrogate")
        return text


def _json_fallback(value: Any) -> Any:
    """Bytes nested outside `data` (e.g. in extras from a msgpack publisher) travel as base64 text."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
