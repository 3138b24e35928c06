"""Request bodies in, responses out: JSON or msgpack, plain or in ably-js's browser envelope.

The store keeps data canonical (`str` or `bytes`); JSON cannot carry bytes, so at this edge bytes
become base64 with a `base64` encoding token (RSL4) and the reverse on the way in.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import msgpack
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from broker.errors import AblyError, ErrorCode
from broker.inbound_limits import check_value, encodable, invalid_body, parse_json, parse_msgpack
from broker.wire import BASE64_ENCODING, F_DATA, F_ENCODING

JSON_TYPE = "application/json"
MSGPACK_TYPE = "application/x-msgpack"
ENVELOPE_PARAM = "envelope"
ENCODING_SEPARATOR = "/"
MAX_ERROR_HEADER_LENGTH = 500


def _text_where_possible(value: Any) -> Any:
    """ably-python packs REST bodies with use_bin_type=False, so text arrives as raw bytes: decode it."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    if isinstance(value, list):
        return [_text_where_possible(item) for item in value]
    if isinstance(value, dict):
        return {_text_where_possible(key): _text_where_possible(item) for key, item in value.items()}
    return value


def is_msgpack_request(request: HttpRequest) -> bool:
    return request.content_type == MSGPACK_TYPE


def read_body(request: HttpRequest) -> Any:
    """The decoded request body, within `broker.inbound_limits`; empty, undecodable or beyond: 40001.

    Every REST view reads its body here, so this is the one place a body is checked before use.
    """
    try:
        raw = request.body
    except RequestDataTooBig:
        raise AblyError(ErrorCode.MESSAGE_TOO_LARGE, 413, "Request body is too large") from None
    if not raw:
        raise AblyError(ErrorCode.INVALID_BODY, 400, "Request body is empty")
    if is_msgpack_request(request):
        try:
            body = parse_msgpack(raw)
        except UnicodeDecodeError:
            try:
                body = _text_where_possible(parse_msgpack(raw, raw_strings=True))
            except RecursionError:
                raise invalid_body("nested too deeply") from None
    else:
        body = parse_json(raw)
    check_value(body)
    return body


def _split_last_token(encoding: Any) -> tuple[str | None, str | None]:
    if not encoding or not isinstance(encoding, str):
        return None, None
    head, _, last = encoding.rpartition(ENCODING_SEPARATOR)
    return head or None, last


def canonical_message(message: Any) -> Any:
    """A JSON-transported message with base64 data turned back into bytes (others pass unchanged)."""
    if not isinstance(message, dict):
        return message
    residual, last = _split_last_token(message.get(F_ENCODING))
    if last != BASE64_ENCODING or not isinstance(message.get(F_DATA), str):
        return message
    try:
        data = base64.b64decode(message[F_DATA], validate=True)
    except binascii.Error:
        raise AblyError(ErrorCode.INVALID_DATA, 400, "Message data is not valid base64") from None
    return {**message, F_DATA: data, F_ENCODING: residual}


def json_message(message: dict) -> dict:
    """A stored message ready for JSON: bytes data base64-encoded, with the encoding token added."""
    data = message.get(F_DATA)
    if not isinstance(data, bytes):
        return message
    encoding = message.get(F_ENCODING)
    return {
        **message,
        F_DATA: base64.b64encode(data).decode("ascii"),
        F_ENCODING: f"{encoding}{ENCODING_SEPARATOR}{BASE64_ENCODING}" if encoding else BASE64_ENCODING,
    }


def wants_envelope(request: HttpRequest) -> bool:
    return request.GET.get(ENVELOPE_PARAM) == "json"


def wants_msgpack(request: HttpRequest) -> bool:
    return not wants_envelope(request) and MSGPACK_TYPE in request.headers.get("Accept", "")


def _encode(body: Any, *, binary: bool) -> tuple[bytes, str]:
    try:
        return _encode_as_is(body, binary=binary)
    except (UnicodeEncodeError, OverflowError, TypeError, ValueError):
        # Only an answer quoting client input can get here (inbound bodies are checked).
        return _encode_as_is(encodable(body), binary=binary)


def _encode_as_is(body: Any, *, binary: bool) -> tuple[bytes, str]:
    if binary:
        return msgpack.packb(body, use_bin_type=True), MSGPACK_TYPE
    return json.dumps(body, separators=(",", ":")).encode(), JSON_TYPE


def respond(
    request: HttpRequest,
    body: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    messages: bool = False,
) -> HttpResponse:
    """Render `body` the way the caller asked for; `messages=True` marks a message or message list."""
    headers = headers or {}
    binary = wants_msgpack(request)
    if messages and not binary:
        body = [json_message(m) for m in body] if isinstance(body, list) else json_message(body)
    if wants_envelope(request):
        envelope = {
            "statusCode": status,
            "response": body,
            "headers": {name.lower(): value for name, value in headers.items()},
        }
        content, content_type = _encode(envelope, binary=False)
        return HttpResponse(content, status=200, content_type=content_type)
    content, content_type = _encode(body, binary=binary)
    response = HttpResponse(content, status=status, content_type=content_type)
    for name, value in headers.items():
        response[name] = value
    return response


def _header_safe(text: str) -> str:
    """HTTP header values are one line of latin-1; error messages may quote arbitrary client input."""
    printable = "".join(char if char.isprintable() else " " for char in text)
    return printable.encode("ascii", "backslashreplace").decode("ascii")[:MAX_ERROR_HEADER_LENGTH]


def error_headers(error: AblyError) -> dict[str, str]:
    return {"X-Ably-ErrorCode": str(error.code), "X-Ably-ErrorMessage": _header_safe(error.message)}


def respond_error(request: HttpRequest, error: AblyError) -> HttpResponse:
    return respond(
        request, {"error": error.to_dict()}, status=error.status_code, headers=error_headers(error)
    )
