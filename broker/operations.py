"""Who a mutation's `version` names: the operation's own clientId when it gives one (MessageOperation).

Ably reports in `version.clientId` the clientId the update/delete/append operation declared, falling
back to the caller's identity. Declaring someone else is only allowed to credentials that may act
as anyone (an API key, a wildcard token); otherwise it is refused with 40012, as a publish would be.
"""

from __future__ import annotations

from broker.auth import Credentials
from broker.errors import AblyError, ErrorCode
from broker.wire import F_CLIENT_ID, F_VERSION


def check_operation_client_id(message: dict, credentials: Credentials, client_id: str | None) -> None:
    operation = message.get(F_VERSION)
    declared = operation.get(F_CLIENT_ID) if isinstance(operation, dict) else None
    if declared is None or declared == client_id:
        return
    if not isinstance(declared, str) or declared == "*" or not credentials.may_assume_any_client_id:
        raise AblyError(
            ErrorCode.INVALID_CLIENT_ID, 400, f"Invalid operation clientId {declared!r} for these credentials"
        )
