"""Bounds on what any client may send, shared by the realtime and REST transports.

Everything the broker parses comes from whoever can reach a socket. Parsing and one walk over the
parsed value happen here, before any field is used, so that no input can reach a place that would
fail later with a 5xx: deep nesting (the JSON parser recurses), text that cannot be encoded as
UTF-8 (lone surrogates: msgpack packing and socket writes fail on it), integers that msgpack cannot
carry (beyond 64 bits), non-finite floats (which JSON subscribers cannot parse) and types no Ably
message has (msgpack extension types, non-text map keys).

The errors never quote the offending value: it may be exactly what cannot be encoded.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import msgpack

from broker.errors import AblyError, ErrorCode
from broker.wire import F_ACTION, F_CLIENT_ID, F_ENCODING, F_EXTRAS, F_ID, F_NAME, F_SERIAL, F_VERSION

# Containers inside containers, counting the frame or body itself. Ably messages need a handful
# (frame > messages > message > extras > headers); 32 leaves room for structured data.
MAX_DEPTH = 32
# Values in one frame or body. Bounds the cost of the walk; an SDK publish carries a few dozen.
MAX_ELEMENTS = 20_000
# msgpack's integer range, which is what the store can keep.
MIN_INT = -(2**63)
MAX_INT = 2**64 - 1
# Integers in query parameters and token requests end up in database columns (signed 64-bit).
MAX_QUERY_INT = 2**63 - 1

_REPLACEMENT = "\ufffd"
_SURROGATES = re.compile("[\ud800-\udfff]")

# Message fields that are text or objects whenever present (null is the same as absent).
TEXT_FIELDS = (F_ID, F_NAME, F_ENCODING, F_CLIENT_ID, F_SERIAL)
OBJECT_FIELDS = (F_EXTRAS, F_VERSION)


def invalid_body(detail: str) -> AblyError:
    return AblyError(ErrorCode.INVALID_BODY, 400, f"Invalid request body: {detail}")


def is_utf8_text(text: str) -> bool:
    """Whether `text` can be written as UTF-8 (i.e. holds no lone surrogate)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_json(raw: str | bytes) -> Any:
    """JSON text to a value, 40001 for anything unparseable (including nesting too deep to parse)."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError, TypeError):
        raise invalid_body("not valid JSON") from None


def parse_msgpack(raw: bytes, *, raw_strings: bool = False) -> Any:
    """msgpack bytes to a value, 40001 for anything unparseable; `raw_strings` keeps str as bytes."""
    try:
        return msgpack.unpackb(raw, raw=raw_strings, strict_map_key=False)
    except UnicodeDecodeError:
        raise
    except (ValueError, TypeError, RecursionError, msgpack.UnpackException):
        raise invalid_body("not valid msgpack") from None


def check_value(value: Any) -> None:
    """Raise 40001 unless `value` stays within the bounds above (iterative: depth costs no stack)."""
    elements = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        elements += 1
        if elements > MAX_ELEMENTS:
            raise invalid_body(f"more than {MAX_ELEMENTS} values")
        if isinstance(item, str):
            if not is_utf8_text(item):
                raise invalid_body("text is not valid Unicode (lone surrogate)")
        elif isinstance(item, bool) or item is None or isinstance(item, bytes):
            continue
        elif isinstance(item, int):
            if not MIN_INT <= item <= MAX_INT:
                raise invalid_body("integer out of the 64-bit range")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise invalid_body("numbers must be finite")
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                raise invalid_body(f"nested deeper than {MAX_DEPTH} levels")
            if isinstance(item, dict):
                for key, member in item.items():
                    if not isinstance(key, str):
                        raise invalid_body("object keys must be text")
                    pending.append((key, depth + 1))
                    pending.append((member, depth + 1))
            else:
                pending.extend((member, depth + 1) for member in item)
        else:
            raise invalid_body(f"unsupported value type {type(item).__name__}")


def check_message_fields(message: Any, where: str) -> dict:
    """The message if its optional fields have the types Ably gives them; 40000 naming the field if not.

    Both transports call it before any field is used (the JSON base64 step reads `encoding`).
    Unknown fields are ignored, as Ably does. `data` is each transport's business: realtime takes
    raw JSON structures, REST only text and binary.
    """
    if not isinstance(message, dict):
        raise AblyError(ErrorCode.INVALID_BODY, 400, f"Invalid message: {where} must be objects")
    for name in TEXT_FIELDS:
        if message.get(name) is not None and not isinstance(message[name], str):
            raise _invalid_field(where, name, "a string")
    for name in OBJECT_FIELDS:
        if message.get(name) is not None and not isinstance(message[name], dict):
            raise _invalid_field(where, name, "an object")
    action = message.get(F_ACTION)
    if action is not None and (not isinstance(action, int) or isinstance(action, bool)):
        raise _invalid_field(where, F_ACTION, "an integer")
    return message


def _invalid_field(where: str, name: str, expected: str) -> AblyError:
    return AblyError(ErrorCode.BAD_REQUEST, 400, f"Invalid message: {where}.{name} must be {expected}")


def non_negative_int(text: str, name: str) -> int:
    """A query parameter or hand-written field as a non-negative integer: ASCII digits only.

    `str.isdigit()` also accepts digits like "³" that `int()` refuses, and `int()` accepts "_" and
    spaces; only what an SDK would send is taken. 40003 otherwise.
    """
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > MAX_QUERY_INT:
        raise AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Invalid {name}: expected a non-negative integer")
    return int(text)


def encodable(value: Any) -> Any:
    """A copy of an outbound `value` that JSON and msgpack can both carry and a socket can write.

    Inbound checks keep unencodable values out; this is for answers that quote what a client sent
    (error messages, names): bad text gets U+FFFD, other values msgpack cannot carry become text.
    """
    if isinstance(value, str):
        if is_utf8_text(value):
            return value
        return _SURROGATES.sub(_REPLACEMENT, value)
    if isinstance(value, dict):
        return {encodable(str(k)): encodable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encodable(v) for v in value]
    if isinstance(value, (bytes, bytearray, bool, type(None))):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int) and MIN_INT <= value <= MAX_INT:
        return value
    return _REPLACEMENT
