"""Wire field names and message-action numbers the store reads and writes (ably-protocol.md §5)."""

from __future__ import annotations

from broker.realtime.protocol import (
    F_ACTION,
    F_CLIENT_ID,
    F_CONNECTION_ID,
    F_DATA,
    F_ENCODING,
    F_EXTRAS,
    F_ID,
    F_NAME,
    F_SERIAL,
    F_TIMESTAMP,
    F_VERSION,
    MessageAction,
)

F_DESCRIPTION = "description"
F_METADATA = "metadata"

__all__ = [
    "F_ACTION",
    "F_CLIENT_ID",
    "F_CONNECTION_ID",
    "F_DATA",
    "F_DESCRIPTION",
    "F_ENCODING",
    "F_EXTRAS",
    "F_ID",
    "F_METADATA",
    "F_NAME",
    "F_SERIAL",
    "F_TIMESTAMP",
    "F_VERSION",
    "MessageAction",
]
