"""Which channel names Ably accepts, so a bad one fails that channel (40010), never the connection.

Ably refuses an empty name, a name starting with ":" (the namespace separator cannot open a name:
":hell", "::"), and a leading "[" that is not a closed qualifier followed by a name ("[meta]x").
The check is one function shared by realtime ATTACH and the REST channel paths.
"""

from __future__ import annotations

from broker.errors import AblyError, ErrorCode

MAX_CHANNEL_NAME_LENGTH = 2048
NAMESPACE_SEPARATOR = ":"
QUALIFIER_OPEN, QUALIFIER_CLOSE = "[", "]"


def invalid_channel_name(name: object) -> AblyError:
    return AblyError(ErrorCode.INVALID_CHANNEL_NAME, 400, f"Invalid channel name: {name!r}")


def _base_name(name: str) -> str:
    """The name without a leading "[qualifier]"; a qualifier that never closes leaves nothing."""
    if not name.startswith(QUALIFIER_OPEN):
        return name
    closing = name.find(QUALIFIER_CLOSE)
    return "" if closing < 0 else name[closing + 1 :]


def check_channel_name(name: object) -> str:
    """The name if Ably would accept it; AblyError 40010 otherwise."""
    if not isinstance(name, str) or len(name) > MAX_CHANNEL_NAME_LENGTH:
        raise invalid_channel_name(name)
    base = _base_name(name)
    if not base or base.startswith(NAMESPACE_SEPARATOR):
        raise invalid_channel_name(name)
    return name
