"""Exchanging a TokenRequest (POST /keys/{keyName}/requestToken) for a token (ably-protocol.md §6.2).

A signed request proves knowledge of the key secret through its mac; an unsigned one (bare token
params) is only accepted from a caller that authenticated with that very key (Basic auth).
"""

from __future__ import annotations

import hashlib
from typing import Any

from broker import conf
from broker.auth.capability import Capability
from broker.auth.credentials import Credentials
from broker.auth.keys import Key, require_key
from broker.auth.signing import has_valid_mac
from broker.auth.tokens import issue_token
from broker.clock import now_ms
from broker.errors import AblyError, ErrorCode
from broker.inbound_limits import non_negative_int

MIN_NONCE_LENGTH = 16
MAX_STORED_NONCE_LENGTH = 256  # IssuedToken.nonce; longer replay keys are stored as their hash


def _bad(detail: str) -> AblyError:
    return AblyError(ErrorCode.INVALID_PARAMETER, 400, f"Invalid token request: {detail}")


def _integer(value: Any, field: str) -> int | None:
    """Numeric fields arrive as numbers (both SDKs) or decimal strings (hand-written requests)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _bad(f"{field} must be an integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return non_negative_int(value, f"token request: {field}")
    raise _bad(f"{field} must be an integer")


def _optional_text(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _bad(f"{field} must be a string")
    return value


def _ttl_ms(request: dict) -> int:
    ttl = _integer(request.get("ttl"), "ttl")
    if ttl is None:
        return conf.default_token_ttl_ms()
    if ttl <= 0 or ttl > conf.max_token_ttl_ms():
        raise _bad(f"ttl must be between 1 and {conf.max_token_ttl_ms()} ms")
    return ttl


def _granted_capability(request: dict, key: Key) -> str:
    """The capability text the token carries: the request intersected with the key's, else the key's own."""
    requested = _optional_text(request.get("capability"), "capability")
    if requested is None:
        return key.capability_text
    granted = Capability.parse(requested).intersection_text(key.capability)
    if granted is None:
        raise AblyError(
            ErrorCode.CAPABILITY_DENIED, 401, "Requested capability is not within the key's capability"
        )
    return granted


def _replay_key(timestamp: int, nonce: str) -> str:
    """What makes a signed request unique: Ably refuses a nonce only when reused with the same timestamp."""
    replay_key = f"{timestamp}:{nonce}"
    if len(replay_key) > MAX_STORED_NONCE_LENGTH:
        replay_key = f"{timestamp}:sha256:{hashlib.sha256(nonce.encode()).hexdigest()}"
    return replay_key


def _check_signature(request: dict, key: Key) -> str:
    """Verify mac, freshness and nonce shape of a signed request; returns its replay key."""
    if not has_valid_mac(request, key.secret):
        raise AblyError(ErrorCode.AUTHENTICATION_FAILED, 401, "Invalid token request signature (mac)")
    timestamp = _integer(request.get("timestamp"), "timestamp")
    if timestamp is None or abs(now_ms() - timestamp) > conf.token_request_max_skew_ms():
        raise AblyError(ErrorCode.TIMESTAMP_NOT_CURRENT, 401, "Token request timestamp not current")
    nonce = _optional_text(request.get("nonce"), "nonce")
    if nonce is None or len(nonce) < MIN_NONCE_LENGTH:
        raise _bad(f"nonce must have at least {MIN_NONCE_LENGTH} characters")
    return _replay_key(timestamp, nonce)


def exchange_token_request(key_name: str, request: Any, *, caller: Credentials | None) -> dict:
    """TokenDetails for a TokenRequest addressed to `key_name`; `caller` is the Basic-auth caller, if any."""
    if not isinstance(request, dict):
        raise AblyError(ErrorCode.INVALID_BODY, 400, "Token request body must be an object")
    if request.get("keyName") not in (None, key_name):
        raise _bad("keyName does not match the key in the URL")
    key = require_key(key_name)
    if request.get("mac") is not None:
        nonce: str | None = _check_signature(request, key)
    elif caller is not None and caller.token is None and caller.key_name == key.name:
        nonce = None
    else:
        raise AblyError(
            ErrorCode.AUTHENTICATION_FAILED, 401, "Unsigned token request needs Basic auth with the same key"
        )
    return issue_token(
        key=key,
        client_id=_optional_text(request.get("clientId"), "clientId"),
        capability_text=_granted_capability(request, key),
        ttl_ms=_ttl_ms(request),
        nonce=nonce,
    )
