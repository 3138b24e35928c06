"""StoredEvent, the unit the store hands to realtime, and the blob form message dicts are kept in."""

from __future__ import annotations

from dataclasses import dataclass

import msgpack


@dataclass(frozen=True)
class StoredEvent:
    """One event of a channel's log.

    `delta` is the wire Message a subscriber gets for this event (for an append: only the appended
    data); `full` is the message at its latest rolled-up version after this event. Data is canonical:
    `str` or `bytes` plus the residual `encoding`, never base64 for transport.
    """

    channel: str
    channel_serial: str
    action: int
    message_serial: str
    delta: dict
    full: dict
    # The connection that caused the event, for echo=false (an append's delta names the creator's).
    origin_connection_id: str | None = None


def pack(message: dict) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def unpack(blob: bytes | memoryview) -> dict:
    return msgpack.unpackb(bytes(blob), raw=False)
