"""Broker authentication: keys, tokens, JWTs, capabilities and client identities (ably-protocol.md §6)."""

from broker.auth.authenticate import authenticate_realtime, authenticate_rest
from broker.auth.capability import Capability
from broker.auth.credentials import Credentials, resolve_client_id
from broker.auth.token_requests import exchange_token_request

__all__ = [
    "Capability",
    "Credentials",
    "authenticate_realtime",
    "authenticate_rest",
    "exchange_token_request",
    "resolve_client_id",
]
