"""Typed reads of inbound ProtocolMessage fields.

A client (or anything that opens a socket) may send any JSON/msgpack value. By the time a reader
runs, the frame has passed `broker.inbound_limits.check_value` (depth, size, encodable text,
64-bit integers). Each reader checks one field's type and raises AblyError with the code Ably
uses, so the consumer can answer with an ERROR or NACK instead of tripping over a wrong type deep
inside the store. Message fields are checked by the same function REST uses.
"""

from __future__ import annotations

import json
from typing import Any

from broker.errors import AblyError, ErrorCode
from broker.inbound_limits import check_message_fields
from broker.wire import (
    F_ACCESS_TOKEN,
    F_ACTION,
    F_AUTH,
    F_CHANNEL,
    F_CHANNEL_SERIAL,
    F_DATA,
    F_ENCODING,
    F_FLAGS,
    F_MESSAGES,
    F_MSG_SERIAL,
    F_PARAMS,
    F_PRESENCE,
)

_MAX_CHANNEL_NAME = 2048


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _invalid(field: str, expected: str, code: int = ErrorCode.BAD_REQUEST) -> AblyError:
    return AblyError(code, 400, f"Invalid protocol message: {field} must be {expected}")


def read_action(frame: dict) -> int:
    action = frame.get(F_ACTION)
    if not _is_int(action):
        raise _invalid(F_ACTION, "an integer")
    return action


def read_msg_serial(frame: dict) -> int:
    msg_serial = frame.get(F_MSG_SERIAL)
    if not _is_int(msg_serial) or msg_serial < 0:
        raise _invalid(F_MSG_SERIAL, "a non-negative integer")
    return msg_serial


def read_channel(frame: dict) -> str:
    channel = frame.get(F_CHANNEL)
    if not isinstance(channel, str) or not channel or len(channel) > _MAX_CHANNEL_NAME:
        raise _invalid(F_CHANNEL, "a non-empty string", ErrorCode.INVALID_CHANNEL_NAME)
    return channel


def read_channel_serial(frame: dict) -> str | None:
    serial = frame.get(F_CHANNEL_SERIAL)
    if serial is None or serial == "":
        return None
    if not isinstance(serial, str):
        raise _invalid(F_CHANNEL_SERIAL, "a string", ErrorCode.INVALID_PARAMETER)
    return serial


def read_flags(frame: dict) -> int:
    flags = frame.get(F_FLAGS)
    if flags is None:
        return 0
    if not _is_int(flags) or flags < 0:
        raise _invalid(F_FLAGS, "a non-negative integer", ErrorCode.INVALID_PARAMETER)
    return flags


def read_params(frame: dict) -> dict[str, str]:
    """Channel params: a string map; ably-python sends `null` when there are none."""
    params = frame.get(F_PARAMS)
    if params is None:
        return {}
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise _invalid(F_PARAMS, "an object", ErrorCode.INVALID_PARAMETER)
    return {k: str(v) for k, v in params.items() if v is not None}


def read_access_token(frame: dict) -> str:
    auth = frame.get(F_AUTH)
    token = auth.get(F_ACCESS_TOKEN) if isinstance(auth, dict) else None
    if not isinstance(token, str) or not token:
        raise _invalid(f"{F_AUTH}.{F_ACCESS_TOKEN}", "a non-empty string")
    return token


def _normalise_data(item: dict) -> None:
    data = item.get(F_DATA)
    if data is None or isinstance(data, (str, bytes)):
        return
    if isinstance(data, (dict, list)):
        # A raw JSON client may send structured data; store it the way the SDKs would have encoded it.
        item[F_DATA] = json.dumps(data, separators=(",", ":"))
        encoding = item.get(F_ENCODING)
        item[F_ENCODING] = f"{encoding}/json" if encoding else "json"
        return
    raise _invalid(F_DATA, "a string, binary, object or array", ErrorCode.INVALID_DATA)


def _read_items(frame: dict, field: str) -> list[dict]:
    items = frame.get(field)
    if not isinstance(items, list) or not items:
        raise _invalid(field, "a non-empty array")
    for item in items:
        if not isinstance(item, dict):
            raise _invalid(f"{field}[]", "objects")
        check_message_fields(item, f"{field}[]")
        _normalise_data(item)
    return items


def read_messages(frame: dict) -> list[dict]:
    return _read_items(frame, F_MESSAGES)


def read_presence(frame: dict) -> list[dict]:
    return _read_items(frame, F_PRESENCE)
