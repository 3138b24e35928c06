"""Who is talking to the broker, as established by a key, a token or a JWT."""

from __future__ import annotations

from dataclasses import dataclass

from broker.auth.capability import Capability
from broker.errors import AblyError, ErrorCode

WILDCARD_CLIENT_ID = "*"


@dataclass(frozen=True)
class Credentials:
    """Verified credentials of one connection or REST request.

    `client_id`: None = anonymous (may not claim an identity), "*" = may assume any identity (API key
    auth, wildcard tokens), anything else = this identity is enforced.
    """

    key_name: str
    client_id: str | None
    capability: Capability
    expires_ms: int | None
    token: str | None

    @property
    def may_assume_any_client_id(self) -> bool:
        return self.client_id == WILDCARD_CLIENT_ID


def resolve_client_id(credentials: Credentials, requested: str | None) -> str | None:
    """The identity a connection (or REST request) acts as, given the clientId it asked for.

    Returns None for an unidentified connection. A request for another identity than the token's
    is refused with 40102, as Ably does; an anonymous token cannot claim one either (see Q-P7).
    """
    if not requested:
        return None if credentials.client_id in (None, WILDCARD_CLIENT_ID) else credentials.client_id
    if requested == WILDCARD_CLIENT_ID:
        raise AblyError(ErrorCode.INVALID_CLIENT_ID, 400, "Invalid clientId: a client may not be called '*'")
    if credentials.may_assume_any_client_id or credentials.client_id == requested:
        return requested
    raise AblyError(
        ErrorCode.INCOMPATIBLE_CREDENTIALS,
        401,
        f"Invalid clientId {requested!r} for credentials (token clientId is {credentials.client_id!r})",
    )


def connection_details_client_id(credentials: Credentials, client_id: str | None) -> str | None:
    """connectionDetails.clientId: the identity, or "*" for a wildcard token that named none.

    ably-js adopts this value as `auth.clientId`, so a wildcard token must read back as "*"; a key
    (Basic) connection without a clientId stays unidentified, as with Ably.
    """
    if client_id is None and credentials.token is not None and credentials.may_assume_any_client_id:
        return WILDCARD_CLIENT_ID
    return client_id
