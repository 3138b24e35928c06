"""TokenRequest signatures, computed exactly as both SDKs compute them (ably-protocol.md §6.2).

The mac covers the fields as received; `capability` in particular is verified byte for byte,
because ably-js and ably-python serialise the same capability differently.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

SIGNED_FIELDS = ("keyName", "ttl", "capability", "clientId", "timestamp", "nonce")


def _canonical(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def signing_text(token_request: dict) -> str:
    return "".join(_canonical(token_request.get(field)) + "\n" for field in SIGNED_FIELDS)


def mac_for(token_request: dict, secret: str) -> str:
    digest = hmac.new(secret.encode(), signing_text(token_request).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def has_valid_mac(token_request: dict, secret: str) -> bool:
    mac = token_request.get("mac")
    return isinstance(mac, str) and hmac.compare_digest(mac_for(token_request, secret), mac)
