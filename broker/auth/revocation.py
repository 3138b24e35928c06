"""Token revocation (POST /keys/{keyName}/revokeTokens): revoke a key's tokens by target.

Targets are "type:value"; this broker supports `clientId` (its tokens store no revocation key and
no channel list, so `revocationKey` and `channel` targets get a per-target 40000 failure). A revoked
token is refused with 40141 from `appliesAt` on: now, or 30 s later with `allowReauthMargin`, which
gives clients time to renew first. Connections still using one are then sent DISCONNECTED 40141,
which makes the SDK fetch a new token and resume.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from broker.auth.tokens import token_hash
from broker.clock import now_ms
from broker.errors import AblyError, ErrorCode
from broker.models import IssuedToken

TARGET_SEPARATOR = ":"
CLIENT_ID_TARGET = "clientId"
REAUTH_MARGIN_MS = 30_000


@dataclass(frozen=True)
class Revocation:
    applies_at_ms: int
    issued_before_ms: int
    token_hashes: frozenset[str]


def _target_error(target: object, detail: str) -> dict:
    error = AblyError(ErrorCode.BAD_REQUEST, 400, f"Invalid revocation target {target!r}: {detail}")
    return {"target": target, "error": error.to_dict()}


def revoke(
    key_name: str, targets: list, *, issued_before_ms: int | None, allow_reauth_margin: bool
) -> tuple[list[dict], Revocation]:
    """Per-target results (Ably's BatchResult items) and what was revoked."""
    now = now_ms()
    issued_before = now if issued_before_ms is None else issued_before_ms
    applies_at = now + (REAUTH_MARGIN_MS if allow_reauth_margin else 0)
    applies_at_time = dt.datetime.fromtimestamp(applies_at / 1000, tz=dt.UTC)
    results: list[dict] = []
    hashes: set[str] = set()
    for target in targets:
        kind, separator, value = str(target).partition(TARGET_SEPARATOR)
        if not isinstance(target, str) or not separator or not value:
            results.append(_target_error(target, 'expected "type:value"'))
            continue
        if kind != CLIENT_ID_TARGET:
            results.append(_target_error(target, f"only {CLIENT_ID_TARGET} targets are supported"))
            continue
        tokens = IssuedToken.objects.filter(
            key_name=key_name, client_id=value, issued_ms__lte=issued_before, revoked_at__isnull=True
        )
        hashes.update(tokens.values_list("token_hash", flat=True))
        tokens.update(revoked_at=applies_at_time)
        results.append({"target": target, "appliesAt": applies_at, "issuedBefore": issued_before})
    return results, Revocation(applies_at, issued_before, frozenset(hashes))


def is_revoked(token: str, revoked_hashes: frozenset[str]) -> bool:
    return token_hash(token) in revoked_hashes
