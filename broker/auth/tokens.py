"""Broker-issued tokens: minting them and checking them when they come back.

A token is "<appId>.<random>" (no ":" and no leading "{", which both SDKs require of token strings).
The broker keeps only a hash of it, with the identity and capability it carries; the key's current
capability still applies on every use, so narrowing or revoking a key takes effect at once.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from broker import conf
from broker.auth.capability import Capability
from broker.auth.credentials import Credentials
from broker.auth.keys import Key, find_key
from broker.clock import now_ms
from broker.errors import AblyError, ErrorCode
from broker.models import IssuedToken

TOKEN_RANDOM_BYTES = 30


def token_hash(token: str) -> str:
    """What the database keeps of a token (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _forget_long_expired(now: int) -> None:
    """Drop tokens expired for longer than the nonce window: neither they nor their nonces matter now."""
    IssuedToken.objects.filter(expires_ms__lt=now - 2 * conf.token_request_max_skew_ms()).delete()


def issue_token(
    *, key: Key, client_id: str | None, capability_text: str, ttl_ms: int, nonce: str | None
) -> dict:
    """Mint a token and return its TokenDetails (wire names). A reused nonce is refused with 40105."""
    now = now_ms()
    token = f"{key.app_id}.{secrets.token_urlsafe(TOKEN_RANDOM_BYTES)}"
    try:
        with transaction.atomic():
            IssuedToken.objects.create(
                token_hash=token_hash(token),
                key_name=key.name,
                client_id=client_id or "",
                capability=capability_text,
                nonce=nonce or "",
                issued_ms=now,
                expires_ms=now + ttl_ms,
            )
    except IntegrityError:
        raise AblyError(ErrorCode.NONCE_REPLAYED, 401, "Token request nonce was already used") from None
    _forget_long_expired(now)
    details = {
        "token": token,
        "keyName": key.name,
        "issued": now,
        "expires": now + ttl_ms,
        "capability": capability_text,
    }
    if client_id is not None:
        details["clientId"] = client_id
    return details


def authenticate_token(token: str) -> Credentials:
    """Credentials of a broker-issued token; 4014x (which makes SDKs fetch a new one) if it is unusable."""
    issued = IssuedToken.objects.filter(token_hash=token_hash(token)).first()
    if issued is None:
        # Not 40143: SDKs treat every 4014x as "renew and retry", and a token nobody issued never gets
        # better; Ably answers an unknown token string with 40101, which fails the client at once.
        raise AblyError(ErrorCode.AUTHENTICATION_FAILED, 401, "Token not recognised")
    if issued.revoked_at is not None and issued.revoked_at <= timezone.now():
        raise AblyError(ErrorCode.TOKEN_REVOKED, 401, "Token revoked")
    if issued.expires_ms <= now_ms():
        raise AblyError(ErrorCode.TOKEN_EXPIRED, 401, "Token expired")
    key = find_key(issued.key_name)
    if key is None:
        raise AblyError(ErrorCode.TOKEN_REVOKED, 401, "Token revoked: its key no longer exists")
    return Credentials(
        key_name=key.name,
        client_id=issued.client_id or None,
        capability=Capability.parse(issued.capability).narrowed_by(key.capability),
        expires_ms=issued.expires_ms,
        token=token,
    )
