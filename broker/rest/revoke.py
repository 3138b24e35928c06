"""POST /keys/{keyName}/revokeTokens: Ably's token revocation, authenticated with that very key.

The revocation itself is `broker.auth.revocation`; this edge checks the caller, renders Ably's
BatchResult and tells the event loop to disconnect connections that still use a revoked token.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse

from broker.auth.revocation import Revocation, is_revoked, revoke
from broker.clock import now_ms
from broker.errors import AblyError, ErrorCode
from broker.realtime.registry import registry
from broker.rest.endpoint import ably_endpoint
from broker.rest.requests import authenticate, raw_path_segment
from broker.rest.wire import read_body, respond

KEY_NAME_SEGMENT = 1  # /keys/<keyName>/revokeTokens


def _revoked_error() -> AblyError:
    return AblyError(ErrorCode.TOKEN_REVOKED, 401, "Token revoked")


async def _disconnect_revoked(revocation: Revocation) -> None:
    """At `appliesAt`, drop each live connection whose token was revoked (runs on the event loop)."""
    if not revocation.token_hashes:
        return

    def drop() -> None:
        for state in registry.live_states():
            token = state.credentials.token
            if token and is_revoked(token, revocation.token_hashes):
                state.transport.drop_for_token_error(_revoked_error())

    delay_s = max(revocation.applies_at_ms - now_ms(), 0) / 1000
    asyncio.get_running_loop().call_later(delay_s, drop)


@ably_endpoint("POST")
def revoke_tokens(request: HttpRequest) -> HttpResponse:
    key_name = raw_path_segment(request, KEY_NAME_SEGMENT)
    credentials = authenticate(request).credentials
    if credentials.token is not None or credentials.key_name != key_name:
        raise AblyError(
            ErrorCode.AUTHENTICATION_FAILED, 401, "Revoking tokens needs Basic auth with the issuing key"
        )
    body = read_body(request)
    targets = body.get("targets") if isinstance(body, dict) else None
    if not isinstance(targets, list) or not targets:
        raise AblyError(ErrorCode.INVALID_BODY, 400, 'The body needs "targets", a non-empty list')
    issued_before = body.get("issuedBefore")
    if issued_before is not None and (not isinstance(issued_before, int) or isinstance(issued_before, bool)):
        raise AblyError(ErrorCode.INVALID_PARAMETER, 400, "issuedBefore must be a timestamp in ms")
    results, revocation = revoke(
        key_name,
        targets,
        issued_before_ms=issued_before,
        allow_reauth_margin=bool(body.get("allowReauthMargin", False)),
    )
    async_to_sync(_disconnect_revoked)(revocation)
    failures = sum(1 for result in results if "error" in result)
    return respond(
        request,
        {"successCount": len(results) - failures, "failureCount": failures, "results": results},
    )
