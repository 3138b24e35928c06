"""Channel modes limit what a connection does on a channel it attached, beyond its capability.

A client that attached with, say, only SUBSCRIBE may not publish or enter presence there (40160),
as with Ably; on a channel it never attached only the capability applies (ably-js publishes without
attaching).
"""

from __future__ import annotations

from broker.errors import AblyError, ErrorCode
from broker.realtime.registry import ConnectionState
from broker.wire import Flag


def require_mode(state: ConnectionState, channel: str, mode: Flag) -> None:
    attachment = state.attachments.get(channel)
    if attachment is not None and attachment.live and not attachment.modes & mode:
        raise AblyError(
            ErrorCode.CAPABILITY_DENIED, 401, f"Channel mode {mode.name} was not granted on this attachment"
        )
