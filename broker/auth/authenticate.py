"""Turning what a client presents (key, token, JWT, Authorization header) into Credentials."""

from __future__ import annotations

import base64
import binascii

from broker.auth.ably_jwt import authenticate_jwt, looks_like_jwt
from broker.auth.credentials import WILDCARD_CLIENT_ID, Credentials
from broker.auth.keys import verify_key_string
from broker.auth.tokens import authenticate_token
from broker.errors import AblyError, ErrorCode

BASIC_SCHEME = "basic"
BEARER_SCHEME = "bearer"


def _no_credentials() -> AblyError:
    return AblyError(ErrorCode.AUTHENTICATION_FAILED, 401, "No authentication credentials (key or token)")


def authenticate_key(key: str) -> Credentials:
    """API-key (Basic) auth: the key's full capability, and any identity may be assumed."""
    found = verify_key_string(key)
    return Credentials(
        key_name=found.name,
        client_id=WILDCARD_CLIENT_ID,
        capability=found.capability,
        expires_ms=None,
        token=None,
    )


def authenticate_access_token(token: str) -> Credentials:
    """A broker-issued token or an Ably JWT."""
    if looks_like_jwt(token):
        return authenticate_jwt(token)
    return authenticate_token(token)


def authenticate_realtime(*, key: str | None, access_token: str | None) -> Credentials:
    """Credentials from the WebSocket connect params (`key`, `access_token`/`accessToken`)."""
    if access_token:
        return authenticate_access_token(access_token)
    if key:
        return authenticate_key(key)
    raise _no_credentials()


def _decode_base64_text(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def authenticate_rest(authorization_header: str | None) -> Credentials:
    """Credentials from a REST Authorization header: Basic key, or Bearer base64(token) (raw also taken)."""
    if not authorization_header:
        raise _no_credentials()
    scheme, _, value = authorization_header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == BASIC_SCHEME:
        key = _decode_base64_text(value)
        if key is None:
            raise AblyError(ErrorCode.AUTHENTICATION_FAILED, 401, "Basic credentials are not a base64 key")
        return authenticate_key(key)
    if scheme.lower() == BEARER_SCHEME and value:
        return authenticate_access_token(_decode_base64_text(value) or value)
    raise AblyError(ErrorCode.INVALID_CREDENTIAL_FORMAT, 400, "Unsupported Authorization scheme")
