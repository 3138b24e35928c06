"""Checking inbound messages and building the stored (wire) form of a message and its versions.

Inbound messages come from any client, so every field is type-checked here and a bad one becomes
a clear Ably error instead of a broken row. Data stays canonical: `str` or `bytes` plus encoding.
"""

from __future__ import annotations

import json
from typing import Any

from broker.errors import AblyError, ErrorCode
from broker.wire import (
    F_ACTION,
    F_CLIENT_ID,
    F_CONNECTION_ID,
    F_DATA,
    F_DESCRIPTION,
    F_ENCODING,
    F_EXTRAS,
    F_ID,
    F_METADATA,
    F_NAME,
    F_SERIAL,
    F_TIMESTAMP,
    F_VERSION,
    MessageAction,
)

_TEXT_FIELDS = (F_ID, F_NAME, F_CLIENT_ID, F_ENCODING)
# What a later version may replace; omitted or null fields keep their value (shallow mixin).
MIXIN_FIELDS = (F_NAME, F_DATA, F_ENCODING, F_EXTRAS)


def _bad(detail: str, code: int = ErrorCode.BAD_REQUEST) -> AblyError:
    return AblyError(code, 400, f"Invalid message: {detail}")


def _utf8_length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    return len(json.dumps(value, default=str).encode())


def message_size(message: Any) -> int:
    """Ably's size accounting (ably-js): name + clientId + JSON of extras + data bytes."""
    if not isinstance(message, dict):
        return _utf8_length(message)
    extras = message.get(F_EXTRAS)
    return (
        _utf8_length(message.get(F_NAME))
        + _utf8_length(message.get(F_CLIENT_ID))
        + (_utf8_length(extras) if extras is not None else 0)
        + _utf8_length(message.get(F_DATA))
    )


def check_message_size(messages: list[dict], limit: int = 65536) -> None:
    """Refuse a publish whose messages together exceed `limit` bytes (40009)."""
    total = sum(message_size(message) for message in messages)
    if total > limit:
        raise AblyError(
            ErrorCode.MESSAGE_TOO_LARGE, 413, f"Message size {total} bytes exceeds the limit of {limit} bytes"
        )


def check_fields(message: Any) -> dict:
    """The message if every field it carries has a type Ably allows; unknown fields are ignored (Q-J8)."""
    if not isinstance(message, dict):
        raise _bad("each message must be an object", ErrorCode.INVALID_BODY)
    for field in _TEXT_FIELDS:
        if message.get(field) is not None and not isinstance(message[field], str):
            raise _bad(f"{field} must be a string")
    data = message.get(F_DATA)
    if data is not None and not isinstance(data, str | bytes):
        raise _bad("data must be a string or binary (objects are sent JSON-encoded)", ErrorCode.INVALID_DATA)
    for field in (F_EXTRAS, F_VERSION):
        if message.get(field) is not None and not isinstance(message[field], dict):
            raise _bad(f"{field} must be an object")
    return message


def without_nulls(message: dict) -> dict:
    return {field: value for field, value in message.items() if value is not None}


def created_message(
    message: dict, *, serial: str, client_id: str | None, connection_id: str | None, timestamp: int
) -> dict:
    """The stored form of a newly published message."""
    return without_nulls(
        {
            F_ID: message.get(F_ID),
            F_SERIAL: serial,
            F_ACTION: int(MessageAction.CREATE),
            F_NAME: message.get(F_NAME),
            F_DATA: message.get(F_DATA),
            F_ENCODING: message.get(F_ENCODING),
            F_CLIENT_ID: client_id,
            F_CONNECTION_ID: connection_id,
            F_TIMESTAMP: timestamp,
            F_EXTRAS: message.get(F_EXTRAS),
        }
    )


def version_of(operation: Any, *, serial: str, client_id: str | None, timestamp: int) -> dict:
    """The `version` of a mutation: its new serial plus the caller's description and metadata."""
    operation = operation if isinstance(operation, dict) else {}
    description = operation.get(F_DESCRIPTION)
    metadata = operation.get(F_METADATA)
    if description is not None and not isinstance(description, str):
        raise _bad("version.description must be a string")
    if metadata is not None and not isinstance(metadata, dict):
        raise _bad("version.metadata must be an object")
    return without_nulls(
        {
            F_SERIAL: serial,
            F_TIMESTAMP: timestamp,
            F_CLIENT_ID: operation.get(F_CLIENT_ID)
            or client_id,  # declared by the operation (checked before)
            F_DESCRIPTION: description,
            F_METADATA: metadata,
        }
    )


def mixed_in(current: dict, change: dict, *, action: int, version: dict) -> dict:
    """An update or delete: provided name/data/encoding/extras replace the stored ones."""
    updated = dict(current)
    for field in MIXIN_FIELDS:
        if change.get(field) is not None:
            updated[field] = change[field]
    if change.get(F_DATA) is not None and change.get(F_ENCODING) is None:
        updated.pop(F_ENCODING, None)
    updated[F_ACTION] = action
    updated[F_VERSION] = version
    return updated


def appended(current: dict, fragment: dict, *, version: dict) -> dict:
    """The rolled-up message after an append: data concatenated, name/extras replaced if given."""
    existing, addition = current.get(F_DATA), fragment.get(F_DATA)
    mismatched = type(existing) is not type(addition) or current.get(F_ENCODING) != fragment.get(F_ENCODING)
    if existing is not None and addition is not None and mismatched:
        raise _bad(
            "appended data must match the type and encoding of the message's data", ErrorCode.INVALID_DATA
        )
    rolled = dict(current)
    if addition is not None:
        rolled[F_DATA] = addition if existing is None else existing + addition
        if existing is None and fragment.get(F_ENCODING) is not None:
            rolled[F_ENCODING] = fragment[F_ENCODING]
    for field in (F_NAME, F_EXTRAS):
        if fragment.get(field) is not None:
            rolled[field] = fragment[field]
    if rolled.get(F_ACTION) != MessageAction.DELETE:
        rolled[F_ACTION] = int(MessageAction.UPDATE)
    rolled[F_VERSION] = version
    return rolled


def append_delta(rolled: dict, fragment: dict) -> dict:
    """What a subscriber that already holds the message gets for an append: only the new data."""
    delta = {field: rolled.get(field) for field in (F_ID, F_SERIAL, F_NAME, F_CLIENT_ID, F_CONNECTION_ID)}
    delta.update(
        {
            F_ACTION: int(MessageAction.APPEND),
            F_DATA: fragment.get(F_DATA),
            F_ENCODING: fragment.get(F_ENCODING),
            F_TIMESTAMP: rolled.get(F_TIMESTAMP),
            F_EXTRAS: rolled.get(F_EXTRAS),
            F_VERSION: rolled.get(F_VERSION),
        }
    )
    if delta[F_DATA] is None:
        delta[F_DATA] = b"" if isinstance(rolled.get(F_DATA), bytes) else ""
    return without_nulls(delta)
