"""Reading who is calling and what they address from a REST request."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_plus

from django.http import HttpRequest

from broker.auth import Credentials, authenticate_rest, resolve_client_id
from broker.errors import AblyError, ErrorCode

CLIENT_ID_HEADER = "X-Ably-ClientId"


@dataclass(frozen=True)
class Caller:
    credentials: Credentials
    client_id: str | None


def _header_client_id(request: HttpRequest) -> str | None:
    encoded = request.headers.get(CLIENT_ID_HEADER)
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AblyError(
            ErrorCode.INVALID_CLIENT_ID, 400, f"{CLIENT_ID_HEADER} must be base64 UTF-8"
        ) from None


def authenticate(request: HttpRequest) -> Caller:
    """The caller's credentials (Authorization header) and identity (X-Ably-ClientId for key callers)."""
    credentials = authenticate_rest(request.headers.get("Authorization"))
    return Caller(credentials, resolve_client_id(credentials, _header_client_id(request)))


def require(caller: Caller, channel: str, operation: str) -> None:
    if not caller.credentials.capability.allows(channel, operation):
        raise AblyError(
            ErrorCode.CAPABILITY_DENIED, 401, "Unable to perform channel operation (permission denied)"
        )


def raw_path_segments(request: HttpRequest) -> list[str]:
    """The path's segments as the server received them, still percent-encoded."""
    raw = request.scope.get("raw_path") if hasattr(request, "scope") else None
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.get_full_path()
    return path.split("?", 1)[0].lstrip("/").split("/")


def raw_path_segment(request: HttpRequest, position: int) -> str:
    """One path segment, decoded the way both SDKs encode it (unquote-plus: "+" is a space).

    Django has already percent-decoded `request.path` (turning %2F into "/" and leaving "+"), so the
    segments are taken from the raw path the server received.
    """
    segments = raw_path_segments(request)
    try:
        return unquote_plus(segments[position], errors="strict")
    except (IndexError, UnicodeDecodeError):
        raise AblyError(ErrorCode.BAD_REQUEST, 400, "Malformed request path") from None
