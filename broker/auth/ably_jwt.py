"""Ably JWTs (HS256, `kid` = key name) accepted wherever a token is (ably-protocol.md §6.6).

They let an app server hand out tokens without a round trip to the broker; the broker checks the
signature with the named key's secret.
"""

from __future__ import annotations

import jwt

from broker.auth.capability import Capability
from broker.auth.credentials import Credentials
from broker.auth.keys import find_key
from broker.errors import AblyError, ErrorCode

CLAIM_CAPABILITY = "x-ably-capability"
CLAIM_CLIENT_ID = "x-ably-clientId"
ALGORITHMS = ["HS256"]
JWT_PREFIX = "eyJ"  # base64url of '{"'


def _invalid(detail: str) -> AblyError:
    return AblyError(ErrorCode.INVALID_JWT, 401, f"Invalid JWT: {detail}")


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith(JWT_PREFIX)


def authenticate_jwt(token: str) -> Credentials:
    try:
        key_name = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError:
        raise _invalid("malformed header") from None
    key = find_key(key_name) if isinstance(key_name, str) else None
    if key is None:
        raise _invalid("kid does not name a key of this broker")
    try:
        claims = jwt.decode(token, key.secret, algorithms=ALGORITHMS, options={"require": ["exp"]})
    except jwt.ExpiredSignatureError:
        raise AblyError(ErrorCode.TOKEN_EXPIRED, 401, "Token expired") from None
    except jwt.InvalidTokenError as error:
        raise _invalid(str(error)) from None
    capability_text = claims.get(CLAIM_CAPABILITY)
    capability = key.capability if capability_text is None else Capability.parse(str(capability_text))
    client_id = claims.get(CLAIM_CLIENT_ID)
    return Credentials(
        key_name=key.name,
        client_id=str(client_id) if client_id else None,
        capability=capability.narrowed_by(key.capability),
        expires_ms=int(claims["exp"] * 1000),
        token=token,
    )
