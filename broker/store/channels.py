"""Channel names the store accepts."""

from __future__ import annotations

from broker.errors import AblyError, ErrorCode

MAX_CHANNEL_NAME_LENGTH = 2048


def check_channel_name(name: object) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_CHANNEL_NAME_LENGTH:
        raise AblyError(ErrorCode.INVALID_CHANNEL_NAME, 400, f"Invalid channel name {name!r}")
    return name
