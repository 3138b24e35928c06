"""Ably errors as the broker reports them, on the wire and over REST.

One exception type carries Ably's (code, statusCode, message) triple so every layer can
raise it and the realtime and REST edges can render it the way the SDKs expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

HELP_HREF = "https://help.ably.io/error/{code}"


@dataclass
class AblyError(Exception):
    code: int
    status_code: int
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def to_dict(self) -> dict:
        """ErrorInfo as both SDKs parse it (ably-python requires message, statusCode, code)."""
        return {
            "code": self.code,
            "statusCode": self.status_code,
            "message": self.message,
            "href": HELP_HREF.format(code=self.code),
        }


class ErrorCode(IntEnum):
    """Every Ably error code the broker sends (ably-protocol.md §13; titles from ably-common)."""

    BAD_REQUEST = 40000
    INVALID_BODY = 40001
    INVALID_PARAMETER = 40003
    INVALID_CREDENTIAL_FORMAT = 40005
    INVALID_CONNECTION_ID = 40006
    MESSAGE_TOO_LARGE = 40009
    INVALID_CHANNEL_NAME = 40010
    INVALID_CLIENT_ID = 40012
    INVALID_DATA = 40013
    AUTHENTICATION_FAILED = 40101
    INCOMPATIBLE_CREDENTIALS = 40102
    TIMESTAMP_NOT_CURRENT = 40104
    NONCE_REPLAYED = 40105
    TOKEN_ERROR = 40140
    TOKEN_REVOKED = 40141
    TOKEN_EXPIRED = 40142
    TOKEN_UNRECOGNISED = 40143
    INVALID_JWT = 40144
    CAPABILITY_DENIED = 40160
    FORBIDDEN = 40300
    NOT_FOUND = 40400
    METHOD_NOT_ALLOWED = 40500
    RATE_LIMIT_EXCEEDED = 42911
    RATE_LIMIT_EXCEEDED_FATAL = 42921
    INTERNAL = 50000
    CONNECTION_DISCONNECTED = 80003
    CONNECTION_NOT_RESUMABLE = 80008
    INVALID_CONNECTION_KEY = 80018
    CONTINUITY_LOST = 90003
    PRESENCE_WITHOUT_CLIENT_ID = 91000
